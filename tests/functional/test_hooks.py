"""Lifecycle hooks exec'd in real containers: exit codes, output, timeouts and exec failures."""

from __future__ import annotations

import time
import uuid

import pytest

from ansible_collections.freshdock.core.plugins.module_utils.hooks import OUTPUT_LIMIT, Hook, run_exec, run_hook
from sandbox.images import publish
from sandbox.sandbox import pull_image


@pytest.fixture(scope="module")
def containers(sandbox, docker_client):
    """A running container, one whose /bin/sh was deleted, and a stopped one."""
    registry = sandbox.registries["anon"]
    publish(registry, "hooks/base", "v1", config={"Cmd": ["sleep", "60"]})
    pull_image(docker_client, registry, "hooks/base", "v1")
    api = docker_client.api
    made = {}
    for role, script in (("running", "exec sleep 60"), ("no_sh", "rm /bin/sh; exec sleep 60"), ("stopped", "exit 0")):
        created = api.create_container(f"{registry.host}/hooks/base:v1", command=["sh", "-c", script],
                                       host_config=api.create_host_config(network_mode="none", init=True),
                                       name=f"fd-hooks-{role}-{uuid.uuid4().hex[:6]}")
        api.start(created["Id"])
        made[role] = created["Id"]
    api.wait(made["stopped"], timeout=10)
    _wait_until_sh_is_gone(api, made["no_sh"])
    yield made
    for container_id in made.values():
        api.remove_container(container_id, force=True)


def _wait_until_sh_is_gone(api, container_id: str) -> None:
    deadline = time.time() + 5
    while time.time() < deadline:
        probe = api.exec_create(container_id, ["test", "-e", "/bin/sh"])["Id"]
        api.exec_start(probe)
        if api.exec_inspect(probe)["ExitCode"] != 0:
            return
        time.sleep(0.05)
    raise AssertionError("/bin/sh was not removed")


def _hook(command: str, timeout: float = 10) -> Hook:
    return Hook(command=command, timeout=timeout, source="freshdock.lifecycle.pre-update")


def test_exit_zero_is_ok(docker_client, containers):
    result = run_hook(docker_client.api, containers["running"], _hook("echo hello from the hook"))
    assert result.ok and not result.deferred and not result.timed_out and result.error is None
    assert result.exit_code == 0
    assert result.output.strip() == "hello from the hook"


def test_exit_75_defers(docker_client, containers):
    result = run_hook(docker_client.api, containers["running"], _hook("echo busy; exit 75"))
    assert result.deferred and not result.ok
    assert result.exit_code == 75 and result.error is None


def test_nonzero_exit_is_a_failure_with_its_output(docker_client, containers):
    result = run_hook(docker_client.api, containers["running"], _hook("echo to stdout; echo boom >&2; exit 1"))
    assert not result.ok and not result.deferred
    assert (result.exit_code, result.timed_out, result.error) == (1, False, None)
    assert "to stdout" in result.output and "boom" in result.output
    assert result.describe() == "exited with code 1"


def test_timeout_is_honoured(docker_client, containers):
    started = time.monotonic()
    result = run_hook(docker_client.api, containers["running"], _hook("echo started; sleep 30", timeout=1))
    took = time.monotonic() - started
    assert result.timed_out and not result.ok and result.exit_code is None
    assert took < 1.5, took
    assert "started" in result.output


def test_zero_timeout_means_no_limit(docker_client, containers):
    result = run_hook(docker_client.api, containers["running"], _hook("sleep 0.3; echo done", timeout=0))
    assert result.ok and result.output.strip() == "done"


def test_output_is_the_bounded_tail(docker_client, containers):
    result = run_hook(docker_client.api, containers["running"], _hook("seq 1 5000; echo THE-END"))
    assert result.ok
    assert len(result.output.encode()) <= OUTPUT_LIMIT
    assert result.output.endswith("THE-END\n")


def test_missing_sh_is_an_error_not_an_exception(docker_client, containers):
    result = run_hook(docker_client.api, containers["no_sh"], _hook("echo unreachable"))
    assert result.error is not None and "sh" in result.error, result
    assert not result.ok and not result.deferred and not result.timed_out


def test_missing_program_is_an_error(docker_client, containers):
    result = run_exec(docker_client.api, containers["running"], ["/no/such/program"], timeout=5)
    assert result.error is not None and "/no/such/program" in result.error, result
    assert not result.ok


def test_command_not_found_inside_sh_is_a_plain_failure(docker_client, containers):
    result = run_hook(docker_client.api, containers["running"], _hook("no-such-command-here"))
    assert result.error is None and result.exit_code == 127 and not result.ok


@pytest.mark.parametrize("role", ["stopped", "gone"])
def test_container_not_running_is_an_error(docker_client, containers, role):
    target = containers["stopped"] if role == "stopped" else "fd-hooks-does-not-exist"
    result = run_hook(docker_client.api, target, _hook("true"))
    assert result.error is not None and result.error.startswith("cannot exec"), result
    assert (result.exit_code, result.timed_out, result.ok) == (None, False, False)
