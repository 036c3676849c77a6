"""Crash safety: the update process is SIGKILLed at exact steps; the next run converges, nothing is lost."""

from __future__ import annotations

import json
import signal

import pytest
from fdupdate import containers_named, publish_app, start_app, unique, update, update_in_child


@pytest.fixture
def service(sandbox, docker_client, tmp_path):
    registry = sandbox.registries["anon"]
    repo, name = unique("crash/app"), unique("crash")
    publish_app(registry, repo, "v1")
    container = start_app(sandbox, docker_client, registry, repo, name, restart_policy={"Name": "unless-stopped"})
    container.exec_run(["sh", "-c", "mkdir -p /keep && echo precious > /keep/file"])
    yield {"registry": registry, "repo": repo, "name": name, "id": container.id, "state": tmp_path / "state"}
    for leftover in docker_client.containers.list(all=True, filters={"name": name}):
        leftover.remove(force=True)


@pytest.mark.parametrize("kill_at", ["rename", "start", "gate", "during-gate", "commit"])
def test_sigkill_then_next_run_converges(sandbox, docker_client, service, kill_at):
    """rename = killed after the stop; start = after the renames; gate = after the start; commit = after the gate."""
    publish_app(service["registry"], service["repo"], "v2", "slow-healthy" if kill_at == "during-gate" else "good")
    child = update_in_child(sandbox, service["name"], service["state"], kill_at=kill_at)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert (service["state"] / "engines").exists()

    result = update(sandbox, service["name"], service["state"])[0]
    assert result["action"] == "recovered", result["msg"]
    assert containers_named(docker_client, service["name"]) == [service["name"]]
    container = docker_client.containers.get(service["name"])
    assert container.status == "running"
    if kill_at == "commit":
        # the new container had passed its gate: the update is finished, the archive removed
        assert container.id != service["id"]
        assert "finished" in result["msg"]
    else:
        assert container.id == service["id"]
        assert container.exec_run(["cat", "/keep/file"]).output == b"precious\n"

    final = update(sandbox, service["name"], service["state"])[0]
    assert final["action"] in ("updated", "current"), final["msg"]
    assert containers_named(docker_client, service["name"]) == [service["name"]]
    assert docker_client.containers.get(service["name"]).status == "running"


@pytest.mark.parametrize("phase", ["rename", "start", "gate"])
def test_a_journal_that_cannot_be_written_mid_swap_undoes_the_update(sandbox, docker_client, service, phase):
    publish_app(service["registry"], service["repo"], "v2")
    child = update_in_child(sandbox, service["name"], service["state"], kill_at=f"fail-journal:{phase}")
    assert child.returncode == 0, child.stderr[-2000:]
    result = json.loads(child.stdout)["result"]
    assert result["action"] == "rolled_back" and "no space left" in result["rollback"]["reason"]
    assert containers_named(docker_client, service["name"]) == [service["name"]]
    container = docker_client.containers.get(service["name"])
    assert (container.id, container.status) == (service["id"], "running")
    assert container.exec_run(["cat", "/keep/file"]).output == b"precious\n"
