# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lifecycle hooks: read them from labels, run them with `docker exec` bounded by a timeout.

Labels (GUIDE §6, freshdock §1.1/§1.9): `freshdock.lifecycle.pre-update` / `post-update` (shell commands)
and `…-timeout` (seconds, default 60, 0 = none). Watchtower's `com.centurylinklabs.watchtower.lifecycle.*`
are fallbacks with timeouts in MINUTES. Command and timeout fall back independently; a freshdock label
always wins.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

FRESHDOCK_PREFIX = "freshdock.lifecycle."
WATCHTOWER_PREFIX = "com.centurylinklabs.watchtower.lifecycle."
PHASES = ("pre-update", "post-update")
DEFAULT_TIMEOUT = 60.0
EXIT_DEFERRED = 75  # EX_TEMPFAIL: "not now, try again later"
OUTPUT_LIMIT = 2048
# Exit codes the runtime uses when the exec'd program could not be started at all (126: found but
# not executable / runc error on 20.10; 127: not found on newer engines).
_EXEC_FAILED_CODES = (126, 127)
_EXEC_FAILED_MARKERS = ("OCI runtime exec failed", "executable file not found", "exec failed:")
_TIMEOUT_RE = re.compile(r"^\d+(\.\d+)?$")


@dataclass
class Hook:
    command: str
    timeout: float  # seconds, 0 = no timeout
    source: str  # the label or option it came from


@dataclass
class Hooks:
    pre_update: Hook | None = None
    post_update: Hook | None = None
    warnings: list = field(default_factory=list)


@dataclass
class HookResult:
    exit_code: int | None
    timed_out: bool
    output: str  # tail of combined stdout+stderr, at most OUTPUT_LIMIT bytes
    error: str | None  # the command could not be run at all

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out and self.exit_code == 0

    @property
    def deferred(self) -> bool:
        return self.error is None and not self.timed_out and self.exit_code == EXIT_DEFERRED

    def describe(self) -> str:
        """One sentence for the operator."""
        if self.error is not None:
            return f"could not run: {self.error}"
        if self.timed_out:
            return "timed out (the command may still be running in the container)"
        if self.deferred:
            return f"asked to defer the update (exit {EXIT_DEFERRED})"
        return f"exited with code {self.exit_code}"


# --------------------------------------------------------------------------- labels


@dataclass
class _Timeout:
    seconds: float | None  # None: label absent
    label: str | None = None
    raw: str | None = None
    invalid: bool = False


def _parse_timeout(labels: dict, label: str, factor: float) -> _Timeout:
    if label not in labels:
        return _Timeout(None)
    raw = str(labels[label])
    text = raw.strip()
    if not _TIMEOUT_RE.match(text):
        return _Timeout(None, label, raw, invalid=True)
    return _Timeout(float(text) * factor, label, raw)


def _phase(labels: dict, phase: str, warnings: list) -> Hook | None:
    fd_cmd_label, wt_cmd_label = FRESHDOCK_PREFIX + phase, WATCHTOWER_PREFIX + phase
    fd_to = _parse_timeout(labels, fd_cmd_label + "-timeout", 1.0)
    wt_to = _parse_timeout(labels, wt_cmd_label + "-timeout", 60.0)
    hook_name = phase.replace("-", " ") + " hook"

    # Timeouts are validated even when no command is set (freshdock does the same), so a typo is seen early.
    bad = [t for t in (fd_to, wt_to) if t.invalid]
    for item in bad:
        unit = "seconds" if item is fd_to else "minutes"
        warnings.append(f"label {item.label}={item.raw!r} is not a valid timeout (a number of {unit} >= 0, 0 = none); "
                        f"the {hook_name} is ignored")
    if fd_to.seconds is not None and wt_to.seconds is not None and fd_to.seconds != wt_to.seconds:
        warnings.append(f"labels {fd_to.label}={fd_to.raw!r} and {wt_to.label}={wt_to.raw!r} (minutes) disagree: "
                        "the freshdock label wins")

    command, source = None, None
    if fd_cmd_label in labels:
        command, source = str(labels[fd_cmd_label]), fd_cmd_label
        if wt_cmd_label in labels and str(labels[wt_cmd_label]).strip() != command.strip():
            warnings.append(f"labels {fd_cmd_label} and {wt_cmd_label} disagree: the freshdock label wins")
    elif wt_cmd_label in labels:
        command, source = str(labels[wt_cmd_label]), wt_cmd_label
    # An empty freshdock label still wins: it is the way to switch off an inherited Watchtower hook.
    if command is None or source is None or not command.strip():
        return None
    # A freshdock timeout that is invalid must not silently fall back to the Watchtower one.
    if fd_to.invalid or (fd_to.seconds is None and wt_to.invalid):
        return None
    if fd_to.seconds is not None:
        seconds = fd_to.seconds
    elif wt_to.seconds is not None:
        seconds = wt_to.seconds
    else:
        seconds = DEFAULT_TIMEOUT
    return Hook(command=command.strip(), timeout=seconds, source=source)


