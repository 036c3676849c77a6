"""CLI: `python -m sandbox up|down|status --dir D [--engines N]` (PYTHONPATH=tests/sandbox)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .procs import SandboxError
from .sandbox import STATE, Sandbox, teardown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--engines", type=int, default=1)
    args = parser.parse_args(argv)
    try:
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


if __name__ == "__main__":
    sys.exit(main())
