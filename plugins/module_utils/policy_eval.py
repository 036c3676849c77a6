# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``policy: true``: labels → policy, schedules → due-ness, and what each container waits for (update order).

The last check of each container is kept in state_dir, so schedules work as periodic one-shots: a container is
due when a cron fire time lies between its last check and now, whatever the run cadence; a missed window is
caught up once. Check mode reads that state but never writes it, so a check never consumes a window.
"""

from __future__ import annotations

import datetime

from ansible_collections.freshdock.core.plugins.module_utils import policy as pol
from ansible_collections.freshdock.core.plugins.module_utils import schedule as sch
from ansible_collections.freshdock.core.plugins.module_utils.state import StateDir

_COMPOSE_PROJECT = "com.docker.compose.project"
_COMPOSE_SERVICE = "com.docker.compose.service"
_COMPOSE_DEPENDS = "com.docker.compose.depends_on"


def _dependencies(data: dict, by_service: dict) -> list:
    """Containers this one needs running first: its network-namespace owner and compose depends_on services."""
    needs = []
    mode = (data.get("HostConfig") or {}).get("NetworkMode") or ""
    if mode.startswith("container:"):
        needs.append(mode.split(":", 1)[1])
    labels = (data.get("Config") or {}).get("Labels") or {}
    project = labels.get(_COMPOSE_PROJECT)
    for item in (labels.get(_COMPOSE_DEPENDS) or "").split(","):
        service = item.split(":", 1)[0].strip()
        if project and service:
            needs.extend(by_service.get((project, service), []))
    return needs


def apply_policy(targets: list, state: StateDir | None, watch_all: bool, default_mode: str | None,
                 default_cleanup: bool, now: float, record: bool) -> list:
    """Adds enabled/mode/schedule/due/… to each container target's result; returns warnings."""
    warnings = []
    containers = [t for t in targets if t.inspect is not None]
    by_service: dict = {}
    for target in containers:
        labels = target.inspect["Config"].get("Labels") or {}
        key = (labels.get(_COMPOSE_PROJECT), labels.get(_COMPOSE_SERVICE))
        if key[0] and key[1]:
            by_service.setdefault(key, []).append(target.container)
    moment = datetime.datetime.fromtimestamp(now).astimezone()
    for target in containers:
        labels = target.inspect["Config"].get("Labels") or {}
        policy = pol.evaluate(labels, watch_all=watch_all, default_mode=default_mode, default_cleanup=default_cleanup)
        for warning in policy.warnings:
            warnings.append(f"container {target.container}: {warning}")
        due = _due(policy, state, target.container, moment) if policy.valid and policy.enabled else False
        if record and state is not None and policy.valid and policy.enabled and policy.mode in pol.UPDATING_MODES:
            state.record_check(target.container, now)
        target.extra.update({
            "enabled": policy.enabled and policy.valid, "mode": policy.mode, "schedule": policy.schedule,
            "due": due, "cleanup": policy.cleanup, "notify": policy.notify,
            "policy_valid": policy.valid, "policy_warnings": list(policy.warnings),
            "depends_on": _dependencies(target.inspect, by_service),
            "compose_project": labels.get(_COMPOSE_PROJECT),
        })
    return warnings


def _due(policy: pol.Policy, state: StateDir | None, name: str, moment: datetime.datetime) -> bool:
    if policy.mode in ("live", "watch"):
        return True
    if policy.mode not in pol.UPDATING_MODES or not policy.schedule:
        return False
    last = state.last_check(name) if state is not None else None
    last_moment = datetime.datetime.fromtimestamp(last).astimezone() if last is not None else None
    return sch.is_due(sch.parse_cron(policy.schedule), last_moment, moment)
