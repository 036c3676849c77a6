"""The autoupdate role and its playbooks, run by ansible-playbook over three inventory hosts, each managing its
own private engine: check mode, real runs, canary rollouts, selection, request counts and notifications."""

from __future__ import annotations

import re

import pytest
from fdrole import HOSTS, Fleet, Webhook, health, republish, run_id
from fdupdate import publish_app
from test_request_count import settle

from sandbox.procs import free_port
from sandbox.registry import access_entries
from sandbox.tokenserver import read_token_log

ENABLE = "freshdock.enable"
MODE = "freshdock.mode"
LIVE = {ENABLE: "true", MODE: "live"}


@pytest.fixture
def fleet(sandbox, tmp_path):
    assert len(sandbox.engines) >= 3
    made = Fleet(sandbox, tmp_path, f"fd.role={run_id()}")
    yield made
    made.cleanup()


def test_fleet_check_then_update_then_nothing_left(sandbox, fleet):
    registry = sandbox.registries["basic"]
    run = run_id()
    repo = f"role/fleet-{run}"
    publish_app(registry, repo, "v1")
    kinds = {"live": LIVE, "watch": {ENABLE: "true", MODE: "watch"}, "off": {ENABLE: "true", MODE: "off"}, "plain": {}}
    compose = {"com.docker.compose.project": f"shop-{run}"}
    specs = [(host, registry, repo, f"fdr-{run}-{kind}", labels) for host in HOSTS for kind, labels in kinds.items()]
    # a compose pair on host0: web depends on db, both live
    specs += [("host0", registry, repo, f"fdr-{run}-db", dict(LIVE, **compose, **{"com.docker.compose.service": "db"})),
              ("host0", registry, repo, f"fdr-{run}-web", dict(LIVE, **compose, **{
                  "com.docker.compose.service": "web", "com.docker.compose.depends_on": "db:service_started:false"}))]
    fleet.start_many(specs)
    new = republish(registry, repo)
    updating = {"live", "db", "web"}
    expected = {(host, f"fdr-{run}-{kind}"): kind for host in HOSTS for kind in kinds}
    expected.update({("host0", f"fdr-{run}-db"): "db", ("host0", f"fdr-{run}-web"): "web"})
    before, before_ids = fleet.snapshot(), fleet.ids()

    # (a) check mode: every container of every host in the report, nothing changed anywhere
    check = fleet.play("check.yml")
    assert check.rc == 0, check
    assert set(check.recap) == set(HOSTS), check
    assert {host: counts["changed"] for host, counts in check.recap.items()} == dict.fromkeys(HOSTS, 0), check
    assert fleet.snapshot() == before
    report = check.report()
    assert report["check_mode"] is True
    rows = check.rows()
    assert set(rows) == set(expected)
    for key, kind in expected.items():
        row = rows[key]
        assert row["status"] == "stale", row
        assert row["remote_digest"] == new.digest, row
        assert row["action"] == ("would_update" if kind in updating else "none"), row
        assert row["image"] == f"{registry.host}/{repo}:stable"
    for kind in ("live", "watch", "off"):
        assert {rows[(host, f"fdr-{run}-{kind}")]["mode"] for host in HOSTS} == {kind}
    markdown = (fleet.report_dir / "freshdock-report.md").read_text()
    for host, name in expected:
        assert any(line.startswith(f"| {host} | {name} |") for line in markdown.splitlines()), markdown

    # (b) the real run: live containers updated and healthy, the others untouched
    update = fleet.play("update.yml")
    assert update.rc == 0, update
    assert all(counts["failed"] == 0 and counts["changed"] > 0 for counts in update.recap.values()), update
    rows, after = update.rows(), fleet.ids()
    assert set(rows) == set(expected)
    for key, kind in expected.items():
        container = fleet.container(*key)
        if kind in updating:
            assert rows[key]["action"] == "updated", rows[key]
            assert rows[key]["current_digest"] == new.digest
            assert after[key] != before_ids[key]
            assert container.image.id == new.configs["linux/amd64"]
            assert container.status == "running" and health(container) == "healthy"
        else:
            assert rows[key]["action"] == "none", rows[key]
            assert after[key] == before_ids[key]
            assert container.status == "running"
    # dependency order: db's new container was created before web's
    db, web = fleet.container("host0", f"fdr-{run}-db"), fleet.container("host0", f"fdr-{run}-web")
    assert db.attrs["Created"] < web.attrs["Created"]

    # (c) a second run has nothing to do
    again = fleet.play("update.yml")
    assert again.rc == 0, again
    assert {host: counts["changed"] for host, counts in again.recap.items()} == dict.fromkeys(HOSTS, 0), again
    assert fleet.ids() == after
    rows = again.rows()
    for key, kind in expected.items():
        assert rows[key]["action"] == "none", rows[key]
        # the others now run an older image than the tag's local one: behind_tag (still an update available)
        assert rows[key]["status"] == ("current" if kind in updating else "behind_tag"), rows[key]


