"""Demo helper for demo/run.sh: publish the demo images, start the demo containers, write the vars file.

    python demo/images.py start  --dir D   # publish v1 of demo/web and demo/api, pull them, run 2 containers
    python demo/images.py update --dir D   # publish v2 of demo/web; republish demo/api changing one other platform
    python demo/images.py vars   --dir D --out FILE   # extra vars for playbooks/demo.yml (mode 0600)

Talks only to the sandbox in D (its private dockerd and its 127.0.0.1 registries), never to the host's
docker daemon. Never prints a password.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

_SANDBOX_PATH = str(Path(__file__).resolve().parents[1] / "tests" / "sandbox")
if _SANDBOX_PATH not in sys.path:
    sys.path.insert(0, _SANDBOX_PATH)

from sandbox.images import publish  # noqa: E402  (needs the sys.path entry above)
from sandbox.sandbox import Sandbox, pull_image  # noqa: E402

LABELS = {"freshdock.enable": "true"}
# name -> (registry variant, repository, tag, kind, attestation entry)
IMAGES = {
    "demo-web": ("anon", "demo/web", "stable", "oci-index", True),
    "demo-api": ("bearer", "demo/api", "stable", "docker-list", False),
}
ARCH_TO_PLATFORM = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64/v8", "arm64": "linux/arm64/v8", "armv7l": "linux/arm/v7"}


def say(text: str) -> None:
    print(f"    {text}", flush=True)


def short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def other_platform(client) -> str:
    """A platform of the index that is not the engine's own (arm64 on an amd64 machine)."""
    own = ARCH_TO_PLATFORM.get(client.info().get("Architecture", ""), "linux/amd64")
    return "linux/arm64/v8" if own != "linux/arm64/v8" else "linux/amd64"


def start(bed: Sandbox) -> None:
    client = bed.client(0)
    try:
        for name, (variant, repo, tag, kind, attestation) in IMAGES.items():
            registry = bed.registries[variant]
            result = publish(registry, repo, tag, kind=kind, version="v1", attestation=attestation)
            extra = " + attestation" if attestation else ""
            where = "registry with credentials" if registry.auth else "anonymous registry"
            say(f"published {result.ref} v1 ({kind}{extra}, {where}) -> {short(result.digest)}")
            pull_image(client, registry, repo, tag)
            client.containers.run(result.ref, ["sleep", "86400"], name=name, labels=LABELS, detach=True, network_mode="none", init=True)
            say(f"pulled it and started container {name} (label freshdock.enable=true)")
    finally:
        client.close()


def update(bed: Sandbox) -> None:
    client = bed.client(0)
    try:
        variant, repo, tag, kind, attestation = IMAGES["demo-web"]
        result = publish(bed.registries[variant], repo, tag, kind=kind, version="v2", attestation=attestation)
        say(f"published {result.ref} v2 -> {short(result.digest)}  (the tag moved to a new image)")
        variant, repo, tag, kind, attestation = IMAGES["demo-api"]
        platform = other_platform(client)
        result = publish(bed.registries[variant], repo, tag, kind=kind, version="v1", attestation=attestation, platform_versions={platform: "v2"})
        say(f"republished {result.ref} -> {short(result.digest)}  (new index digest, but only its {platform} entry changed: nothing to do on this machine)")
    finally:
        client.close()


def write_vars(bed: Sandbox, out: Path) -> None:
    bearer = bed.registries["bearer"]
    data = {
        "demo_docker_host": bed.engine(0).docker_host,
        "demo_registries": [{"registry": bearer.host, "username": bearer.username, "password": bearer.password}],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)  # JSON is YAML: ansible-playbook -e @FILE reads it
        handle.write("\n")
    os.chmod(out, 0o600)
    say(f"wrote {out} (mode 0600: engine socket and registry credentials)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python demo/images.py")
    parser.add_argument("command", choices=("start", "update", "vars"))
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    bed = Sandbox.load(args.dir)
    if args.command == "start":
        start(bed)
    elif args.command == "update":
        update(bed)
    else:
        if args.out is None:
            parser.error("vars needs --out FILE")
        write_vars(bed, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
