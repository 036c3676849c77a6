# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers that share the updated container's network namespace (``network_mode: container:<it>``).

Their namespace dies with the owner, so after the owner is replaced (or restored) they are re-created to
join the running one. Best effort: one broken dependent never fails the owner's update; each failure
restores that dependent and is reported.
"""

from __future__ import annotations

import time

from ansible_collections.freshdock.core.plugins.module_utils import clone
from ansible_collections.freshdock.core.plugins.module_utils.engine import Engine
from ansible_collections.freshdock.core.plugins.module_utils.errors import EngineError

_MIN_PREFIX = 12


def refers_to(network_mode: str, name: str, container_id: str) -> bool:
    if not network_mode.startswith("container:"):
        return False
    target = network_mode.split(":", 1)[1]
    return target == name or (len(target) >= _MIN_PREFIX and container_id.startswith(target))


def find(engine: Engine, name: str, container_id: str) -> list:
    """Inspect data of every container (running or not) joined to this one's namespace."""
    found = []
    for summary in engine.list_containers(None, include_stopped=True):
        if summary["Id"] == container_id:
            continue
        mode = (summary.get("HostConfig") or {}).get("NetworkMode", "")
        if refers_to(mode, name, container_id):
            data = engine.inspect_container(summary["Id"])
            if data is not None:
                found.append(data)
    return found


def recreate(engine: Engine, dependents: list, owner_name: str, owner_id: str) -> list:
    """Re-create each dependent against the owner now running under ``owner_name``; one report per dependent."""
    reports = []
    for data in dependents:
        name = data["Name"].lstrip("/")
        mode = data["HostConfig"]["NetworkMode"]
        target = mode.split(":", 1)[1]
        # A reference by ID would point at the removed container; a reference by name stays valid.
        new_mode = mode if target == owner_name else f"container:{owner_id}"
        # A repair must never smuggle in an upgrade: when the dependent's tag moved, keep the exact image it runs.
        tagged = engine.inspect_image(data["Config"].get("Image") or "")
        pinned = data["Image"] if tagged is None or tagged["Id"] != data["Image"] else None
        try:
            new_id = _replace(engine, data, new_mode, pinned)
            report = {"name": name, "id": new_id, "network_mode": new_mode, "result": "recreated"}
            if pinned:
                report["message"] = f"kept image {pinned[:19]}: its tag moved, so it is pinned until it is updated itself"
            reports.append(report)
        except EngineError as exc:
            reports.append({"name": name, "id": data["Id"], "network_mode": mode, "result": "failed", "message": str(exc)})
    return reports


def _replace(engine: Engine, data: dict, network_mode: str, image: str | None) -> str:
    name, old_id = data["Name"].lstrip("/"), data["Id"]
    was_running = bool(data.get("State", {}).get("Running"))
    spec = clone.dependent_spec(data, network_mode, engine.api_version, image=image)
    archive = f"{name}-old-{int(time.time())}"
    api = engine.client
    engine.call(f"stop dependent {name}", api.stop, old_id)
    engine.call(f"rename dependent {name}", api.rename, old_id, archive)
    try:
        new_id = engine.call(f"create dependent {name}", clone.create_container, api, spec, name)
        if was_running:
            engine.call(f"start dependent {name}", api.start, new_id)
    except EngineError:
        if engine.inspect_container(name) is not None and engine.inspect_container(name)["Id"] != old_id:
            engine.call(f"remove the failed copy of {name}", api.remove_container, name, force=True)
        engine.call(f"rename dependent {archive} back", api.rename, old_id, name)
        if was_running:
            engine.call(f"restart dependent {name}", api.start, old_id)
        raise
    engine.call(f"remove the archived dependent {archive}", api.remove_container, old_id, v=False)
    return new_id
