"""The health gate against the real engine: fail fast, decide fast, respect timeouts, probe readiness."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from ansible_collections.freshdock.core.plugins.module_utils.health import Readiness, gate, last_logs
from sandbox import procs
from sandbox.images import publish
from sandbox.sandbox import pull_image

MS = 1_000_000
FAST_CHECK = {"Interval": 100 * MS, "Timeout": 1000 * MS, "Retries": 2}
# Failures inside the start period do not count, so a service that needs a moment is not unhealthy yet.
WARMING_UP = {**FAST_CHECK, "StartPeriod": 5000 * MS}


@pytest.fixture(scope="module")
def image(sandbox, docker_client) -> str:
    registry = sandbox.registries["anon"]
    publish(registry, "health/base", "v1", config={"Cmd": ["sleep", "60"]})
    pull_image(docker_client, registry, "health/base", "v1")
    return f"{registry.host}/health/base:v1"


@pytest.fixture
def run(docker_client, image):
    """Start a container from the test image; everything started is removed afterwards."""
    api = docker_client.api
    started: list[str] = []

    def start(script: str, healthcheck: dict | None = None, restart: str | None = None, network_mode: str = "none") -> str:
        host_config = api.create_host_config(network_mode=network_mode, init=True,
                                             restart_policy={"Name": restart} if restart else None)
        created = api.create_container(image, command=["sh", "-c", script], host_config=host_config,
                                       healthcheck=healthcheck, name=f"fd-health-{uuid.uuid4().hex[:8]}")
        started.append(created["Id"])
        api.start(created["Id"])
        return created["Id"]

    yield start
    for container_id in started:
        api.remove_container(container_id, force=True)


def _event_time(api: Any, container_id: str, action: str, since: float) -> float:
    """When the engine reported `action` for the container (replayed from the daemon's event log)."""
    events = api.events(since=f"{since:.6f}", until=f"{time.time():.6f}", filters={"container": container_id}, decode=True)
    times = [int(event["timeNano"]) / 1e9 for event in events if event.get("Action") == action]
    assert times, f"no {action!r} event"
    return times[0]


def test_healthy_passes_within_milliseconds_of_the_health_event(docker_client, run):
    api = docker_client.api
    since = time.time()
    cid = run("sleep 0.6; touch /tmp/ok; exec sleep 60", healthcheck={"Test": ["CMD-SHELL", "test -f /tmp/ok"], **WARMING_UP})
    result = gate(api, cid, health_timeout=10, grace_period=10)
    decided = time.time()
    assert result.ok and result.state == "healthy", result
    latency = decided - _event_time(api, cid, "health_status: healthy", since)
    print(f"\ngate decision latency after 'health_status: healthy': {latency * 1000:.1f} ms (elapsed {result.elapsed:.2f}s)")
    assert latency < 0.2
    assert 0.5 < result.elapsed < 3


def test_unhealthy_fails_fast(docker_client, run):
    cid = run("exec sleep 60", healthcheck={"Test": ["CMD-SHELL", "echo not yet; exit 1"], **FAST_CHECK})
    result = gate(docker_client.api, cid, health_timeout=30, grace_period=10)
    assert not result.ok and result.state == "unhealthy", result
    assert result.elapsed < 3
    assert "not yet" in result.reason


def test_container_that_exits_at_once_is_exited_with_its_code(docker_client, run):
    cid = run("echo bye; exit 7", healthcheck={"Test": ["CMD-SHELL", "true"], **FAST_CHECK})
    result = gate(docker_client.api, cid, health_timeout=30, grace_period=10)
    assert (result.ok, result.state, result.exit_code) == (False, "exited", 7), result
    assert result.elapsed < 2
    assert "code 7" in result.reason


def test_restart_loop_fails_fast_as_restarting(docker_client, run):
    since = time.time()
    cid = run("sleep 0.5; exit 3", restart="always")
    result = gate(docker_client.api, cid, health_timeout=30, grace_period=10)
    decided = time.time()
    assert (result.ok, result.state, result.exit_code) == (False, "restarting", 3), result
    latency = decided - _event_time(docker_client.api, cid, "die", since)
    print(f"\nrestart loop: decided {latency * 1000:.1f} ms after 'die' (elapsed {result.elapsed:.2f}s)")
    assert result.elapsed < 3 and latency < 0.5


def test_healthcheck_stuck_in_starting_times_out_at_health_timeout(docker_client, run):
    cid = run("exec sleep 60", healthcheck={"Test": ["CMD-SHELL", "true"], "Interval": 60_000 * MS})
    result = gate(docker_client.api, cid, health_timeout=3, grace_period=1)
    assert (result.ok, result.state) == (False, "timeout"), result
    assert 2.9 <= result.elapsed < 3.6
    assert "starting" in result.reason


def test_no_healthcheck_passes_after_grace_period(docker_client, run):
    cid = run("exec sleep 60")
    result = gate(docker_client.api, cid, health_timeout=10, grace_period=1.0)
    assert (result.ok, result.state) == (True, "running"), result
    assert 0.95 <= result.elapsed < 1.6


def test_no_healthcheck_dying_within_grace_fails_fast(docker_client, run):
    cid = run("sleep 0.4; exit 2")
    result = gate(docker_client.api, cid, health_timeout=10, grace_period=5)
    assert (result.ok, result.state, result.exit_code) == (False, "exited", 2), result
    assert result.elapsed < 1.5


def test_removed_container_fails(docker_client):
    result = gate(docker_client.api, "fd-health-does-not-exist", health_timeout=5, grace_period=1)
    assert (result.ok, result.state) == (False, "exited"), result
    assert "removed" in result.reason and result.elapsed < 1


def test_readiness_command_waits_until_ready(docker_client, run):
    cid = run("sleep 0.8; touch /tmp/ready; exec sleep 60")
    readiness = Readiness(command="test -f /tmp/ready", timeout=2)
    result = gate(docker_client.api, cid, health_timeout=10, grace_period=0.2, readiness=readiness)
    assert (result.ok, result.state) == (True, "running"), result
    assert 0.7 < result.elapsed < 2.5
    assert "ready after" in result.reason


def test_readiness_command_never_ready_is_not_ready(docker_client, run):
    cid = run("exec sleep 60")
    result = gate(docker_client.api, cid, health_timeout=1.5, grace_period=0.2,
                  readiness=Readiness(command=["sh", "-c", "echo still warming up; exit 1"], timeout=1))
    assert (result.ok, result.state) == (False, "not_ready"), result
    assert 1.4 <= result.elapsed < 3
    assert "still warming up" in result.reason


def _free_port() -> int:
    return procs.free_port()


def test_readiness_url_ready_and_not_ready(docker_client, run):
    port = _free_port()
    cid = run(f"mkdir -p /www && echo ok > /www/index.html && sleep 0.5 && exec httpd -f -p 127.0.0.1:{port} -h /www",
              network_mode="host")
    result = gate(docker_client.api, cid, health_timeout=10, grace_period=0.2, readiness=Readiness(url=f"http://127.0.0.1:{port}/"))
    assert (result.ok, result.state) == (True, "running"), result
    assert "HTTP 200" in result.reason
    missing = gate(docker_client.api, cid, health_timeout=1, grace_period=0.1,
                   readiness=Readiness(url=f"http://127.0.0.1:{port}/missing", timeout=1))
    assert (missing.ok, missing.state) == (False, "not_ready"), missing
    assert "HTTP 404" in missing.reason


def test_readiness_url_refused_is_not_ready(docker_client, run):
    cid = run("exec sleep 60")
    result = gate(docker_client.api, cid, health_timeout=1, grace_period=0.1,
                  readiness=Readiness(url=f"http://127.0.0.1:{_free_port()}/", timeout=1))
    assert (result.ok, result.state) == (False, "not_ready"), result
    assert result.elapsed < 2.5


class _StalledEvents:
    """The real API client, except that the events stream never delivers (or fails at once)."""

    def __init__(self, api: Any, fail: bool) -> None:
        self._api, self._fail = api, fail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def events(self, **_kwargs: Any) -> Any:
        if self._fail:
            raise ConnectionError("events endpoint broken")
        threading.Event().wait(30)  # a stream that hangs before its first byte
        return iter(())


@pytest.mark.parametrize("fail", [True, False], ids=["events-fail", "events-stall"])
def test_gate_without_events_still_decides_and_respects_timeout(docker_client, run, fail):
    api = _StalledEvents(docker_client.api, fail)
    healthy = run("sleep 0.3; touch /tmp/ok; exec sleep 60", healthcheck={"Test": ["CMD-SHELL", "test -f /tmp/ok"], **WARMING_UP})
    result = gate(api, healthy, health_timeout=10, grace_period=1)
    assert (result.ok, result.state) == (True, "healthy"), result
    assert result.elapsed < 2
    stuck = run("exec sleep 60", healthcheck={"Test": ["CMD-SHELL", "true"], "Interval": 60_000 * MS})
    result = gate(api, stuck, health_timeout=2, grace_period=1)
    assert (result.ok, result.state) == (False, "timeout"), result
    assert 1.9 <= result.elapsed < 2.5


def test_last_logs_returns_the_tail_and_never_raises(docker_client, run):
    # stdout and stderr are separate pipes: the pause makes the engine see "oops" last
    cid = run("for i in $(seq 1 30); do echo line $i; done; sleep 0.5; echo oops >&2; exec sleep 60")
    deadline = time.time() + 5
    while time.time() < deadline and "oops" not in docker_client.api.logs(cid).decode():
        time.sleep(0.05)
    assert last_logs(docker_client.api, cid, lines=4) == ["line 28", "line 29", "line 30", "oops"]
    assert len(last_logs(docker_client.api, cid)) == 20
    [note] = last_logs(docker_client.api, "fd-health-does-not-exist")
    assert note.startswith("(logs unavailable:")
