# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health gate after an update (GUIDE §4 step 5): is the new container good enough to keep?

Driven by engine events rather than freshdock's 1 s polling: the gate subscribes to the container's events,
inspects once after subscribing (so no transition is missed) and re-inspects whenever an event arrives, which
decides within milliseconds of `health_status: healthy`. Unlike freshdock it fails fast on `unhealthy`, on
exit and on restart loops. A slow safety poll (and a fast one if the event stream breaks) keeps the gate
correct without events, and every wait is bounded, so a stalled stream cannot stretch a timeout.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.freshdock.core.plugins.module_utils.hooks import run_exec

try:
    import requests
except ImportError:  # the docker SDK depends on requests; URL probes report it missing
    requests = None

SAFETY_POLL = 1.0  # seconds between inspects while events flow (they are the real trigger)
FALLBACK_POLL = 0.25  # seconds between inspects once the event stream failed
SUBSCRIBE_WAIT = 0.5  # longest wait for the events subscription; `since` replays what a late one missed
EVENT_SLACK = 5.0  # the stream's `until` lies this far past the gate's longest wait (daemon clock skew)
_END = object()  # queue sentinel: the event stream ended or failed


@dataclass
class Readiness:
    command: list | str | None = None  # exec'd in the container (argv list; a string means sh -c)
    url: str | None = None  # GET from the managed host; 2xx/3xx = ready
    timeout: float = 5.0  # per probe


@dataclass
class GateResult:
    ok: bool
    state: str  # healthy | running | unhealthy | exited | restarting | timeout | not_ready
    reason: str  # one sentence for the operator
    elapsed: float  # seconds from gate start to decision
    exit_code: int | None = None


@dataclass
class _Snapshot:
    running: bool
    restarting: bool
    paused: bool
    status: str
    exit_code: int | None
    oom_killed: bool
    health: str | None  # None: the container has no healthcheck
    health_output: str
    restart_count: int


