"""A locally built image (no RepoDigests): `docker build` of a FROM scratch context with busybox.

The context holds the same files as the pushed images (rootfs/ copied as a whole, symlinks kept);
container-config keys are turned into Dockerfile instructions.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from .layers import busybox_entries, marker_entries, tar_bytes


def _duration(ns: int) -> str:
    return f"{int(ns) // 1_000_000}ms"


def _healthcheck(check: dict[str, Any]) -> str:
    test = check.get("Test") or ["NONE"]
    if test[0] == "NONE":
        return "HEALTHCHECK NONE"
    opts = []
    for key, flag in (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start-period")):
        if check.get(key):
            opts.append(f"--{flag}={_duration(check[key])}")
    if check.get("Retries"):
        opts.append(f"--retries={int(check['Retries'])}")
    cmd = test[1] if test[0] == "CMD-SHELL" else json.dumps(test[1:])
    return f"HEALTHCHECK {' '.join(opts)} CMD {cmd}".replace("  ", " ")


def dockerfile(config: dict[str, Any], version: str) -> str:
    lines = ["FROM scratch", "COPY rootfs/ /"]
    labels = config.get("Labels", {"org.opencontainers.image.version": version})
    env = config.get("Env", ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    lines += [f"ENV {item.split('=', 1)[0]}={json.dumps(item.split('=', 1)[1])}" for item in env]
    lines += [f"LABEL {json.dumps(k)}={json.dumps(v)}" for k, v in labels.items()]
    if config.get("WorkingDir"):
        lines.append(f"WORKDIR {config['WorkingDir']}")
    if config.get("User"):
        lines.append(f"USER {config['User']}")
    lines += [f"EXPOSE {port}" for port in config.get("ExposedPorts", {})]
    if config.get("Volumes"):
        lines.append(f"VOLUME {json.dumps(sorted(config['Volumes']))}")
    if config.get("StopSignal"):
        lines.append(f"STOPSIGNAL {config['StopSignal']}")
    if config.get("Healthcheck"):
        lines.append(_healthcheck(config["Healthcheck"]))
    if config.get("Entrypoint"):
        lines.append(f"ENTRYPOINT {json.dumps(config['Entrypoint'])}")
    lines.append(f"CMD {json.dumps(config.get('Cmd', ['sh']))}")
    return "\n".join(lines) + "\n"


def build_local_image(docker_client: Any, tag: str, version: str = "v1", config: dict[str, Any] | None = None) -> Any:
    """Build tag on the engine behind docker_client; returns the docker SDK Image (RepoDigests empty)."""
    files = busybox_entries() + [e for e in marker_entries(version) if e.kind == "file"]
    rootfs = tar_bytes(files, prefix="rootfs/")
    # Copy the rootfs members into a new tar and add the Dockerfile next to them.
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        with tarfile.open(fileobj=io.BytesIO(rootfs)) as src:
            for member in src.getmembers():
                tar.addfile(member, src.extractfile(member) if member.isfile() else None)
        data = dockerfile(config or {}, version).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    image, _logs = docker_client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True,
                                              forcerm=True, network_mode="none")
    return image
