# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Persistent state in ``state_dir``: per-container lock, update journal and failed digests.

Keyed by the engine's ID and the container name, so several engines on one machine (rootful and rootless,
Docker and Podman, test engines) never share or clobber each other's state. Every write is atomic
(temp file, fsync, rename) because a journal that is half written after a crash is worse than none.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import time
from typing import Iterator

from ansible_collections.freshdock.core.plugins.module_utils.errors import FreshdockError

DEFAULT_STATE_DIR = "/var/lib/freshdock"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class StateError(FreshdockError):
    """state_dir cannot be used, or another run holds the container's lock for too long."""


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name) or "_"


class StateDir:
    def __init__(self, root: str, engine_id: str) -> None:
        self.root = root
        self.base = os.path.join(root, "engines", _safe(engine_id))

    def _path(self, name: str, suffix: str) -> str:
        return os.path.join(self.base, f"{_safe(name)}.{suffix}")

    def _ensure(self) -> None:
        try:
            os.makedirs(self.base, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create state_dir {self.base}: {exc.strerror}; set state_dir to a writable directory") from None

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float, sleep=time.sleep, clock=time.monotonic) -> Iterator[None]:
        """Exclusive per-container lock; a second run waits for the first, then sees its result."""
        self._ensure()
        path = self._path(name, "lock")
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
        try:
            deadline = clock() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or clock() >= deadline:
                        raise StateError(
                            f"another freshdock run has held the update lock of {name!r} ({path}) for over "
                            f"{timeout:g}s; wait for it to finish") from None
                    sleep(0.2)
            yield
        finally:
            handle.close()

    def _read(self, name: str, suffix: str) -> dict | None:
        path = self._path(name, suffix)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StateError(f"state file {path} is unreadable ({exc}); inspect it, then remove it") from None
        return data if isinstance(data, dict) else None

    def _write(self, name: str, suffix: str, data: dict) -> None:
        self._ensure()
        path = self._path(name, suffix)
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(data, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            directory = os.open(self.base, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise StateError(f"cannot write state file {path}: {exc.strerror}") from None

    def _remove(self, name: str, suffix: str) -> None:
        path = self._path(name, suffix)
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StateError(f"cannot remove state file {path}: {exc.strerror}") from None

    # -- journal ------------------------------------------------------------------------------------

    def journal(self, name: str) -> dict | None:
        return self._read(name, "journal.json")

    def write_journal(self, name: str, journal: dict) -> None:
        self._write(name, "journal.json", journal)

    def clear_journal(self, name: str) -> None:
        self._remove(name, "journal.json")

    # -- failed digests -----------------------------------------------------------------------------

    def failures(self, name: str) -> dict:
        return (self._read(name, "failed.json") or {}).get("digests", {})

    def record_failure(self, name: str, digest: str, reason: str, now: float | None = None) -> None:
        digests = self.failures(name)
        digests[digest] = {"reason": reason, "time": int(now if now is not None else time.time())}
        self._write(name, "failed.json", {"digests": digests})

    def clear_failures(self, name: str) -> None:
        self._remove(name, "failed.json")

    # -- schedule bookkeeping -----------------------------------------------------------------------

    def last_check(self, name: str) -> float | None:
        value = (self._read(name, "schedule.json") or {}).get("last_check")
        return float(value) if isinstance(value, (int, float)) else None

    def record_check(self, name: str, when: float) -> None:
        self._write(name, "schedule.json", {"last_check": when})

    # -- notifications ------------------------------------------------------------------------------

    def last_notified(self, name: str) -> str | None:
        value = (self._read(name, "notified.json") or {}).get("digest")
        return value if isinstance(value, str) else None

    def record_notified(self, name: str, digest: str) -> None:
        self._write(name, "notified.json", {"digest": digest})
