"""Process plumbing shared by every sandbox daemon.

Daemons are started detached (own session) so that `python -m sandbox up` can exit while they keep
running; they are found again later through pid files. Before signalling a recorded pid we check that
its command line still mentions a path we own, so a recycled pid is never killed by mistake.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class SandboxError(RuntimeError):
    """A sandbox component did not come up (or go down) as expected."""


_HANDED_OUT: set = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return low, high


def free_port() -> int:
    """A free loopback port BELOW the kernel's ephemeral range.

    A kernel-chosen port (bind to 0) comes from the ephemeral range, where any outgoing connection of a busy test
    run (pulls, registry requests) may take it before the daemon binds it; ports below that range are only
    ever taken by explicit binds, so the short check-then-use window is practically race-free.
    """
    low, _high = _ephemeral_range()
    upper = max(low - 1, 20001)
    for _attempt in range(200):
        port = random.randint(20000, upper)
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free loopback port found between 20000 and the ephemeral range")


def spawn(
    argv: Sequence[str],
    log_path: Path,
    pid_path: Path,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a detached daemon with stdout+stderr appended to log_path; record its pid at once.

    env, when given, is the daemon's whole environment (not merged), so callers can drop variables.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=dict(os.environ) if env is None else env,
        )
    pid_path.write_text(f"{proc.pid}\n")
    return proc


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    # A zombie has exited already; only its parent's wait() is missing.
    return state != "Z"


def read_pid(pid_path: Path) -> int | None:
    try:
        return int(pid_path.read_text().strip())
    except (OSError, ValueError):
        return None


def pids_mentioning(marker: str) -> list[int]:
    """Pids whose command line contains marker (one of our private paths), excluding ourselves."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and marker in cmdline(int(entry.name)):
            found.append(int(entry.name))
    return found


def terminate(pid: int, marker: str, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after timeout; only if pid still belongs to us (cmdline has marker)."""
    if not alive(pid) or marker not in cmdline(pid):
        return
    _signal(pid, signal.SIGTERM)
    if not wait_until(lambda: not alive(pid), timeout):
        _signal(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid), 5.0)
    _reap(pid)


def kill_now(pid: int) -> None:
    """SIGKILL without a marker check: for pids found by our own container ids (their cmdline is theirs)."""
    _signal(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), 5.0)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    # Only succeeds when we are the parent (same process did up and down); harmless otherwise.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def fail_with_log(what: str, log_path: Path, detail: str = "") -> SandboxError:
    extra = f" ({detail})" if detail else ""
    return SandboxError(f"{what} did not come up{extra}; last lines of {log_path}:\n{tail(log_path)}")
