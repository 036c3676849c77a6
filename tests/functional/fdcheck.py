"""Run the freshdock_digest logic in-process against the sandbox (same code path as the module)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from typing import Any

from ansible_collections.freshdock.core.plugins.module_utils.digest_run import DIGEST_ARGS, run_digest
from ansible_collections.freshdock.core.plugins.module_utils.options import ENGINE_ARGS, REGISTRY_ARGS, default_params

ALL_ARGS = dict(DIGEST_ARGS, **ENGINE_ARGS, **REGISTRY_ARGS)


def registry_entry(registry: Any, password: str | None = None, **extra: Any) -> dict:
    entry = {"registry": registry.host, "username": None, "password": None, "insecure": None, "ca_path": None}
    if registry.username:
        entry.update(username=registry.username, password=password if password is not None else registry.password)
    if registry.ca_path:
        entry.update(ca_path=registry.ca_path, insecure=False)
    entry.update(extra)
    return entry


def check(sandbox: Any, registries: list | None = None, check_mode: bool = False, **given: Any) -> tuple[dict, list]:
    params = default_params(ALL_ARGS, docker_host=sandbox.engine(0).docker_host, **given)
    params["registries"] = registries if registries is not None else [registry_entry(r) for r in sandbox.registries.values()]
    params.setdefault("docker_config_path", "/nonexistent/config.json")
    return run_digest(params, check_mode=check_mode)


def by_image(result: dict) -> dict:
    return {entry["image"]: entry for entry in result["results"]}


def skopeo_digest(registry: Any, ref: str) -> str:
    args = ["skopeo", "inspect", "--raw", f"docker://{ref}"]
    if registry.cert_dir:
        args[2:2] = ["--cert-dir", registry.cert_dir]
    else:
        args[2:2] = ["--tls-verify=false"]
    if registry.username:
        args[2:2] = ["--creds", f"{registry.username}:{registry.password}"]
    raw = subprocess.run(args, check=True, capture_output=True, timeout=60).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def image_ids(client: Any) -> list:
    return sorted(json.dumps([image["Id"], sorted(image.get("RepoDigests") or [])]) for image in client.api.images(all=True))