def hooks_from_labels(labels: dict | None) -> Hooks:
    """Pre/post-update hooks of a container from its labels; problems become warnings, never errors."""
    labels = labels or {}
    warnings: list = []
    pre = _phase(labels, "pre-update", warnings)
    post = _phase(labels, "post-update", warnings)
    return Hooks(pre_update=pre, post_update=post, warnings=warnings)


# --------------------------------------------------------------------------- exec


class _Tail:
    """Keeps only the last `limit` bytes of a stream (hooks can be chatty; the operator needs the end)."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.limit:
            del self.data[: len(self.data) - self.limit]
            self.truncated = True

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # noqa: BLE001 - closing is best effort (SSH streams cannot be cancelled)
        return


def _drain(open_stream: Callable[[], Iterable[bytes]], tail: _Tail, timeout: float) -> tuple[bool, str | None]:
    """Read the exec's output in a thread so a silent or endless command cannot block past `timeout`.

    Returns (finished, error). timeout <= 0 waits without limit.
    """
    holder: dict = {"stream": None, "error": None}

    def reader() -> None:
        try:
            holder["stream"] = open_stream()
            for chunk in holder["stream"]:
                if chunk:
                    tail.add(chunk if isinstance(chunk, bytes) else str(chunk).encode())
        except Exception as exc:  # noqa: BLE001 - reported as the hook's error; must not kill the thread silently
            holder["error"] = str(exc) or type(exc).__name__

    thread = threading.Thread(target=reader, name="freshdock-exec", daemon=True)
    thread.start()
    thread.join(timeout if timeout > 0 else None)
    if thread.is_alive():
        # No exec-kill API exists: closing our end stops reading; the process may go on in the container.
        if holder["stream"] is not None:
            _close(holder["stream"])
        return False, None
    return True, holder["error"]


def _exec_inspect(api: Any, exec_id: str, attempts: int = 20, pause: float = 0.05) -> dict:
    """The exit code can lag the end of the output stream by a few ms."""
    info: dict = {}
    for attempt in range(attempts):
        info = api.exec_inspect(exec_id) or {}
        if not info.get("Running") and info.get("ExitCode") is not None:
            return info
        if attempt + 1 < attempts:
            time.sleep(pause)
    return info


def _exec_error(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc or type(exc).__name__)


def run_exec(api: Any, container_id: str, argv: list, timeout: float) -> HookResult:
    """`docker exec` argv in the container, bounded by timeout seconds (0 = none). Never raises."""
    try:
        created = api.exec_create(container_id, [str(arg) for arg in argv], stdout=True, stderr=True, tty=False)
        exec_id = created["Id"] if isinstance(created, dict) else str(created)
    except Exception as exc:  # noqa: BLE001 - not running, gone, daemon down: all mean "could not run"
        return HookResult(None, False, "", f"cannot exec in container {container_id[:12]}: {_exec_error(exc)}")
    tail = _Tail()
    finished, stream_error = _drain(lambda: api.exec_start(exec_id, stream=True), tail, timeout)
    output = tail.text()
    if not finished:
        return HookResult(None, True, output, None)
    try:
        info = _exec_inspect(api, exec_id)
    except Exception as exc:  # noqa: BLE001 - same contract: report, don't raise
        return HookResult(None, False, output, f"cannot read the exit code: {_exec_error(exc)}")
    code = info.get("ExitCode")
    if info.get("Running") or code is None:
        detail = f" ({stream_error})" if stream_error else ""
        return HookResult(None, False, output, f"the exec reported no exit code{detail}")
    code = int(code)
    never_started = not info.get("Pid") or any(marker in output for marker in _EXEC_FAILED_MARKERS)
    if code in _EXEC_FAILED_CODES and never_started:
        # The runtime could not start the program (no sh in the image, not executable): not the hook's verdict.
        first = output.strip().splitlines()[0] if output.strip() else f"exit {code}"
        return HookResult(code, False, output, f"{argv[0]} could not be started in the container: {first}")
    return HookResult(code, False, output, None)


def run_hook(api: Any, container_id: str, hook: Hook) -> HookResult:
    """Run hook.command with `sh -c` in the container, bounded by hook.timeout. Never raises."""
    return run_exec(api, container_id, ["sh", "-c", hook.command], hook.timeout)
