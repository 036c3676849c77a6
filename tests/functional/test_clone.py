# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""clone.build_spec / dependent_spec / create_container against the real engine (API 1.41, create-then-connect)."""

from __future__ import annotations

import random
import subprocess
import tempfile
import uuid
from pathlib import Path

import docker
import pytest

from ansible_collections.freshdock.core.plugins.module_utils import clone
from sandbox.images import DEFAULT_PATH, publish
from sandbox.sandbox import pull_image

SECOND = 1_000_000_000
V1 = {
    "Env": [DEFAULT_PATH, "A=1", "B=2"],
    "Cmd": ["sh", "-c", "echo v1 > /run/t/cmd; exec sleep 3600"],
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": SECOND, "Timeout": SECOND, "Retries": 3},
    "Labels": {"org.opencontainers.image.version": "v1", "app.label": "one", "app.same": "same"},
    "WorkingDir": "/srv",
    "Volumes": {"/data": {}},
    "ExposedPorts": {"8080/tcp": {}},
}
V2 = {
    "Env": [DEFAULT_PATH, "A=10", "B=20", "C=3"],
    "Cmd": ["sh", "-c", "echo v2 > /run/t/cmd; exec sleep 3600"],
    "Healthcheck": {"Test": ["CMD-SHELL", "test -d /"], "Interval": 2 * SECOND, "Timeout": 2 * SECOND, "Retries": 4},
    "Labels": {"org.opencontainers.image.version": "v2", "app.label": "two", "app.same": "same", "app.new": "yes"},
    "WorkingDir": "/srv2",
    "Volumes": {"/data": {}},
    "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}},
}
TMPFS = {"/run/t": "size=1m,mode=1777"}


def _free_subnets(count: int) -> list:
    routes = subprocess.run(["ip", "-o", "route"], capture_output=True, text=True, check=False).stdout
    found: list = []
    while len(found) < count:
        subnet = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24"
        if subnet.rsplit(".", 2)[0] + "." not in routes and subnet not in found:
            found.append(subnet)
    return found


class Made:
    """Everything a test creates, removed in reverse order whatever happened."""

    def __init__(self, api) -> None:
        self.api = api
        self.containers: list = []
        self.volumes: list = []
        self.networks: list = []

    def cleanup(self) -> None:
        for container in reversed(self.containers):
            try:
                self.api.remove_container(container, v=True, force=True)
            except docker.errors.NotFound:
                pass
        for name in self.volumes:
            try:
                self.api.remove_volume(name, force=True)
            except docker.errors.NotFound:
                pass
        for network in self.networks:
            self.api.remove_network(network)


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


def _exec(api, container: str, command: str, user: str = "root") -> str:
    exec_id = api.exec_create(container, ["sh", "-c", command], user=user)["Id"]
    output = api.exec_start(exec_id).decode()
    assert api.exec_inspect(exec_id)["ExitCode"] == 0, output
    return output.strip()


def _start(api, made: Made, container_id: str) -> None:
    made.containers.append(container_id)
    api.start(container_id)


def _mounts(inspect: dict) -> dict:
    return {mount["Destination"]: mount.get("Name") or mount["Source"] for mount in inspect["Mounts"]}


def test_kitchen_sink_update_and_dependent(docker_client, made, app):
    api = docker_client.api
    image, publish_v2 = app
    tag = uuid.uuid4().hex[:6]
    net_a, net_b = f"fdc-a-{tag}", f"fdc-b-{tag}"
    subnet_a, subnet_b = _free_subnets(2)
    ip_a, ip_b = subnet_a.replace(".0/24", ".10"), subnet_b.replace(".0/24", ".10")
    for net, subnet in ((net_a, subnet_a), (net_b, subnet_b)):
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        api.create_network(net, internal=True, ipam=ipam)
        made.networks.append(net)
    named = f"fdc-named-{tag}"
    api.create_volume(named)
    made.volumes.append(named)
    bind_dir = tempfile.mkdtemp(prefix="fdc-bind-")
    Path(bind_dir, "host-file").write_text("from host\n")

    host_config = api.create_host_config(
        binds=[f"{bind_dir}:/bind:ro", f"{named}:/named"], tmpfs=TMPFS,
        mounts=[docker.types.Mount("/mounted", None, type="volume")],  # `--mount type=volume,dst=...`: no name
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3}, cap_add=["NET_ADMIN"], cap_drop=["MKNOD"],
        ulimits=[docker.types.Ulimit(name="nofile", soft=1024, hard=2048)], mem_limit="64m",
        extra_hosts={"db.example": "10.9.9.9"}, init=True, network_mode=net_a,
        log_config=docker.types.LogConfig(type="json-file", config={"max-size": "1m"}),
    )
    networking = api.create_networking_config({net_a: api.create_endpoint_config(aliases=["web"], ipv4_address=ip_a)})
    main_name = f"fdc-main-{tag}"
    main = api.create_container(
        image, name=main_name, environment=["B=user", "EXTRA=x=y"], labels={"user.l": "u", "app.label": "mine"},
        command=["sh", "-c", "echo main > /run/t/cmd; exec sleep 3600"], user="1000:1000", working_dir="/work",
        healthcheck={"Test": ["CMD-SHELL", "test -f /run/t/cmd"], "Interval": SECOND // 2, "Retries": 5},
        volumes=["/scratch"], host_config=host_config, networking_config=networking)["Id"]
    made.containers.append(main)
    api.connect_container_to_network(main, net_b, aliases=["web-b"], ipv4_address=ip_b)
    _start(api, made, main)
    _exec(api, main, "echo keep > /data/file; echo scratch > /scratch/file; echo mounted > /mounted/file")
    dep_name = f"fdc-dep-{tag}"
    dep = api.create_container(image, name=dep_name, command=["sleep", "3600"],
                               host_config=api.create_host_config(network_mode=f"container:{main_name}", init=True))["Id"]
    _start(api, made, dep)

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
