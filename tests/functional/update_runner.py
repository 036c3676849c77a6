"""Run freshdock_update's logic in a child process, optionally SIGKILLing it at an exact transaction step.

Used by the crash tests: the kill is placed by wrapping the journal write (test code only), so "killed after the
stop" means exactly that, every time. Prints the result as JSON on success.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from ansible_collections.freshdock.core.plugins.module_utils import health
from ansible_collections.freshdock.core.plugins.module_utils.state import StateDir, StateError
from ansible_collections.freshdock.core.plugins.module_utils.update_run import run_update


def _kill_after_journal(phase: str) -> None:
    original = StateDir.write_journal

    def write_then_die(self, name, journal):
        original(self, name, journal)
        if journal.get("phase") == phase:
            os.kill(os.getpid(), signal.SIGKILL)
    StateDir.write_journal = write_then_die


def _fail_journal_at(phase: str) -> None:
    """The disk fills up mid-swap: the journal write of ``phase`` fails (the update must undo itself)."""
    original = StateDir.write_journal

    def write_or_fail(self, name, journal):
        if journal.get("phase") == phase:
            raise StateError(f"cannot write state file (simulated: no space left on device) at {phase}")
        original(self, name, journal)
    StateDir.write_journal = write_or_fail


def _kill_during_gate(delay: float) -> None:
    original = health.gate

    def gate_then_die(*args, **kwargs):
        time.sleep(delay)
        os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    health.gate = gate_then_die


def main() -> None:
    params = json.loads(open(sys.argv[1], encoding="utf-8").read())
    kill_at = sys.argv[2] if len(sys.argv) > 2 else ""
    if kill_at == "during-gate":
        _kill_during_gate(0.5)
    elif kill_at.startswith("fail-journal:"):
        _fail_journal_at(kill_at.split(":", 1)[1])
    elif kill_at:
        _kill_after_journal(kill_at)
    result, warnings = run_update(params)
    print(json.dumps({"result": result, "warnings": warnings}))


if __name__ == "__main__":
    main()