def test_canary_stops_at_the_rolled_back_host_and_does_not_retry_the_digest(sandbox, fleet):
    registry = sandbox.registries["anon"]
    run = run_id()
    repo, name = f"role/canary-{run}", f"fdr-{run}-app"
    publish_app(registry, repo, "v1")
    fleet.start_many([(host, registry, repo, name, LIVE) for host in HOSTS])
    broken = republish(registry, repo, "unhealthy")
    broken_image = broken.configs["linux/amd64"]
    before, ids = fleet.snapshot(), fleet.ids()
    requests_before = len(access_entries(registry.log))

    canary = fleet.play("canary.yml")
    pulls = [e for e in settle(registry.log, requests_before) if e.method == "GET" and e.path.startswith(f"/v2/{repo}/manifests/")]
    assert pulls, "host0's engine pulled the broken image"  # the pattern the next run is checked against

    assert canary.rc != 0, canary
    assert set(canary.recap) == {"host0"}, canary  # host1 and host2 never started
    assert canary.recap["host0"]["failed"] == 1, canary
    assert "rolled back on host0" in canary.output
    row = canary.rows()[("host0", name)]
    assert (row["status"], row["action"]) == ("stale", "rolled_back"), row
    assert set(canary.rows()) == {("host0", name)}
    assert fleet.ids() == ids  # host0: the original container again; host1/2: untouched
    original = fleet.container("host0", name)
    assert original.status == "running" and original.image.id != broken_image
    assert broken_image in {image.id for image in fleet.clients["host0"].images.list()}  # host0 did try it
    for host in ("host1", "host2"):
        assert fleet.snapshot()[host] == before[host]
        assert broken_image not in {image.id for image in fleet.clients[host].images.list()}

    # the next run on host0: the rolled-back digest is skipped, not tried again (not even pulled: no manifest GET)
    requests_before = len(access_entries(registry.log))
    again = fleet.play("canary.yml", "--limit", "host0")
    pulls = [e for e in settle(registry.log, requests_before) if e.method == "GET" and e.path.startswith(f"/v2/{repo}/manifests/")]
    assert pulls == []
    assert again.rc == 0, again
    assert set(again.recap) == {"host0"} and again.recap["host0"]["changed"] == 0, again
    row = again.rows()[("host0", name)]
    assert (row["remote_digest"], row["action"]) == (broken.digest, "skipped"), row
    assert fleet.ids() == ids
    assert fleet.container("host0", name).status == "running"


def test_select_narrows_exactly_and_a_bad_expression_stops_before_anything(sandbox, fleet):
    registry = sandbox.registries["anon"]
    run = run_id()
    repos = {"a": f"role/sel-{run}/a", "b": f"role/sel-{run}/b"}
    for repo in repos.values():
        publish_app(registry, repo, "v1")
    layout = {"front-a": ("a", "front"), "front-b": ("b", "front"), "back-a": ("a", "back"), "none-b": ("b", None)}
    fleet.start_many([(host, registry, repos[image], f"fdr-{run}-{name}", dict(LIVE, **({"fd.tier": tier} if tier else {})))
                      for host in ("host0", "host1") for name, (image, tier) in layout.items()])
    for repo in repos.values():
        republish(registry, repo)
    before = fleet.snapshot()
    select = f"Config.Labels.\"fd.tier\" == 'front' && starts_with(Config.Image, '{registry.host}/{repos['a']}:')"

    check = fleet.play("check.yml", common={"freshdock_select": select})

    assert check.rc == 0, check
    assert set(check.rows()) == {("host0", f"fdr-{run}-front-a"), ("host1", f"fdr-{run}-front-a")}
    assert {row["action"] for row in check.rows().values()} == {"would_update"}
    assert fleet.snapshot() == before

    bad = fleet.play("update.yml", common={"freshdock_select": "Config.Labels.[?"})

    assert bad.rc != 0, bad
    assert all(counts["failed"] == 1 and counts["changed"] == 0 for counts in bad.recap.values()), bad
    assert "freshdock_digest failed on host0" in bad.output
    assert "is not a valid JMESPath expression" in bad.output, bad
    assert fleet.snapshot() == before  # nothing pulled, created or stopped although all of them are stale and live
    assert bad.saved is None  # not even a report


