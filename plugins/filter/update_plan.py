# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""update_plan: which freshdock_digest policy results to update, in dependency order."""

from __future__ import annotations

import heapq

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: update_plan
short_description: The containers to update, in dependency order, from freshdock_digest policy results
version_added: 0.1.0
description:
  - Takes the RV(freshdock.core.freshdock_digest#module:results) of a C(policy=true) run and returns the entries
    to update, in the order to update them.
  - An entry is a candidate when it is enabled, its labels are valid (C(policy_valid)), its mode is V(live),
    V(nightly), V(weekly) or V(monthly), it is C(due), and C(update_available) is V(true). Entries with unknown
    verdicts (C(update_available=null)) are never candidates.
  - Each candidate comes after the candidates its C(depends_on) names (by container name or ID; dependencies
    that are not candidates are ignored). Ties are broken by container name. A dependency cycle is broken by
    name too - of the cycles that wait for nothing outside themselves, the container with the smallest name goes
    first - so a container waiting behind a cycle still comes after it.
  - Entries from several hosts (with a C(host) key, as returned for C(resolve_facts)) are ordered per host
    (hosts by name); a C(depends_on) only refers to containers of the same host.
author:
  - freshdock.core developers (@freshdock)
positional: _input
options:
  _input:
    description:
      - The C(results) list of M(freshdock.core.freshdock_digest) with O(freshdock.core.freshdock_digest#module:policy=true),
        or the whole registered result (then its C(results) are used).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check every running container, with labels and schedules
  freshdock.core.freshdock_digest:
    container_filters: {}
    policy: true
  register: freshdock_check

- name: Update what is due, owners of a network namespace and compose dependencies first
  freshdock.core.freshdock_update:
    name: "{{ item.container }}"
    cleanup: "{{ item.cleanup }}"
  loop: "{{ freshdock_check.results | freshdock.core.update_plan }}"
  loop_control:
    label: "{{ item.container }}"
"""

RETURN = r"""
_value:
  description: The candidate entries, unchanged, in update order.
  type: list
  elements: dict
"""

UPDATING_MODES = frozenset(("live", "nightly", "weekly", "monthly"))
_ID_PREFIX_MIN = 12  # docker's short ID; a shorter hex string is more likely a name than an ID


def is_candidate(entry) -> bool:
    """True for an entry the update loop should act on (the rules in DOCUMENTATION)."""
    return (
        isinstance(entry, dict)
        and bool(entry.get("container"))
        and entry.get("enabled") is True
        and entry.get("policy_valid") is True
        and entry.get("mode") in UPDATING_MODES
        and entry.get("due") is True
        # 'is True': null means the verdict is unknown, and unknown is never stale.
        and entry.get("update_available") is True
    )


def _name(entry: dict) -> str:
    return str(entry["container"]).lstrip("/")


def _host(entry: dict) -> str:
    host = entry.get("host")
    return "" if host is None else str(host)


def _resolver(entries: list):
    """A function mapping one depends_on value to the index of the candidate it names, or None."""
    by_name, ids = {}, []
    for index, entry in enumerate(entries):
        by_name[(_host(entry), _name(entry))] = index
        if entry.get("container_id"):
            ids.append((_host(entry), str(entry["container_id"]), index))

    def resolve(host: str, ref) -> int | None:
        ref = str(ref).lstrip("/")
        if (host, ref) in by_name:
            return by_name[(host, ref)]
        # network_mode container:<x> is stored by the engine as the owner's ID, full or as given.
        if len(ref) >= _ID_PREFIX_MIN:
            for owner_host, container_id, index in ids:
                if owner_host == host and container_id.startswith(ref):
                    return index
        return None

    return resolve


def update_plan(results) -> list:
    if isinstance(results, dict) and "results" in results:
        results = results["results"]
    if results is None:
        return []
    if not isinstance(results, (list, tuple)):
        raise AnsibleFilterError(f"update_plan expects the list of freshdock_digest results, got {type(results).__name__}")
    candidates = [entry for entry in results if is_candidate(entry)]
    resolve = _resolver(candidates)
    keys = [(_host(entry), _name(entry), index) for index, entry in enumerate(candidates)]

    waits_for: list = [set() for _entry in candidates]
    needed_by: list = [set() for _entry in candidates]
    for index, entry in enumerate(candidates):
        depends_on = entry.get("depends_on") or []
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        for ref in depends_on:
            other = resolve(_host(entry), ref)
            if other is not None and other != index:
                waits_for[index].add(other)
                needed_by[other].add(index)

    # Kahn's algorithm with a heap keyed by (host, name): the smallest ready name goes first.
    ready = [keys[i] for i in range(len(candidates)) if not waits_for[i]]
    heapq.heapify(ready)
    done: set = set()
    order: list = []
    while len(order) < len(candidates):
        if not ready:
            heapq.heappush(ready, _cycle_breaker(waits_for, done, keys))
        index = heapq.heappop(ready)[2]
        if index in done:
            continue
        done.add(index)
        order.append(candidates[index])
        for dependent in sorted(needed_by[index]):
            waits_for[dependent].discard(index)
            if not waits_for[dependent] and dependent not in done:
                heapq.heappush(ready, keys[dependent])
    return order


def _cycle_breaker(waits_for: list, done: set, keys: list) -> tuple:
    """Key of the container that goes first when every remaining one waits: the smallest name among the cycles
    that wait for nothing outside themselves (a container merely waiting behind a cycle must not jump it)."""
    remaining = [i for i in range(len(keys)) if i not in done]
    reach = {}
    for start in remaining:
        seen, todo = set(), list(waits_for[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(waits_for[node])
        reach[start] = seen
    first_cycles = [i for i in remaining if i in reach[i] and all(i in reach[other] for other in reach[i])]
    return min(keys[i] for i in first_cycles or remaining)


class FilterModule:
    def filters(self):
        return {"update_plan": update_plan}