def _snapshot(info: dict) -> _Snapshot:
    state = info.get("State") or {}
    health_state = state.get("Health")
    test = ((info.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    configured = bool(test) and test[0] != "NONE"
    health = None
    output = ""
    if isinstance(health_state, dict) and health_state.get("Status") not in (None, "", "none"):
        health = str(health_state["Status"])
        log = health_state.get("Log") or []
        output = str((log[-1] or {}).get("Output") or "").strip() if log else ""
    elif configured:
        health = "starting"  # configured, but the first probe has not reported yet
    code = state.get("ExitCode")
    return _Snapshot(
        running=bool(state.get("Running")), restarting=bool(state.get("Restarting")), paused=bool(state.get("Paused")),
        status=str(state.get("Status") or ""), exit_code=int(code) if code is not None else None,
        oom_killed=bool(state.get("OOMKilled")), health=health, health_output=output[-300:],
        restart_count=int(info.get("RestartCount") or 0),
    )


def _status_code(exc: Exception) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


class _EventFeed:
    """Reads the container's events in a thread into a queue, so the gate can wait with a timeout."""

    def __init__(self, api: Any, container_id: str, since: float, until: float) -> None:
        self.api, self.container_id, self.since, self.until = api, container_id, since, until
        self.queue: queue.Queue = queue.Queue()
        self.subscribed = threading.Event()
        self.alive = True
        self._stream: Any = None
        self._closed = False

    def start(self, wait: float) -> None:
        threading.Thread(target=self._run, name="freshdock-events", daemon=True).start()
        # `since` replays what happened while we waited, so a late subscription loses no event.
        self.subscribed.wait(max(wait, 0.0))

    def _run(self) -> None:
        try:
            self._stream = self.api.events(since=f"{self.since:.6f}", until=f"{self.until:.6f}",
                                           filters={"container": self.container_id, "type": "container"}, decode=True)
            self.subscribed.set()
            for event in self._stream:
                if self._closed:
                    break
                if isinstance(event, dict):
                    self.queue.put(event)
        except Exception:  # noqa: BLE001 - any stream failure just means "poll instead"
            self.alive = False
        finally:
            self.subscribed.set()
            self.queue.put(_END)

    def close(self) -> None:
        self._closed = True
        close = getattr(self._stream, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - SSH streams cannot be cancelled; the daemon thread ends at `until`
                return


class _Watch:
    """State the gate accumulates from events and inspects."""

    def __init__(self, api: Any, container_id: str, feed: _EventFeed, clock: Callable[[], float], start: float) -> None:
        self.api, self.container_id, self.feed, self.clock, self.start = api, container_id, feed, clock, start
        self.baseline = 0
        self.died = False
        self.die_code: int | None = None
        self.oom = False
        self.restarted = False
        self.gone = False
        self.error: str | None = None  # the last inspect error, while it persists

    def elapsed(self) -> float:
        return max(self.clock() - self.start, 0.0)

    def result(self, ok: bool, state: str, reason: str, exit_code: int | None = None) -> GateResult:
        return GateResult(ok=ok, state=state, reason=reason, elapsed=round(self.elapsed(), 3), exit_code=exit_code)

    def refresh(self) -> _Snapshot | None:
        try:
            info = self.api.inspect_container(self.container_id)
        except Exception as exc:  # noqa: BLE001 - a transient daemon error must not end the gate by itself
            if _status_code(exc) == 404:
                self.gone = True
            self.error = str(getattr(exc, "explanation", None) or exc)
            return None
        self.error = None
        return _snapshot(info)

    def handle(self, event: Any) -> None:
        if event is _END:
            self.feed.alive = False
            return
        action = str(event.get("Action") or event.get("status") or "")
        if action == "die":
            self.died = True
            code = ((event.get("Actor") or {}).get("Attributes") or {}).get("exitCode")
            if code is not None and str(code).lstrip("-").isdigit():
                self.die_code = int(code)
        elif action == "oom":
            self.oom = True
        elif action == "restart":
            self.restarted = True
        elif action == "destroy":
            self.gone = True
        # health_status events only trigger the re-inspect below: inspect reflects them (the daemon
        # updates the state before it logs the event), so one source of truth is enough.

    def wait(self, seconds: float) -> None:
        """Sleep until an event arrives or `seconds` pass; then take in every queued event."""
        try:
            item = self.feed.queue.get(timeout=max(seconds, 0.0))
        except queue.Empty:
            return
        self.handle(item)
        while True:
            try:
                self.handle(self.feed.queue.get_nowait())
            except queue.Empty:
                return

    def poll_interval(self) -> float:
        # Poll fast whenever events cannot be trusted to wake us: not (yet) subscribed, or the stream ended.
        return SAFETY_POLL if self.feed.alive and self.feed.subscribed.is_set() else FALLBACK_POLL

    def failure(self, snap: _Snapshot | None) -> GateResult | None:
        """A reason to give up right now, or None."""
        if self.gone:
            return self.result(False, "exited", "the container was removed while its health was being checked", self.die_code)
        if snap is None:
            return None
        code = self.die_code if self.die_code is not None else snap.exit_code
        oom = " (killed by the kernel's OOM killer)" if self.oom or snap.oom_killed else ""
        restarts = snap.restart_count - self.baseline
        if snap.restarting or restarts > 0 or self.restarted or (self.died and snap.running):
            count = f"{restarts} restart(s) during the gate" if restarts > 0 else "restarting"
            return self.result(False, "restarting", f"the container is in a restart loop: it exited with code {code}{oom} "
                               f"and its restart policy restarted it ({count})", code)
        if self.died or not snap.running:
            status = f" (status {snap.status})" if snap.status and snap.status not in ("exited", "dead") else ""
            return self.result(False, "exited", f"the container exited with code {code}{oom}{status}", code)
        if snap.health == "unhealthy":
            detail = f"; last check said: {snap.health_output}" if snap.health_output else ""
            return self.result(False, "unhealthy", f"the container's healthcheck reports unhealthy{detail}")
        return None


def _health_phase(watch: _Watch, health_timeout: float, grace_period: float) -> GateResult:
    deadline = watch.start + health_timeout
    grace_end = watch.start + grace_period
    snap = watch.refresh()
    watch.baseline = snap.restart_count if snap is not None else 0
    while True:
        failed = watch.failure(snap)
        if failed is not None:
            return failed
        if snap is not None and snap.health == "healthy":
            return watch.result(True, "healthy", f"the container became healthy after {watch.elapsed():.1f}s")
        no_healthcheck = snap is not None and snap.health is None
        # Without a healthcheck the grace period is the observation window, even past health_timeout.
        limit = grace_end if no_healthcheck else deadline
        now = watch.clock()
        if now >= limit:
            if no_healthcheck and snap.paused:
                return watch.result(False, "timeout", f"the container was paused at the end of its {grace_period:g}s grace period")
            if no_healthcheck:
                return watch.result(True, "running", f"the container has no healthcheck and kept running for {grace_period:g}s")
            if snap is None:
                return watch.result(False, "timeout", f"could not inspect the container for {health_timeout:g}s: {watch.error}")
            detail = f"; last check said: {snap.health_output}" if snap.health_output else ""
            why = "is paused" if snap.paused else f"is still '{snap.health}'"
            return watch.result(False, "timeout", f"the container's healthcheck {why} after {health_timeout:g}s{detail}")
        watch.wait(min(limit - now, watch.poll_interval()))
        snap = watch.refresh()


def _probe_url(url: str, timeout: float) -> tuple[bool, str]:
    if requests is None:
        return False, "the Python library requests is not installed"
    session = requests.Session()
    session.trust_env = False  # the probe targets this host: no proxies from the environment, no ~/.netrc
    try:
        response = session.get(url, timeout=timeout, allow_redirects=False, headers={"User-Agent": "freshdock.core readiness probe"})
        response.close()
    except Exception as exc:  # noqa: BLE001 - refused, reset, timeout, bad URL: all mean "not ready yet"
        return False, f"GET {url} failed: {exc}"
    finally:
        session.close()
    return 200 <= response.status_code < 400, f"GET {url} answered HTTP {response.status_code}"


def _probe_command(api: Any, container_id: str, command: list | str, timeout: float) -> tuple[bool, str]:
    argv = ["sh", "-c", command] if isinstance(command, str) else [str(arg) for arg in command]
    outcome = run_exec(api, container_id, argv, timeout)
    if outcome.ok:
        return True, "the readiness command exited 0"
    if outcome.error is not None:
        return False, f"the readiness command could not run: {outcome.error}"
    if outcome.timed_out:
        return False, f"the readiness command timed out after {timeout:g}s"
    tail = outcome.output.strip()[-200:]
    return False, f"the readiness command exited {outcome.exit_code}" + (f": {tail}" if tail else "")


def _readiness_phase(watch: _Watch, readiness: Readiness, deadline: float, passed: GateResult) -> GateResult:
    probes = 0
    pause = 0.1
    detail = "no readiness probe configured"
    while True:
        remaining = deadline - watch.clock()
        # The first probe always gets its full timeout, even when the health phase used up the budget.
        budget = readiness.timeout if probes == 0 else min(readiness.timeout, max(remaining, 0.1))
        probes += 1
        if readiness.command:
            ready, detail = _probe_command(watch.api, watch.container_id, readiness.command, budget)
        elif readiness.url:
            ready, detail = _probe_url(readiness.url, budget)
        else:
            ready = True
        if ready:
            return watch.result(True, passed.state, f"{passed.reason}; ready after {probes} probe(s) ({detail})")
        failed = watch.failure(watch.refresh())
        if failed is not None:
            return failed
        remaining = deadline - watch.clock()
        if remaining <= 0:
            return watch.result(False, "not_ready", f"{passed.reason}, but it was not ready after {watch.elapsed():.1f}s "
                                f"and {probes} probe(s): {detail}")
        watch.wait(min(pause, remaining))
        pause = min(pause * 2, 1.0)  # quick first retries, then at most one probe a second


def gate(api: Any, container_id: str, health_timeout: float, grace_period: float, readiness: Readiness | None = None,
         clock: Callable[[], float] = time.monotonic) -> GateResult:
    """Decide whether the freshly started container is healthy. Never raises; failures are results."""
    start = clock()
    wall = time.time()
    span = max(health_timeout, grace_period) + (readiness.timeout if readiness else 0.0) + EVENT_SLACK
    # Subscribe from a moment before the gate so a die between `start` and this call is still reported.
    feed = _EventFeed(api, container_id, since=wall - 0.5, until=wall + span)
    feed.start(min(SUBSCRIBE_WAIT, max(health_timeout, 0.1)))
    watch = _Watch(api, container_id, feed, clock, start)
    try:
        passed = _health_phase(watch, health_timeout, grace_period)
        if not passed.ok or readiness is None or not (readiness.command or readiness.url):
            return passed
        return _readiness_phase(watch, readiness, start + health_timeout, passed)
    except Exception as exc:  # noqa: BLE001 - the caller must always get a verdict it can roll back on
        return watch.result(False, "timeout", f"the health gate failed unexpectedly: {exc}")
    finally:
        feed.close()


def last_logs(api: Any, container_id: str, lines: int = 20) -> list:
    """The container's last log lines (stdout+stderr). Never raises: on error, one line saying why."""
    try:
        raw = api.logs(container_id, stdout=True, stderr=True, tail=max(int(lines), 1), timestamps=False)
    except Exception as exc:  # noqa: BLE001 - logs are context for a rollback report, never a reason to fail it
        return [f"(logs unavailable: {getattr(exc, 'explanation', None) or exc})"]
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", errors="replace")
    else:
        text = str(raw or "")
    return [line.rstrip("\r") for line in text.splitlines()][-max(int(lines), 1):]
