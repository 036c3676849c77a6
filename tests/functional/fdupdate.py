"""Helpers for the freshdock_update tests: images with known behaviour, containers, and the update itself."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from fdcheck import registry_entry

from ansible_collections.freshdock.core.plugins.module_utils.options import ENGINE_ARGS, REGISTRY_ARGS, default_params
from ansible_collections.freshdock.core.plugins.module_utils.update_run import UPDATE_ARGS, run_update
from sandbox.images import publish
from sandbox.sandbox import pull_image

MS = 1_000_000
HEALTHY = {"Test": ["CMD", "true"], "Interval": 200 * MS, "Timeout": 1000 * MS, "Retries": 1}
# Behaviours of a new image version, as image config (what `docker build` would record).
BEHAVIOURS: dict = {
    "good": {"Cmd": ["sleep", "600"], "Healthcheck": HEALTHY},
    "good-no-healthcheck": {"Cmd": ["sleep", "600"]},
    "unhealthy": {"Cmd": ["sleep", "600"], "Healthcheck": dict(HEALTHY, Test=["CMD", "false"])},
    "exits": {"Cmd": ["sh", "-c", "echo bye from the new image; exit 3"], "Healthcheck": HEALTHY},
    "restart-loop": {"Cmd": ["sh", "-c", "echo crashing; sleep 0.3; exit 1"]},
    # runc resolves the user before anything runs, so start itself fails (init or not)
    "bad-user": {"Cmd": ["sleep", "600"], "User": "nosuchuser", "Healthcheck": HEALTHY},
    "never-ready": {"Cmd": ["sleep", "600"], "Healthcheck": dict(HEALTHY, Test=["CMD", "false"], StartPeriod=60_000 * MS)},
    "slow-healthy": {"Cmd": ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 600"],
                     "Healthcheck": dict(HEALTHY, Test=["CMD", "test", "-f", "/tmp/ready"], Retries=30)},
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def publish_app(registry: Any, repo: str, version: str, behaviour: str = "good", **config: Any) -> Any:
    return publish(registry, repo, "stable", kind="docker", version=version, config=dict(BEHAVIOURS[behaviour], **config))


def start_app(sandbox: Any, client: Any, registry: Any, repo: str, name: str, **kwargs: Any) -> Any:
    pull_image(client, registry, repo, "stable")
    kwargs.setdefault("network_mode", "none")
    kwargs.setdefault("init", True)
    container = client.containers.run(f"{registry.host}/{repo}:stable", name=name, detach=True, **kwargs)
    return container


def params(sandbox: Any, name: str, state_dir: Path, **given: Any) -> dict:
    spec = dict(UPDATE_ARGS, **ENGINE_ARGS, **REGISTRY_ARGS)
    values = default_params(spec, name=name, docker_host=sandbox.engine(0).docker_host, state_dir=str(state_dir),
                            health_timeout=10.0, grace_period=1.0, docker_config_path="/nonexistent/config.json")
    values["registries"] = [registry_entry(r) for r in sandbox.registries.values()]
    values.update(given)
    return values


def update(sandbox: Any, name: str, state_dir: Path, check_mode: bool = False, **given: Any) -> tuple:
    return run_update(params(sandbox, name, state_dir, **given), check_mode=check_mode)


def update_in_child(sandbox: Any, name: str, state_dir: Path, kill_at: str = "", **given: Any) -> subprocess.CompletedProcess:
    path = state_dir.parent / f"params-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(params(sandbox, name, state_dir, **given)))
    runner = Path(__file__).with_name("update_runner.py")
    args = [sys.executable, str(runner), str(path)] + ([kill_at] if kill_at else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def containers_named(client: Any, name: str) -> list:
    """Every container whose name starts with ``name`` (the service, its archives, temp copies)."""
    return sorted(c.name for c in client.containers.list(all=True) if c.name == name or c.name.startswith(f"{name}-"))
