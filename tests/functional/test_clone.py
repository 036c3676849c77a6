# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""clone.build_spec / dependent_spec / create_container against the real engine (API 1.41, create-then-connect)."""

from __future__ import annotations

import uuid

import pytest
from kitchen import TMPFS, V1, V2, Made, exec_ok, make_kitchen_sink

from ansible_collections.freshdock.core.plugins.module_utils import clone
from sandbox.images import DEFAULT_PATH, publish
from sandbox.sandbox import pull_image


@pytest.fixture
def made(docker_client):
    tracker = Made(docker_client.api)
    yield tracker
    tracker.cleanup()


@pytest.fixture
def app(sandbox, docker_client):
    """repo:tag holding v1 in the engine; v2 is pushed to the registry under the same tag by `publish_v2`."""
    registry = sandbox.registries["anon"]
    repo = f"clone/app-{uuid.uuid4().hex[:6]}"
    publish(registry, repo, "stable", version="v1", config=V1)
    pull_image(docker_client, registry, repo, "stable")

    def publish_v2() -> None:
        publish(registry, repo, "stable", version="v2", config=V2)
        pull_image(docker_client, registry, repo, "stable")

    return f"{registry.host}/{repo}:stable", publish_v2


_exec = exec_ok


def _start(api, made: Made, container_id: str) -> None:
    made.containers.append(container_id)
    api.start(container_id)


def _mounts(inspect: dict) -> dict:
    return {mount["Destination"]: mount.get("Name") or mount["Source"] for mount in inspect["Mounts"]}


def test_kitchen_sink_update_and_dependent(docker_client, made, app):
    api = docker_client.api
    image, publish_v2 = app
    parts = make_kitchen_sink(api, made, image)
    main, main_name, dep, dep_name = parts["main"], parts["main_name"], parts["dep"], parts["dep_name"]
    net_a, net_b, ip_a, ip_b = parts["net_a"], parts["net_b"], parts["ip_a"], parts["ip_b"]
    publish_v2()
    before = api.inspect_container(main)
    old_image, new_image = api.inspect_image(before["Image"]), api.inspect_image(image)
    assert old_image["Id"] != new_image["Id"]
    spec = clone.build_spec(before, old_image, new_image, api.api_version)
    assert api.api_version == "1.41"
    assert [net for net, _endpoint in spec.extra_networks] == [net_b]
    anonymous = {destination: name for name, destination, _ro in clone.anonymous_volumes(before)}
    assert set(anonymous) == {"/data", "/scratch", "/mounted"}
    made.volumes += list(anonymous.values())

    # Created while the old one still runs and holds both static IPs, as the transaction does.
    new = clone.create_container(api, spec, f"{main_name}-new")
    made.containers.append(new)
    api.stop(main, timeout=5)
    _start(api, made, new)
    after = api.inspect_container(new)

    assert after["Config"]["Image"] == image
    assert after["Image"] == new_image["Id"]
    # user settings, as before
    for key in ("Cmd", "User", "WorkingDir", "Entrypoint", "StopSignal"):
        assert after["Config"].get(key) == before["Config"].get(key), key
    for key in ("Test", "Interval", "Retries"):
        assert after["Config"]["Healthcheck"][key] == before["Config"]["Healthcheck"][key]
    assert after["Config"]["Healthcheck"]["Timeout"] == V2["Healthcheck"]["Timeout"]  # not set by the user
    assert dict(after["HostConfig"], Binds=None, Mounts=None) == dict(before["HostConfig"], Binds=None, Mounts=None)
    assert after["HostConfig"]["Binds"] == before["HostConfig"]["Binds"] + [f"{anonymous[dest]}:{dest}" for dest in ("/data", "/scratch")]
    assert after["HostConfig"]["Mounts"] == [dict(before["HostConfig"]["Mounts"][0], Source=anonymous["/mounted"])]
    assert _mounts(after) == _mounts(before)
    # new image defaults where the user set nothing, user values where they did
    env = after["Config"]["Env"]
    assert env[:2] == ["B=user", "EXTRA=x=y"]
    assert {"A=10", "C=3", DEFAULT_PATH} <= set(env) and "A=1" not in env and "B=20" not in env
    labels = after["Config"]["Labels"]
    assert labels == {"user.l": "u", "app.label": "mine", "app.same": "same", "app.new": "yes",
                      "org.opencontainers.image.version": "v2"}
    assert after["Config"]["ExposedPorts"] == {"8080/tcp": {}, "9090/tcp": {}}
    assert "Env B: user value kept over the new image default" in spec.kept
    # data, process, hostname
    assert _exec(api, new, "cat /data/file /scratch/file /mounted/file /bind/host-file /run/t/cmd") == \
        "keep\nscratch\nmounted\nfrom host\nmain"
    assert _exec(api, new, "id -u; pwd", user="") == "1000\n/work"
    assert after["Config"]["Hostname"] == new[:12] != before["Config"]["Hostname"]
    assert _exec(api, new, "hostname") == new[:12]
    # both networks: static IP and alias; the old container-ID alias is gone
    for net, address, alias in ((net_a, ip_a, "web"), (net_b, ip_b, "web-b")):
        endpoint = after["NetworkSettings"]["Networks"][net]
        assert endpoint["IPAMConfig"] == {"IPv4Address": address}
        assert endpoint["IPAddress"] == address
        assert alias in endpoint["Aliases"] and main[:12] not in endpoint["Aliases"]
    assert f"generated hostname {main[:12]}" in spec.dropped
    assert any(note.startswith("generated MAC 02:42:") and note.endswith(net_b) for note in spec.dropped)

    # the dependent follows the new owner into its network namespace
    dep_before = api.inspect_container(dep)
    # The tag has moved to v2: pin the image the dependent runs (a repair is not an upgrade).
    dep_spec = clone.dependent_spec(dep_before, f"container:{new}", api.api_version, image=dep_before["Image"])
    api.stop(dep, timeout=5)
    dep_new = clone.create_container(api, dep_spec, f"{dep_name}-new")
    made.containers.append(dep_new)
    _start(api, made, dep_new)
    dep_after = api.inspect_container(dep_new)
    assert dep_after["HostConfig"]["NetworkMode"] == f"container:{new}"
    assert dep_after["Config"]["Image"] == dep_after["Image"] == old_image["Id"]
    assert dep_after["Config"]["Cmd"] == ["sleep", "3600"] and dep_after["HostConfig"]["Init"] is True
    netns = "busybox readlink /proc/self/ns/net"
    assert _exec(api, dep_new, netns) == _exec(api, new, netns)
    assert _exec(api, dep_new, "hostname") == new[:12]

    # re-creating the dependent with build_spec (an app behind a VPN container is updated itself): the hostname
    # the daemon copied in from the owner must not be replayed, or create fails with "conflicting options"
    update = clone.build_spec(dep_after, old_image, new_image, api.api_version)
    assert "Hostname (not allowed with network_mode container:)" in update.dropped
    api.stop(dep_new, timeout=5)
    updated = clone.create_container(api, update, f"{dep_name}-updated")
    made.containers.append(updated)
    _start(api, made, updated)
    assert api.inspect_container(updated)["Config"]["Env"] == V1["Env"]  # it was pinned to v1's ID above
    assert _exec(api, updated, netns) == _exec(api, new, netns)


