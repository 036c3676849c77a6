"""freshdock_update run by ansible-playbook against the sandbox: the integration target, secrets at -vvvv, two
playbooks updating one container at once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fdplay import ANSIBLE_PLAYBOOK, REPO, RUN_SH, ansible_env, assert_no_secrets
from fdupdate import containers_named, publish_app, start_app, unique

from sandbox.tokenserver import read_token_log

_env = ansible_env


def _playbook(workdir: Path, module_args: dict, extra_vars: dict | None = None, barrier: tuple = ()) -> list:
    """Write inventory + playbook (+ vars file) into workdir and return the ansible-playbook argv.

    The update task never fails the play (ignore_errors), so that its result, rollback included, is saved to
    workdir/result.json. barrier=(dir, me, other): touch dir/me, then wait for dir/other before updating.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = workdir / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    tasks = []
    if barrier:
        directory, me, other = barrier
        tasks += [
            {"name": "Arrive at the barrier", "ansible.builtin.file": {"path": str(directory / me), "state": "touch"}},
            {"name": "Wait for the other playbook", "ansible.builtin.wait_for": {"path": str(directory / other), "timeout": 60}},
        ]
    tasks += [
        {"name": "Update", "freshdock.core.freshdock_update": module_args, "register": "fd", "ignore_errors": True},
        {"name": "Save the result", "ansible.builtin.copy": {"content": "{{ fd | to_json }}", "dest": str(workdir / "result.json")}},
    ]
    play = [{"name": "freshdock_update from a playbook", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    playbook = workdir / "playbook.yml"
    playbook.write_text(json.dumps(play, indent=2))  # JSON is YAML
    argv = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook)]
    if extra_vars:
        var_file = workdir / "vars.json"
        var_file.write_text(json.dumps(extra_vars))
        var_file.chmod(0o600)
        argv += ["-e", f"@{var_file}"]
    return argv


def _result(workdir: Path) -> dict:
    return json.loads((workdir / "result.json").read_text())


def test_integration_target_freshdock_update(sandbox):
    run = subprocess.run(["bash", str(RUN_SH), str(sandbox.dir), "freshdock_update"], check=False, capture_output=True,
                         text=True, timeout=600, cwd=REPO, env=_env())
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "freshdock_update integration target passed" in run.stdout
    assert "freshdock_digest" not in run.stdout  # only the target asked for
    assert re.search(r"localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", run.stdout), run.stdout[-3000:]
    examples = (REPO / "tests" / "output" / "integration" / "freshdock_update" / "examples.yml").read_text()
    assert "fd-it-upd-web" in examples and "127.0.0.1:8080" not in examples
    for example in ("Preview the update of the web container", "Update the API, probe it from the host",
                    "Copy the data aside before the swap"):
        assert example in run.stdout


@pytest.fixture
def bearer_app(sandbox, docker_client):
    """A service on v1 (healthy) of an image on the bearer registry; removed afterwards."""
    registry = sandbox.registries["bearer"]
    repo, name = unique("playbook/upd-secret"), unique("fd-pb-upd")
    publish_app(registry, repo, "v1")
    container = start_app(sandbox, docker_client, registry, repo, name)
    yield registry, repo, name, container.id
    for leftover in docker_client.containers.list(all=True, filters={"name": name}):
        leftover.remove(force=True)


@pytest.mark.parametrize("behaviour", ["good", "unhealthy"])
def test_secrets_never_appear_at_vvvv(sandbox, docker_client, bearer_app, tmp_path, behaviour):
    registry, repo, name, original_id = bearer_app
    new = publish_app(registry, repo, unique("v2"), behaviour)  # a version of its own: the engine must fetch it
    argv = _playbook(tmp_path, {
        "name": name,
        "docker_host": sandbox.engine(0).docker_host,
        "docker_config_path": "/nonexistent/config.json",
        "state_dir": str(tmp_path / "state"),
        "health_timeout": 10,
        "registries": [{"registry": registry.host, "username": registry.username, "password": "{{ fd_password }}"}],
    }, extra_vars={"fd_password": registry.password})
    token_requests_before = len(read_token_log(registry.token_log))

    run = subprocess.run(argv + ["-vvvv"], check=False, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env())

    assert run.returncode == 0, run.stdout + run.stderr
    result = _result(tmp_path)
    container = docker_client.containers.get(name)
    assert result["pulled"] is True
    if behaviour == "good":
        assert (result["action"], result["changed"], result.get("failed", False)) == ("updated", True, False), result["msg"]
        assert result["current"]["digest"] == new.digest
        assert container.id != original_id and container.image.id == new.configs["linux/amd64"]
    else:
        assert (result["action"], result["failed"]) == ("rolled_back", True), result["msg"]
        assert "unhealthy" in result["rollback"]["reason"]
        assert container.id == original_id
        assert docker_client.images.get(new.configs["linux/amd64"])  # the engine did pull the new image
    assert container.status == "running"
    assert containers_named(docker_client, name) == [name]
    # the module's registry check and the engine's pull both went to the token server with these credentials
    asked = [(request.username, request.status) for request in read_token_log(registry.token_log)[token_requests_before:]]
    assert asked.count((registry.username, 200)) >= 2, asked
    assert all(status == 200 for _user, status in asked), asked

    output = run.stdout + run.stderr
    assert f'"action": "{result["action"]}"' in output  # -vvvv printed the module's whole result
    assert_no_secrets(output, (tmp_path / "result.json").read_text(), registry, registry.password)


def test_two_playbooks_update_one_container_at_once(sandbox, docker_client, tmp_path):
    registry = sandbox.registries["anon"]
    repo, name = unique("playbook/upd-race"), unique("fd-pb-race")
    publish_app(registry, repo, "v1")
    container = start_app(sandbox, docker_client, registry, repo, name)
    try:
        new = publish_app(registry, repo, "v2", "slow-healthy")  # ~2 s to healthy: the runs overlap
        barrier = tmp_path / "barrier"
        barrier.mkdir()
        args = {"name": name, "docker_host": sandbox.engine(0).docker_host, "docker_config_path": "/nonexistent/config.json",
                "state_dir": str(tmp_path / "state"), "health_timeout": 20}  # one state_dir: one lock
        workdirs = [tmp_path / "a", tmp_path / "b"]
        argvs = [_playbook(workdirs[0], args, barrier=(barrier, "a", "b")),
                 _playbook(workdirs[1], args, barrier=(barrier, "b", "a"))]
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir, env=_env())
                for argv, workdir in zip(argvs, workdirs)]
        outputs = [run.communicate(timeout=300)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], "\n".join(outputs)

        results = [_result(workdir) for workdir in workdirs]
        assert sorted((r["action"], r["changed"]) for r in results) == [("current", False), ("updated", True)], results
        assert not any(r.get("failed") for r in results), results
        [updated] = [r for r in results if r["action"] == "updated"]
        assert updated["previous"]["id"] == container.id
        assert containers_named(docker_client, name) == [name]
        now = docker_client.containers.get(name)
        assert now.id == updated["current"]["id"] != container.id
        assert now.status == "running" and now.image.id == new.configs["linux/amd64"]
        assert sum(bool(re.search(r"TASK \[Update\] \*+\nchanged: \[localhost\]", out)) for out in outputs) == 1
    finally:
        for leftover in docker_client.containers.list(all=True, filters={"name": name}):
            leftover.remove(force=True)
