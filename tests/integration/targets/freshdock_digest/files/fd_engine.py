"""Engine chores for the freshdock_digest integration target, always on the sandbox engine.

python fd_engine.py --dir SANDBOX_DIR pull --registry bearer --repo team/api --tag stable
python fd_engine.py --dir SANDBOX_DIR run --name NAME --image REF --label k=v [--label k=v ...]
python fd_engine.py --dir SANDBOX_DIR rm --label k=v
python fd_engine.py --dir SANDBOX_DIR snapshot

Needs PYTHONPATH=tests/sandbox (the sandbox package) and the docker SDK. Prints JSON.
The engine is the one in SANDBOX_DIR/sandbox.json, never DOCKER_HOST or the host's daemon.
"""

from __future__ import annotations

import argparse
import json
import sys

from sandbox.sandbox import Sandbox, pull_image


def _labels(pairs: list) -> dict:
    return dict(pair.split("=", 1) for pair in pairs or ())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    pull = sub.add_parser("pull")
    pull.add_argument("--registry", required=True)
    pull.add_argument("--repo", required=True)
    pull.add_argument("--tag", required=True)
    run = sub.add_parser("run")
    run.add_argument("--name", required=True)
    run.add_argument("--image", required=True)
    run.add_argument("--label", action="append", default=[])
    remove = sub.add_parser("rm")
    remove.add_argument("--label", required=True)
    sub.add_parser("snapshot")
    args = parser.parse_args()

    sandbox = Sandbox.load(args.dir)
    client = sandbox.client(0)
    try:
        if args.command == "pull":
            image = pull_image(client, sandbox.registries[args.registry], args.repo, args.tag)
            out = {"changed": True, "id": image.id, "repo_digests": image.attrs.get("RepoDigests") or []}
        elif args.command == "run":
            container = client.containers.run(args.image, ["sleep", "600"], name=args.name, detach=True,
                                              network_mode="none", init=True, labels=_labels(args.label))
            out = {"changed": True, "id": container.id, "name": container.name}
        elif args.command == "rm":
            removed = []
            for container in client.containers.list(all=True, filters={"label": args.label}):
                container.remove(force=True)
                removed.append(container.name)
            out = {"changed": bool(removed), "removed": sorted(removed)}
        else:
            out = {
                "changed": False,
                "containers": sorted(c["Id"] for c in client.api.containers(all=True)),
                "images": sorted(json.dumps([i["Id"], sorted(i.get("RepoTags") or []), sorted(i.get("RepoDigests") or [])])
                                 for i in client.api.images(all=True)),
            }
    finally:
        client.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
