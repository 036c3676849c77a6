"""Demo helper for demo/run.sh: publish the demo images, start the demo containers, write the vars file.

    python demo/images.py start  --dir D   # publish v1 of four images, pull them, run one container on each
    python demo/images.py update --dir D   # publish the "new versions" (good, broken, other-platform-only, watched)
    python demo/images.py vars   --dir D --out FILE   # extra vars for the playbooks (mode 0600)
    python demo/images.py verify --dir D --report FILE  # check the role's JSON report says what the demo expects

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

MS = 1_000_000
HEALTHY = {"Cmd": ["sleep", "86400"],
           "Healthcheck": {"Test": ["CMD", "true"], "Interval": 500 * MS, "Timeout": 2000 * MS, "Retries": 1}}
UNHEALTHY = dict(HEALTHY, Healthcheck=dict(HEALTHY["Healthcheck"], Test=["CMD", "false"]))
# name -> (registry variant, repository, tag, kind, attestation entry, labels)
IMAGES = {
    "demo-web": ("anon", "demo/web", "stable", "oci-index", True, {"freshdock.enable": "true", "freshdock.mode": "live"}),
    "demo-api": ("bearer", "demo/api", "stable", "docker-list", False, {"freshdock.enable": "true", "freshdock.mode": "live"}),
    "demo-worker": ("anon", "demo/worker", "stable", "docker", False, {"freshdock.enable": "true", "freshdock.mode": "live"}),
    "demo-cache": ("anon", "demo/cache", "stable", "docker", False, {"freshdock.enable": "true", "freshdock.mode": "watch"}),
}
# What the role must report: check mode first, then the real run.
EXPECTED = {
    True: {"demo-web": "would_update", "demo-api": "none", "demo-worker": "would_update", "demo-cache": "none"},
    False: {"demo-web": "updated", "demo-api": "none", "demo-worker": "rolled_back", "demo-cache": "none"},
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
        for name, (variant, repo, tag, kind, attestation, labels) in IMAGES.items():
            registry = bed.registries[variant]
            result = publish(registry, repo, tag, kind=kind, version="v1", attestation=attestation, config=HEALTHY)
            extra = " + attestation" if attestation else ""
            where = "registry with credentials" if registry.auth else "anonymous registry"
            say(f"published {result.ref} v1 ({kind}{extra}, {where}) -> {short(result.digest)}")
            pull_image(client, registry, repo, tag)
            client.containers.run(result.ref, name=name, labels=labels, detach=True, network_mode="none", init=True)
            say(f"started container {name} on it (mode {labels['freshdock.mode']})")
    finally:
        client.close()


def update(bed: Sandbox) -> None:
    client = bed.client(0)
    try:
        variant, repo, tag, kind, attestation, _labels = IMAGES["demo-web"]
        result = publish(bed.registries[variant], repo, tag, kind=kind, version="v2", attestation=attestation, config=HEALTHY)
        say(f"published {result.ref} v2 -> {short(result.digest)}  (a good new image)")
        variant, repo, tag, kind, attestation, _labels = IMAGES["demo-api"]
        platform = other_platform(client)
        result = publish(bed.registries[variant], repo, tag, kind=kind, version="v1", attestation=attestation,
                         platform_versions={platform: "v2"}, config=HEALTHY)
        say(f"republished {result.ref} -> {short(result.digest)}  (new index digest, but only its {platform} entry changed: nothing to do on this machine)")
        variant, repo, tag, kind, attestation, _labels = IMAGES["demo-worker"]
        result = publish(bed.registries[variant], repo, tag, kind=kind, version="v2", config=UNHEALTHY)
        say(f"published {result.ref} v2 -> {short(result.digest)}  (a BROKEN new image: its healthcheck fails)")
        variant, repo, tag, kind, attestation, _labels = IMAGES["demo-cache"]
        result = publish(bed.registries[variant], repo, tag, kind=kind, version="v2", config=HEALTHY)
        say(f"published {result.ref} v2 -> {short(result.digest)}  (new image for a container in watch mode: reported only)")
    finally:
        client.close()


def write_vars(bed: Sandbox, out: Path) -> None:
    bearer = bed.registries["bearer"]
    data = {
        "freshdock_docker_host": bed.engine(0).docker_host,
        "freshdock_registries": [{"registry": bearer.host, "username": bearer.username, "password": bearer.password}],
        "freshdock_state_dir": str(bed.dir / "state"),
        "freshdock_report_dir": str(bed.dir / "report"),
        "freshdock_container_filters": {"label": ["freshdock.enable=true"]},
        "freshdock_health_timeout": 30,
        "freshdock_grace_period": 2,
        # The demo shows a rollback on purpose; in a canary rollout you keep the default (true) to stop there.
        "freshdock_fail_on_rollback": False,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)  # JSON is YAML: ansible-playbook -e @FILE reads it
        handle.write("\n")
    os.chmod(out, 0o600)
    say(f"wrote {out} (mode 0600: engine socket and registry credentials)")


def verify(report_path: Path) -> int:
    report = json.loads(report_path.read_text())
    actual = {row["container"]: row["action"] for row in report["rows"]}
    expected = EXPECTED[report["check_mode"]]
    if actual != expected:
        print(f"    UNEXPECTED report: got {actual}, expected {expected}", file=sys.stderr)
        return 1
    say(f"report as expected ({'check mode' if report['check_mode'] else 'real run'}): "
        + ", ".join(f"{name} {action}" for name, action in sorted(actual.items())))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python demo/images.py")
    parser.add_argument("command", choices=("start", "update", "vars", "verify"))
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args(argv)
    if args.command == "verify":
        return verify(args.report)
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
