"""update_plan: candidate selection and dependency order (ties and cycles broken by name)."""

from __future__ import annotations

import random

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.freshdock.core.plugins.filter.update_plan import FilterModule, is_candidate, update_plan


def entry(name, depends_on=(), **over):
    base = {
        "container": name, "container_id": f"{abs(hash(name)):064x}"[:64], "image": f"reg/{name}:1",
        "enabled": True, "policy_valid": True, "mode": "live", "due": True, "update_available": True,
        "status": "stale", "depends_on": list(depends_on), "cleanup": False,
    }
    base.update(over)
    return base


def names(plan):
    return [e["container"] for e in plan]


def test_registered_as_filter():
    assert FilterModule().filters()["update_plan"] is update_plan


@pytest.mark.parametrize("over", [
    {"enabled": False}, {"policy_valid": False}, {"mode": "watch"}, {"mode": "off"}, {"mode": None},
    {"due": False}, {"update_available": False}, {"update_available": None}, {"status": "current", "update_available": False},
    {"container": None}, {"enabled": None},
])
def test_not_candidates(over):
    assert not is_candidate(entry("a", **over))
    assert update_plan([entry("a", **over)]) == []


@pytest.mark.parametrize("mode", ["live", "nightly", "weekly", "monthly"])
def test_updating_modes_are_candidates(mode):
    assert names(update_plan([entry("a", mode=mode)])) == ["a"]


def test_entries_without_policy_keys_are_never_candidates():
    plain = {"container": "a", "update_available": True, "status": "stale"}
    assert update_plan([plain]) == []


def test_ties_by_name_and_entries_unchanged():
    given = [entry("c"), entry("a"), entry("b")]
    plan = update_plan(given)
    assert names(plan) == ["a", "b", "c"]
    assert plan[0] is given[1]


def test_dependencies_first():
    # web needs api, api needs db; names alone would give api, db, web.
    plan = update_plan([entry("web", ["api"]), entry("api", ["db"]), entry("db")])
    assert names(plan) == ["db", "api", "web"]


def test_dependency_that_is_not_a_candidate_is_ignored():
    plan = update_plan([entry("a", ["z"]), entry("z", update_available=False), entry("b")])
    assert names(plan) == ["a", "b"]


def test_dependency_by_container_id_and_prefix():
    owner = entry("zz-owner")
    full = entry("a-full", [owner["container_id"]])
    short = entry("b-short", [owner["container_id"][:12]])
    assert names(update_plan([full, short, owner])) == ["zz-owner", "a-full", "b-short"]


def test_short_hex_is_not_taken_as_id_prefix():
    owner = entry("zz", container_id="abcdef" + "0" * 58)
    assert names(update_plan([entry("a", ["abcdef"]), owner])) == ["a", "zz"]


def test_diamond_is_stable():
    plan = update_plan([entry("d", ["b", "c"]), entry("c", ["a"]), entry("b", ["a"]), entry("a")])
    assert names(plan) == ["a", "b", "c", "d"]


def test_smaller_name_waits_for_its_dependency_but_others_go_first():
    plan = update_plan([entry("a", ["y"]), entry("b"), entry("y")])
    assert names(plan) == ["b", "y", "a"]


def test_cycle_broken_by_name():
    plan = update_plan([entry("b", ["a"]), entry("a", ["b"]), entry("c", ["b"])])
    assert names(plan) == ["a", "b", "c"]


def test_cycle_behind_a_dependency():
    # x -> y -> x cycle, both need m; m first, then the cycle broken by name.
    plan = update_plan([entry("y", ["x", "m"]), entry("x", ["y", "m"]), entry("m")])
    assert names(plan) == ["m", "x", "y"]


def test_waiting_behind_a_cycle_does_not_jump_it():
    # a needs y; x and y need each other: the cycle goes first (broken by name), a after it.
    plan = update_plan([entry("a", ["y"]), entry("x", ["y"]), entry("y", ["x"])])
    assert names(plan) == ["x", "y", "a"]


def test_cycle_waiting_for_another_cycle():
    # a <-> b wait for m <-> n: m, n first although a and b have smaller names.
    plan = update_plan([entry("a", ["b", "m"]), entry("b", ["a"]), entry("m", ["n"]), entry("n", ["m"])])
    assert names(plan) == ["m", "n", "a", "b"]


def test_self_dependency_and_duplicates_ignored():
    plan = update_plan([entry("a", ["a", "b", "b"]), entry("b")])
    assert names(plan) == ["b", "a"]


def test_string_depends_on_and_leading_slash():
    plan = update_plan([entry("a", "b"), entry("/b")])
    assert names(plan) == ["/b", "a"]


def test_hosts_keep_their_own_dependencies():
    plan = update_plan([
        entry("web", ["db"], host="h2"), entry("db", host="h2"),
        entry("web", ["db"], host="h1"), entry("db", host="h1", update_available=False),
    ])
    assert [(e["host"], e["container"]) for e in plan] == [("h1", "web"), ("h2", "db"), ("h2", "web")]


def test_whole_registered_result_and_empty_inputs():
    assert names(update_plan({"results": [entry("a")], "changed": False})) == ["a"]
    assert update_plan([]) == []
    assert update_plan(None) == []


def test_not_a_list():
    with pytest.raises(AnsibleFilterError, match="list of freshdock_digest results"):
        update_plan("nope")


def test_every_candidate_exactly_once_and_after_its_dependencies():
    rng = random.Random(7)
    for _round in range(300):
        pool = [f"c{i}" for i in range(rng.randint(1, 8))]
        given = [entry(n, rng.sample(pool, rng.randint(0, min(3, len(pool)))), update_available=rng.random() > 0.2)
                 for n in pool]
        rng.shuffle(given)
        plan = names(update_plan(given))
        assert sorted(plan) == sorted(e["container"] for e in given if e["update_available"])
        position = {n: i for i, n in enumerate(plan)}
        needs = {e["container"]: {d for d in e["depends_on"] if d in position and d != e["container"]}
                 for e in given if e["container"] in position}
        for name, deps in needs.items():
            for dep in deps:
                # out of order only inside a cycle (each reaches the other)
                assert position[dep] < position[name] or _reaches(needs, dep, name)


def _reaches(needs, start, goal):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(needs[node])
    return False
