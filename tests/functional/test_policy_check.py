"""freshdock_digest policy: true and select against the real engine: labels, modes, due-ness, state, selection."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from fdcheck import check

from sandbox.images import publish
from sandbox.sandbox import pull_image


@pytest.fixture
def labelled(sandbox, docker_client):
    registry = sandbox.registries["anon"]
    run = uuid.uuid4().hex[:6]
    repo = f"policy-{run}/app"
    publish(registry, repo, "v1")
    pull_image(docker_client, registry, repo, "v1")
    image = f"{registry.host}/{repo}:v1"
    specs = {
        "live": {"freshdock.enable": "true", "freshdock.mode": "live"},
        "nightly": {"freshdock.enable": "TRUE ", "freshdock.mode": "nightly", "freshdock.schedule": "0 4 * * *"},
        "watch": {"com.centurylinklabs.watchtower.enable": "true", "com.centurylinklabs.watchtower.monitor-only": "true"},
        "off": {"freshdock.enable": "true", "freshdock.mode": "off"},
        "bad": {"freshdock.enable": "yes"},
        "plain": {},
    }
    made = {}
    for key, labels in specs.items():
        made[key] = docker_client.containers.run(image, ["sleep", "600"], detach=True, init=True, network_mode="none",
                                                 name=f"pol-{key}-{run}", labels=dict(labels, **{"fd.policy": run}))
    publish(registry, repo, "v1", version="v2")
    yield run, made
    for container in made.values():
        container.remove(force=True)


def _by_name(result: dict) -> dict:
    return {entry["container"].split("-")[1]: entry for entry in result["results"]}


def test_labels_modes_and_due(sandbox, labelled, tmp_path):
    run, _made = labelled
    state = tmp_path / "state"
    filters = {"label": [f"fd.policy={run}"]}
    result, warnings = check(sandbox, container_filters=filters, policy=True, state_dir=str(state))
    entries = _by_name(result)
    assert set(entries) == {"live", "nightly", "watch", "off", "bad", "plain"}
    assert {k: entries[k]["status"] for k in entries} == dict.fromkeys(entries, "stale")
    assert (entries["live"]["enabled"], entries["live"]["mode"], entries["live"]["due"]) == (True, "live", True)
    assert (entries["nightly"]["mode"], entries["nightly"]["schedule"], entries["nightly"]["due"]) == ("nightly", "0 4 * * *", False)
    assert (entries["watch"]["enabled"], entries["watch"]["mode"]) == (True, "watch")
    assert entries["off"]["mode"] == "off"
    assert entries["plain"]["enabled"] is False
    assert entries["bad"]["enabled"] is False and entries["bad"]["policy_valid"] is False
    assert any("freshdock.enable" in w and "yes" in w for w in warnings)
    # the last check was recorded for the updating modes; a missed 04:00 window is then due once
    files = {p.name for p in state.rglob("*.schedule.json")}
    assert any("pol-nightly" in name for name in files) and any("pol-live" in name for name in files)
    [nightly_file] = [p for p in state.rglob("*.schedule.json") if "pol-nightly" in p.name]
    nightly_file.write_text(json.dumps({"last_check": time.time() - 2 * 86400}))
    result, _warnings = check(sandbox, container_filters=filters, policy=True, state_dir=str(state), check_mode=True)
    assert _by_name(result)["nightly"]["due"] is True
    # check mode recorded nothing, so the window is still due; a real run consumes it
    result, _warnings = check(sandbox, container_filters=filters, policy=True, state_dir=str(state))
    assert _by_name(result)["nightly"]["due"] is True
    result, _warnings = check(sandbox, container_filters=filters, policy=True, state_dir=str(state))
    assert _by_name(result)["nightly"]["due"] is False


def test_select_narrows_exactly(sandbox, labelled, tmp_path):
    run, made = labelled
    result, _warnings = check(sandbox, container_filters={"label": [f"fd.policy={run}"]},
                              select="Config.Labels.\"freshdock.mode\" == 'live' || Config.Labels.\"freshdock.mode\" == 'off'")
    assert sorted(entry["container_id"] for entry in result["results"]) == sorted([made["live"].id, made["off"].id])
