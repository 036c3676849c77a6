"""The kitchen-sink container through freshdock_update: every user setting kept, new image defaults applied."""

from __future__ import annotations

import uuid

import pytest
from fdupdate import update
from kitchen import COMPOSE_LABELS, V1, V2, Made, exec_ok, make_kitchen_sink

from sandbox.images import DEFAULT_PATH, publish
from sandbox.sandbox import pull_image


@pytest.fixture
def made(docker_client):
    tracker = Made(docker_client.api)
    yield tracker
    tracker.cleanup()


def test_kitchen_sink_update(sandbox, docker_client, made, tmp_path):
    api = docker_client.api
    registry = sandbox.registries["bearer"]
    repo = f"fidelity/app-{uuid.uuid4().hex[:6]}"
    publish(registry, repo, "stable", version="v1", config=V1)
    pull_image(docker_client, registry, repo, "stable")
    image = f"{registry.host}/{repo}:stable"
    parts = make_kitchen_sink(api, made, image, labels=COMPOSE_LABELS)
    main, name = parts["main"], parts["main_name"]
    before = api.inspect_container(main)
    netns = "busybox readlink /proc/self/ns/net"
    publish(registry, repo, "stable", version="v2", config=V2)  # not pulled: the update pulls it

    result, warnings = update(sandbox, name, tmp_path / "state", health_timeout=20.0)
    assert result["action"] == "updated", result["msg"]
    after = api.inspect_container(name)
    made.containers.append(after["Id"])
    assert after["Id"] != main and after["State"]["Running"]
    # user settings as before
    assert after["Config"]["Image"] == before["Config"]["Image"] == image
    for key in ("Cmd", "User", "WorkingDir", "Entrypoint", "StopSignal"):
        assert after["Config"].get(key) == before["Config"].get(key), key
    for key in ("Test", "Interval", "Retries"):
        assert after["Config"]["Healthcheck"][key] == before["Config"]["Healthcheck"][key]
    for key in ("RestartPolicy", "CapAdd", "CapDrop", "Ulimits", "Memory", "ExtraHosts", "Init", "Tmpfs", "LogConfig",
                "NetworkMode"):
        assert after["HostConfig"][key] == before["HostConfig"][key], key
    mounts = {m["Destination"]: (m["Type"], m.get("Name") or m["Source"]) for m in after["Mounts"]}
    assert mounts == {m["Destination"]: (m["Type"], m.get("Name") or m["Source"]) for m in before["Mounts"]}
    # compose labels verbatim, user labels kept, image labels from the new image
    labels = after["Config"]["Labels"]
    assert {key: labels[key] for key in COMPOSE_LABELS} == COMPOSE_LABELS
    assert labels["user.l"] == "u" and labels["app.label"] == "mine" and labels["app.new"] == "yes"
    assert labels["org.opencontainers.image.version"] == "v2"
    # new image ENV defaults where the user set nothing
    env = after["Config"]["Env"]
    assert {"B=user", "EXTRA=x=y", "A=10", "C=3", DEFAULT_PATH} <= set(env) and "A=1" not in env
    # the anonymous volume's file is still there, and the bind mount and named volume
    assert exec_ok(api, name, "cat /data/file /scratch/file /mounted/file /bind/host-file") == "keep\nscratch\nmounted\nfrom host"
    # networks: static IPs and aliases on both internal networks
    for net, address, alias in ((parts["net_a"], parts["ip_a"], "web"), (parts["net_b"], parts["ip_b"], "web-b")):
        endpoint = after["NetworkSettings"]["Networks"][net]
        assert endpoint["IPAddress"] == address and alias in endpoint["Aliases"]
    assert after["Config"]["Hostname"] == after["Id"][:12]
    # the dependent was re-created into the new container's namespace
    [report] = result["dependents"]
    assert report["name"] == parts["dep_name"] and report["result"] == "recreated", report
    made.containers.append(report["id"])
    dependent = api.inspect_container(parts["dep_name"])
    assert dependent["Id"] == report["id"] and dependent["State"]["Running"]
    assert exec_ok(api, parts["dep_name"], netns) == exec_ok(api, name, netns)
    # the old container is gone, its volumes are not
    assert [c["Names"] for c in api.containers(all=True, filters={"id": main})] == []
    assert V1["Env"] != V2["Env"]
    assert not [w for w in warnings if "fail" in w]