def test_image_defaults_follow_the_new_image(docker_client, made, app):
    """A container that overrode nothing gets every v2 default: Env, Cmd, WorkingDir, Healthcheck, Labels."""
    api = docker_client.api
    image, publish_v2 = app
    old_id = api.inspect_image(image)["Id"]
    plain = api.create_container(image, name=f"fdc-plain-{uuid.uuid4().hex[:6]}", host_config=api.create_host_config(
        network_mode="none", init=True, tmpfs=TMPFS))["Id"]
    _start(api, made, plain)
    _exec(api, plain, "echo keep > /data/file")
    publish_v2()
    before = api.inspect_container(plain)
    made.volumes += [name for name, _dest, _ro in clone.anonymous_volumes(before)]
    spec = clone.build_spec(before, api.inspect_image(before["Image"]), api.inspect_image(image), api.api_version)
    assert spec.extra_networks == [] and spec.body["NetworkingConfig"] == {"EndpointsConfig": {}}
    new = clone.create_container(api, spec, f"{before['Name'][1:]}-new")
    made.containers.append(new)
    api.stop(plain, timeout=5)
    _start(api, made, new)
    after = api.inspect_container(new)
    assert before["Image"] == old_id != after["Image"]
    assert after["Config"]["Env"] == V2["Env"]
    assert after["Config"]["Cmd"] == V2["Cmd"]
    assert after["Config"]["WorkingDir"] == V2["WorkingDir"]
    assert after["Config"]["Healthcheck"] == V2["Healthcheck"]
    assert after["Config"]["Labels"] == V2["Labels"]
    assert after["Config"]["ExposedPorts"] == V2["ExposedPorts"]
    assert _mounts(after) == _mounts(before)
    assert _exec(api, new, "cat /data/file /run/t/cmd; pwd") == "keep\nv2\n/srv2"
    assert dict(after["HostConfig"], Binds=None) == dict(before["HostConfig"], Binds=None)