def _module_calls(run, host: str) -> dict:
    calls: dict = {}
    for record in run.records():
        if record["host"] == host and record["status"] != "skipped" and record["resolved"].startswith("freshdock.core."):
            calls[record["resolved"]] = calls.get(record["resolved"], 0) + 1
    return calls


def test_check_costs_one_module_call_per_host_for_one_or_twenty_containers(sandbox, fleet):
    registry = sandbox.registries["anon"]
    run = run_id()
    repo = f"role/many-{run}"
    publish_app(registry, repo, "v1")
    fleet.start("host0", registry, repo, f"fdr-{run}-0", LIVE)
    task = "TASK [freshdock.core.autoupdate : Check every selected container against its registry]"

    one = fleet.play("check.yml", "--limit", "host0")
    fleet.start_many([("host0", registry, repo, f"fdr-{run}-{index}", LIVE) for index in range(1, 20)])
    twenty = fleet.play("check.yml", "--limit", "host0")

    for result, count in ((one, 1), (twenty, 20)):
        assert result.rc == 0, result
        assert len(result.rows()) == count
        assert result.output.count(task) == 1
    assert _module_calls(one, "host0") == _module_calls(twenty, "host0") == {"freshdock.core.freshdock_digest": 1}
    assert len(one.records()) == len(twenty.records())  # not one task result more for 19 more containers


def test_python_requirements_are_ensured_on_request(fleet):
    """freshdock_install_requirements: the role pip-installs what the modules need (here already there: no change)."""
    task = "Install the Python libraries the freshdock modules need on the managed node"
    default = fleet.play("update.yml", "--limit", "host0")
    ensured = fleet.play("update.yml", "--limit", "host0", common={"freshdock_install_requirements": True})
    assert default.rc == 0 and ensured.rc == 0, ensured
    assert [r["status"] for r in default.records() if r["task"].endswith(task)] == ["skipped"]
    [record] = [r for r in ensured.records() if r["task"].endswith(task)]
    assert (record["status"], record["changed"]) == ("ok", False)


def test_resolve_on_controller_asks_each_image_once_for_the_fleet(sandbox, fleet):
    registry = sandbox.registries["bearer"]
    run = run_id()
    repos = [f"role/res-{run}/svc{index}" for index in range(5)]
    for repo in repos:
        publish_app(registry, repo, "v1")
    fleet.start_many([(host, registry, repo, f"fdr-{run}-svc{index}", LIVE) for host in HOSTS for index, repo in enumerate(repos)])
    moved = republish(registry, repos[0])
    heads_before, tokens_before = len(access_entries(registry.log)), len(read_token_log(registry.token_log))

    check = fleet.play("check.yml", common={"freshdock_resolve_on": "controller"})

    assert check.rc == 0, check
    heads = [entry for entry in settle(registry.log, heads_before)
             if entry.method == "HEAD" and entry.path.startswith(f"/v2/role/res-{run}/") and "/manifests/" in entry.path]
    assert len(heads) == 5, heads
    assert len(read_token_log(registry.token_log)[tokens_before:]) <= 1
    rows = check.rows()
    assert len(rows) == 15
    for host in HOSTS:
        for index in range(5):
            row = rows[(host, f"fdr-{run}-svc{index}")]
            assert row["status"] == ("stale" if index == 0 else "current"), row
            assert row["action"] == ("would_update" if index == 0 else "none"), row
            if index == 0:
                assert row["remote_digest"] == moved.digest


def _comparable(rows: dict, host: str) -> dict:
    """A host's rows without what differs between hosts anyway (host name, timings)."""
    return {name: {k: v for k, v in row.items() if k not in ("host", "duration")} for (h, name), row in rows.items() if h == host}


