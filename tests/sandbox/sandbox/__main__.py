"""CLI: `python -m sandbox up|down|status --dir D [--engines N]` (PYTHONPATH=tests/sandbox).

`python -m sandbox publish --dir D --registry NAME --repo R --tag T [--kind K] [--version V]` pushes a test
image to one registry of a running sandbox and prints the PublishResult as JSON (digest, manifests, configs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .procs import SandboxError
from .sandbox import STATE, Sandbox, teardown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    parser.add_argument("command", choices=("up", "down", "status", "publish"))
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--engines", type=int, default=1)
    publishing = parser.add_argument_group("publish")
    publishing.add_argument("--registry", help="registry name in sandbox.json (anon, basic, bearer, tls)")
    publishing.add_argument("--repo")
    publishing.add_argument("--tag")
    publishing.add_argument("--kind", default="docker", help="docker, oci, docker-list or oci-index")
    publishing.add_argument("--version", default="v1", help="content version; the same version gives the same digest")
    args = parser.parse_args(argv)
    if args.command == "publish":
        missing = [f"--{name}" for name in ("registry", "repo", "tag") if not getattr(args, name)]
        if missing:
            parser.error(f"publish needs {', '.join(missing)}")
    try:
        if args.command == "publish":
            return _publish(args)
        if args.command == "up":
            sandbox = Sandbox.up(args.dir, engines=args.engines)
            print(json.dumps(sandbox.to_dict(), indent=2))
            print(f"sandbox up in {sandbox.started_seconds}s; state in {sandbox.dir / STATE}", file=sys.stderr)
        elif args.command == "down":
            problems = teardown(args.dir.resolve())
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        else:
            if not (args.dir / STATE).exists():
                print(f"no sandbox in {args.dir}", file=sys.stderr)
                return 1
            running = Sandbox.load(args.dir).running()
            print(json.dumps(running, indent=2))
            return 0 if all(running.values()) else 1
    except SandboxError as err:
        print(f"sandbox: {err}", file=sys.stderr)
        return 1
    return 0


def _publish(args: argparse.Namespace) -> int:
    from .images import publish

    if not (args.dir / STATE).exists():
        print(f"no sandbox in {args.dir}", file=sys.stderr)
        return 1
    registries = Sandbox.load(args.dir).registries
    if args.registry not in registries:
        print(f"sandbox: no registry {args.registry!r}; choose one of {sorted(registries)}", file=sys.stderr)
        return 1
    try:
        result = publish(registries[args.registry], args.repo, args.tag, kind=args.kind, version=args.version)
    except ValueError as err:
        print(f"sandbox: {err}", file=sys.stderr)
        return 1
    print(json.dumps({
        "registry": result.registry, "repo": result.repo, "tag": result.tag, "kind": result.kind,
        "ref": result.ref, "digest": result.digest, "media_type": result.media_type,
        "manifests": result.manifests, "configs": result.configs, "attestation": result.attestation,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
