"""freshdock_digest run by ansible-playbook against the sandbox: check mode, secrets at -vvvv, the integration target."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fdcheck import image_ids
from fdplay import ANSIBLE_PLAYBOOK, REPO, RUN_SH, ansible_env, assert_no_secrets

from sandbox.images import publish
from sandbox.sandbox import pull_image
from sandbox.tokenserver import read_token_log

_env = ansible_env


def _playbook(tmp_path: Path, module_args: dict, extra_vars: dict | None = None) -> list:
    """Write inventory + playbook (+ vars file) and return the ansible-playbook argv (without --check/-v)."""
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    out = tmp_path / "result.json"
    play = [{
        "name": "freshdock_digest from a playbook",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"name": "Check", "freshdock.core.freshdock_digest": module_args, "register": "fd"},
            # copy would be skipped under --check; writing the result out is the test's, not the module's, doing
            {"name": "Save the result", "ansible.builtin.copy": {"content": "{{ fd | to_json }}", "dest": str(out)},
             "check_mode": False},
        ],
    }]
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(json.dumps(play, indent=2))  # JSON is YAML
    argv = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook)]
    if extra_vars:
        var_file = tmp_path / "vars.json"
        var_file.write_text(json.dumps(extra_vars))
        var_file.chmod(0o600)
        argv += ["-e", f"@{var_file}"]
    return argv


def _run(argv: list, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env(**env))


def test_check_mode_reports_stale_container_and_changes_nothing(sandbox, docker_client, tmp_path):
    registry = sandbox.registries["anon"]
    repo = f"playbook/check-{uuid.uuid4().hex[:8]}"
    label = f"fd.playbook={uuid.uuid4().hex}"
    first = publish(registry, repo, "stable")
    pull_image(docker_client, registry, repo, "stable")
    image = f"{registry.host}/{repo}:stable"
    container = docker_client.containers.run(image, ["sleep", "600"], detach=True, network_mode="none", init=True,
                                             labels=dict([label.split("=", 1)]), name=f"fd-pb-{uuid.uuid4().hex[:8]}")
    try:
        second = publish(registry, repo, "stable", version="v2")
        assert second.digest != first.digest
        argv = _playbook(tmp_path, {
            "docker_host": sandbox.engine(0).docker_host,
            "docker_config_path": "/nonexistent/config.json",
            "container_filters": {"label": [label]},
        })
        containers_before = sorted(c["Id"] for c in docker_client.api.containers(all=True))
        images_before = image_ids(docker_client)

        run = _run(argv + ["--check"], tmp_path)

        assert run.returncode == 0, run.stdout + run.stderr
        assert sorted(c["Id"] for c in docker_client.api.containers(all=True)) == containers_before
        assert image_ids(docker_client) == images_before
        result = json.loads((tmp_path / "result.json").read_text())
        assert result["changed"] is False
        assert result.get("failed", False) is False
        [entry] = result["results"]
        assert (entry["container"], entry["container_id"], entry["image"]) == (container.name, container.id, image)
        assert entry["status"] == "stale", entry["message"]
        assert entry["update_available"] is True
        assert entry["remote_digest"] == second.digest
        assert entry["local_digests"] == [first.digest]
        assert result["summary"]["stale"] == 1 and result["summary"]["total"] == 1
        assert re.search(r"TASK \[Check\] \*+\nok: \[localhost\]", run.stdout), run.stdout
        container.reload()
        assert container.status == "running"
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def bearer_image(sandbox, docker_client):
    registry = sandbox.registries["bearer"]
    repo = f"playbook/secret-{uuid.uuid4().hex[:8]}"
    published = publish(registry, repo, "v1")
    pull_image(docker_client, registry, repo, "v1")
    return registry, f"{registry.host}/{repo}:v1", published


@pytest.mark.parametrize("password_kind", ["right", "wrong"])
def test_secrets_never_appear_at_vvvv(sandbox, bearer_image, tmp_path, password_kind):
    registry, image, published = bearer_image
    password = registry.password if password_kind == "right" else f"wrong-{uuid.uuid4().hex}"
    argv = _playbook(tmp_path, {
        "docker_host": sandbox.engine(0).docker_host,
        "docker_config_path": "/nonexistent/config.json",
        "images": [image],
        "registries": [{"registry": registry.host, "username": registry.username, "password": "{{ fd_password }}"}],
    }, extra_vars={"fd_password": password})
    token_requests_before = len(read_token_log(registry.token_log))

    run = _run(argv + ["-vvvv"], tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    [entry] = result["results"]
    expected = "current" if password_kind == "right" else "credentials_rejected"
    assert entry["status"] == expected, entry["message"]
    if password_kind == "right":
        assert entry["remote_digest"] == published.digest
    # the module really went to the token server with these credentials
    new = read_token_log(registry.token_log)[token_requests_before:]
    asked = [(request.username, request.status) for request in new]
    if password_kind == "right":
        assert asked == [(registry.username, 200)], new  # one token request per registry
    else:  # rejected credentials, then (by design) one anonymous try
        assert asked[0] == (registry.username, 401) and set(asked[1:]) <= {(None, 200)} and len(asked) <= 2, new

    output = run.stdout + run.stderr
    assert_no_secrets(output, (tmp_path / "result.json").read_text(), registry, password)


def test_integration_target_runs_the_examples(sandbox, tmp_path):
    run = subprocess.run(["bash", str(RUN_SH), str(sandbox.dir), "freshdock_digest"], check=False, capture_output=True, text=True, timeout=900,
                         cwd=REPO, env=_env())
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "freshdock_digest integration target passed" in run.stdout
    assert re.search(r"localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", run.stdout), run.stdout[-3000:]
    examples = (REPO / "tests" / "output" / "integration" / "freshdock_digest" / "examples.yml").read_text()
    assert "example.com" not in examples
    assert "Which opted-in containers run a stale image?" in run.stdout