def test_notifications_from_real_role_runs(sandbox, fleet):
    registry = sandbox.registries["anon"]
    run = run_id()
    repos = {kind: f"role/notify-{run}/{kind}" for kind in ("ok", "bad", "seen")}
    for repo in repos.values():
        publish_app(registry, repo, "v1")
    notify = {"freshdock.notify": "true"}
    names = {kind: f"fdr-{run}-{kind}" for kind in ("ok", "bad", "seen", "quiet")}
    # host0 notifies; host1 runs the same containers without any target (the twin for "same outcome")
    twins = ("host0", "host1")
    fleet.start_many([spec for host in twins for spec in (
        (host, registry, repos["ok"], names["ok"], dict(LIVE, **notify)),
        (host, registry, repos["bad"], names["bad"], dict(LIVE, **notify)),
        (host, registry, repos["seen"], names["seen"], {ENABLE: "true", MODE: "watch", **notify}),
        (host, registry, repos["ok"], names["quiet"], LIVE),  # updated, but no freshdock.notify label
    )])
    ids = fleet.ids()
    fleet.common["freshdock_fail_on_rollback"] = False
    image = {kind: f"{registry.host}/{repo}:stable" for kind, repo in repos.items()}

    with Webhook() as hook:
        target = [{"type": "webhook", "url": hook.url}]
        new = {kind: republish(registry, repos[kind], "unhealthy" if kind == "bad" else "good") for kind in repos}

        first = fleet.play("update.yml", "--limit", "host0,host1", host_vars={"host0": {"freshdock_notify_targets": target}})

        assert first.rc == 0, first
        rows = first.rows()
        assert {kind: rows[("host0", name)]["action"] for kind, name in names.items()} == {
            "ok": "updated", "bad": "rolled_back", "seen": "none", "quiet": "updated"}
        events = {body["event"]: body for body in hook.take()}
        assert sorted(events) == ["available", "failed", "succeeded"], events
        ok, bad, seen = events["succeeded"], events["failed"], events["available"]
        assert (ok["container"], ok["host"], ok["image"]) == (names["ok"], "host0", image["ok"])
        assert ok["digest"] == new["ok"].digest
        assert ok["new_id"] == fleet.container("host0", names["ok"]).id != ids[("host0", names["ok"])]
        assert ok["title"] == f"[host0] Updated: {names['ok']}"
        assert (bad["container"], bad["host"], bad["image"]) == (names["bad"], "host0", image["bad"])
        assert bad["digest"] == new["bad"].digest
        assert "unhealthy" in bad["reason"], bad
        assert bad["restored_id"] == ids[("host0", names["bad"])] == fleet.container("host0", names["bad"]).id
        assert bad["title"] == f"[host0] Update failed: {names['bad']}"
        assert (seen["container"], seen["host"], seen["image"]) == (names["seen"], "host0", image["seen"])
        assert seen["digest"] == new["seen"].digest
        assert all(len(body["events"]) == 1 for body in events.values())
        assert _comparable(rows, "host0") == _comparable(rows, "host1")

        # the next run: the same digest is not announced again, and nothing else happened
        second = fleet.play("update.yml", "--limit", "host0", host_vars={"host0": {"freshdock_notify_targets": target}})

        assert second.rc == 0, second
        assert second.recap["host0"]["changed"] == 0, second
        assert {kind: second.rows()[("host0", name)]["action"] for kind, name in names.items()} == {
            "ok": "none", "bad": "skipped", "seen": "none", "quiet": "none"}
        assert hook.take() == []

        # an unreachable target: the same update outcome as on the twin without notifications, a warning, no failure
        closed = f"http://127.0.0.1:{free_port()}/hook"
        for kind in ("ok", "seen"):
            new[kind] = republish(registry, repos[kind])
        third = fleet.play("update.yml", "--limit", "host0,host1", host_vars={
            "host0": {"freshdock_notify_targets": [{"type": "webhook", "url": closed}], "freshdock_notify_timeout": 2}})

        assert third.rc == 0, third
        assert all(counts["failed"] == 0 for counts in third.recap.values()), third
        rows = third.rows()
        assert rows[("host0", names["ok"])]["action"] == "updated"
        assert _comparable(rows, "host0") == _comparable(rows, "host1")
        assert health(fleet.container("host0", names["ok"])) == "healthy"
        assert "notification not delivered" in third.output, third
        assert re.search(r"\[WARNING\]:.*notification not delivered", third.output), third
        assert closed not in third.output  # a webhook URL is a secret

        # one summary for the whole run, from the controller
        for kind in ("ok", "seen"):
            new[kind] = republish(registry, repos[kind])
        fourth = fleet.play("update.yml", "--limit", "host0,host1", common={
            "freshdock_notify_targets": target, "freshdock_notify_summary": "run"})

        assert fourth.rc == 0, fourth
        [summary] = hook.take()
        assert summary["event"] == "summary"
        assert summary["title"] == "freshdock on fleet: 2 updated, 0 rolled back, 2 available", summary
        assert sorted((e["host"], e["container"], e["event"]) for e in summary["events"]) == [
            ("host0", names["ok"], "succeeded"), ("host0", names["seen"], "available"),
            ("host1", names["ok"], "succeeded"), ("host1", names["seen"], "available")]
        assert {e["digest"] for e in summary["events"] if e["event"] == "available"} == {new["seen"].digest}
