# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Undo and finish: restore the original container, or complete a gated update, from what the journal says.

Used by the live rollback and by crash recovery alike, so both follow the same, tested steps. Each step
checks the engine's real state first (by container ID, never by name alone), so running it twice, or after
a crash at any point, converges on exactly one container under the name.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.freshdock.core.plugins.module_utils.engine import Engine, docker
from ansible_collections.freshdock.core.plugins.module_utils.errors import EngineError

PHASE_CREATE = "create"
PHASE_STOP = "stop"
PHASE_RENAME = "rename"
PHASE_START = "start"
PHASE_GATE = "gate"
PHASE_COMMIT = "commit"


def _inspect(engine: Engine, ref: str | None) -> dict | None:
    return engine.inspect_container(ref) if ref else None


def remove_new(engine: Engine, journal: dict) -> None:
    """Remove the new container: by its recorded ID, or the temp-named one created during this journal."""
    new = _inspect(engine, journal.get("new_id"))
    if new is None and journal.get("phase") == PHASE_CREATE:
        # Crash between create and the journal write: the temp-named container is ours only if it was made
        # after this journal began (a user's container under that name was refused before create).
        candidate = _inspect(engine, journal.get("temp_name"))
        if candidate is not None and candidate["Id"] != journal["old_id"] and \
                _created_after(candidate, journal.get("started", 0)):
            new = candidate
    if new is not None and new["Id"] != journal["old_id"]:
        engine.call(f"remove the new container {new['Name'].lstrip('/')}", engine.client.remove_container,
                    new["Id"], force=True, v=False)


def _created_after(container: dict, started: float) -> bool:
    created = container.get("Created", "")
    try:
        stamp = datetime.datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return False
    return stamp.timestamp() >= int(started) - 1


def restore_original(engine: Engine, journal: dict, wait: float = 10.0) -> str:
    """Put the original container back under its name, running if it was; returns its ID."""
    name, old_id = journal["name"], journal["old_id"]
    remove_new(engine, journal)
    old = _inspect(engine, old_id)
    if old is None:
        raise EngineError(f"the original container {name!r} ({old_id[:12]}) no longer exists; nothing to restore")
    if old["Name"].lstrip("/") != name:
        engine.call(f"rename {old['Name'].lstrip('/')} back to {name}", engine.client.rename, old_id, name)
    if journal.get("was_running") and not old.get("State", {}).get("Running"):
        engine.call(f"start the original container {name}", engine.client.start, old_id)
        _wait_running(engine, old_id, wait)
    return old_id


def _wait_running(engine: Engine, container_id: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        state = (_inspect(engine, container_id) or {}).get("State", {})
        if state.get("Running") and not state.get("Restarting"):
            return
        if time.monotonic() >= deadline:
            raise EngineError(f"the restored container {container_id[:12]} did not keep running "
                              f"(status {state.get('Status')!r}); check its logs")
        time.sleep(0.1)


def finish_commit(engine: Engine, journal: dict) -> list:
    """The new container passed its gate: remove the archive (keeping volumes). Returns warnings."""
    warnings = []
    archive = _inspect(engine, journal["old_id"])
    if archive is not None and archive["Name"].lstrip("/") != journal["name"]:
        try:
            engine.call(f"remove the archived container {archive['Name'].lstrip('/')}",
                        engine.client.remove_container, archive["Id"], force=False, v=False)
        except EngineError as exc:
            warnings.append(f"{exc}; remove it by hand when convenient")
    return warnings


def is_docker_error(exc: Exception) -> bool:
    return docker is not None and isinstance(exc, docker.errors.DockerException)
