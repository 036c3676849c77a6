# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import copy

import pytest

from ansible_collections.freshdock.core.plugins.module_utils import clone

# Trimmed from real inspects on dockerd 20.10.24 (API 1.41): `docker run --init -e B=user -e EXTRA=x -l user.l=u
# -v /tmp/…:/bind -v fdx-named:/named --tmpfs … --network fdx-a --network-alias web --ip 10.231.1.10 …` on an
# image with VOLUME /data, then `docker network connect --alias web-b --ip 10.231.2.10 fdx-b`.
ID = "313a1dcb23275545d217ad9b9a0ae12c38d3ae0ff2b10818046a205ca4f02afc"
ANON = "42c45adab215c903cf727802bb9560f76b765d4333196b62d8dab3e827de23c9"
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CMD = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
HEALTH = {"Test": ["CMD-SHELL", "true"], "Interval": 1000000000, "Retries": 3}
NET_A = "7f82c04a75185c74e97c19affc24256cb7dea7d7a6bd2d48648409da9283db7c"


def _endpoint(ip: str, alias: str, network_id: str, mac: str) -> dict:
    return {"IPAMConfig": {"IPv4Address": ip}, "Links": None, "Aliases": [alias, ID[:12]], "NetworkID": network_id,
            "EndpointID": "c6130d7f8ad87e43f8197aa783ff5716774287f2bdd67d4c2fa2cf40d4093345", "Gateway": ip[:-2] + "1",
            "IPAddress": ip, "IPPrefixLen": 24, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "MacAddress": mac, "DriverOpts": None}


CONTAINER = {
    "Id": ID, "Name": "/fdx-main", "Image": "sha256:8e9d188e982a90dae202b97a73becc93ae2c5ee26dac976beeab6cb251a9cb3a",
    "Mounts": [
        {"Type": "bind", "Source": "/tmp/tmpbz1gakwe", "Destination": "/bind", "Mode": "rw", "RW": True, "Propagation": "rprivate"},
        {"Type": "volume", "Name": "fdx-named", "Source": "/var/lib/docker/volumes/fdx-named/_data", "Destination": "/named",
         "Driver": "local", "Mode": "rw", "RW": True, "Propagation": ""},
        {"Type": "volume", "Name": ANON, "Source": f"/var/lib/docker/volumes/{ANON}/_data", "Destination": "/data",
         "Driver": "local", "Mode": "", "RW": True, "Propagation": ""},
    ],
    "Config": {
        "Hostname": ID[:12], "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
        "ExposedPorts": {"8080/tcp": {}}, "Tty": False, "OpenStdin": False, "StdinOnce": False,
        "Env": ["B=user", "EXTRA=x", PATH, "A=1"], "Cmd": CMD, "Healthcheck": HEALTH,
        "Image": "127.0.0.1:38613/explore/app:v1", "Volumes": {"/bind": {}, "/data": {}, "/named": {}},
        "WorkingDir": "/srv", "Entrypoint": None, "OnBuild": None,
        "Labels": {"img.label": "one", "org.opencontainers.image.version": "v1", "user.l": "u"}, "StopSignal": "SIGTERM",
    },
    "HostConfig": {
        "Binds": ["/tmp/tmpbz1gakwe:/bind:rw", "fdx-named:/named:rw"], "LogConfig": {"Type": "json-file", "Config": {}},
        "NetworkMode": "fdx-a", "PortBindings": None, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
        "VolumesFrom": None, "CapAdd": ["NET_ADMIN"], "CapDrop": None, "ExtraHosts": ["h.example:10.0.0.9"],
        "Tmpfs": {"/run/t": "size=1m"}, "Memory": 67108864, "Ulimits": [{"Name": "nofile", "Hard": 2048, "Soft": 1024}],
        "Init": True, "ShmSize": 67108864,
    },
    "NetworkSettings": {"Networks": {
        "fdx-a": _endpoint("10.231.1.10", "web", NET_A, "02:42:0a:e7:01:0a"),
        "fdx-b": _endpoint("10.231.2.10", "web-b", "81e5c2695a80144878473ede8edc535d0ed1b9a53cf87772747d427872843f72",
                           "02:42:0a:e7:02:0a"),
    }},
}
OLD_IMAGE = {"Id": CONTAINER["Image"], "Config": {
    "Hostname": "", "Domainname": "", "User": "", "ExposedPorts": {"8080/tcp": {}}, "Env": [PATH, "A=1", "B=2"], "Cmd": CMD,
    "Healthcheck": HEALTH, "Image": "", "Volumes": {"/data": {}}, "WorkingDir": "/srv", "Entrypoint": None, "OnBuild": None,
    "Labels": {"img.label": "one", "org.opencontainers.image.version": "v1"}, "StopSignal": "SIGTERM"}}
NEW_IMAGE = {"Id": "sha256:" + "2" * 64, "Config": dict(
    OLD_IMAGE["Config"], Env=[PATH, "A=10", "B=20"], Cmd=["sh", "-c", "exec sleep 3600"], WorkingDir="/srv2",
    Labels={"img.label": "two", "org.opencontainers.image.version": "v2"})}
# `docker run --init --network container:fdx-main … sleep 100` on the same image (the daemon copies the owner's hostname).
DEPENDENT = {
    "Id": "f2262fdc23e748d9bd3e66105edae165a8fca1cd7b8c1def00ca828b49ac761d", "Name": "/fdx-dep",
    "Mounts": [{"Type": "volume", "Name": "28e0" + "a" * 60, "Source": "/v/_data", "Destination": "/data", "Driver": "local",
                "Mode": "", "RW": True, "Propagation": ""}],
    "Config": dict(CONTAINER["Config"], Env=[PATH, "A=1", "B=2"], Cmd=["sleep", "100"], Volumes={"/data": {}},
                   Labels=OLD_IMAGE["Config"]["Labels"]),
    "HostConfig": {"Binds": None, "NetworkMode": f"container:{ID}", "Init": True, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}},
    "NetworkSettings": {"Networks": {}},
}


def spec(container: dict | None = None, old: dict | str | None = "v1", new: dict | str | None = "v2", api: str = "1.41"):
    """build_spec on a copy; old/new default to the fixture images ("v1", "v2"), None means no such image."""
    images = {"v1": OLD_IMAGE, "v2": NEW_IMAGE}
    old = images[old] if isinstance(old, str) else old
    new = images[new] if isinstance(new, str) else new
    return clone.build_spec(copy.deepcopy(container or CONTAINER), old, new, api)


def with_config(**changes) -> dict:
    container = copy.deepcopy(CONTAINER)
    container["Config"].update(changes)
    return container


def image_with(**changes) -> dict:
    return {"Id": OLD_IMAGE["Id"], "Config": dict(OLD_IMAGE["Config"], **changes)}


def test_real_inspect_gives_the_expected_create_body():
    built = spec()
    assert built.image == "127.0.0.1:38613/explore/app:v1"
    assert built.body == {
        "Domainname": "", "AttachStdin": False, "AttachStdout": True, "AttachStderr": True, "Tty": False, "OpenStdin": False,
        "StdinOnce": False, "Env": ["B=user", "EXTRA=x"], "Image": "127.0.0.1:38613/explore/app:v1",
        "Volumes": {"/bind": {}, "/named": {}}, "Labels": {"user.l": "u"},
        "HostConfig": dict(CONTAINER["HostConfig"], Binds=["/tmp/tmpbz1gakwe:/bind:rw", "fdx-named:/named:rw", f"{ANON}:/data"]),
        "NetworkingConfig": {"EndpointsConfig": {"fdx-a": {"IPAMConfig": {"IPv4Address": "10.231.1.10"}, "Aliases": ["web"]}}},
    }
    assert built.extra_networks == [("fdx-b", {"IPAMConfig": {"IPv4Address": "10.231.2.10"}, "Aliases": ["web-b"]})]
    assert built.dropped == [
        "old image default Env: PATH, A", "old image default Cmd", "old image default Healthcheck",
        "old image default Labels: img.label, org.opencontainers.image.version", "old image default ExposedPorts: 8080/tcp",
        "old image default Volumes: /data", f"generated hostname {ID[:12]}",
        "generated MAC 02:42:0a:e7:01:0a on fdx-a", f"container-ID alias {ID[:12]} on fdx-a",
        "generated MAC 02:42:0a:e7:02:0a on fdx-b", f"container-ID alias {ID[:12]} on fdx-b",
    ]
    assert built.kept == ["Env B: user value kept over the new image default"]


def test_input_is_not_modified():
    container = copy.deepcopy(CONTAINER)
    clone.build_spec(container, OLD_IMAGE, NEW_IMAGE, "1.44")
    clone.dependent_spec(container, "container:x", "1.41")
    assert container == CONTAINER


@pytest.mark.parametrize(("env", "image_env", "expected"), [
    (["B=user", "EXTRA=x", PATH, "A=1"], [PATH, "A=1", "B=2"], ["B=user", "EXTRA=x"]),
    (["Z=1", PATH, "A=1", "Q=a=b", "E="], [PATH, "A=1"], ["Z=1", "Q=a=b", "E="]),  # order, '=' in values, empty values
    ([PATH, "A=2"], [PATH, "A=1"], ["A=2"]),  # same key, other value: the user's
    ([PATH], [PATH], []),
    (None, [PATH], []),
])
def test_env_minus_image_defaults(env, image_env, expected):
    assert spec(with_config(Env=env), image_with(Env=image_env)).body["Env"] == expected


@pytest.mark.parametrize(("entrypoint", "cmd", "image_entrypoint", "image_cmd", "body"), [
    (None, CMD, None, CMD, {}),  # both image defaults: the new image's apply
    (None, ["sleep", "5"], None, CMD, {"Cmd": ["sleep", "5"]}),  # `docker run image sleep 5`
    (["/init"], ["serve"], ["/init"], ["serve"], {}),
    (["/init"], ["debug"], ["/init"], ["serve"], {"Cmd": ["debug"]}),
    (["/bin/sh"], CMD, None, CMD, {"Entrypoint": ["/bin/sh"], "Cmd": CMD}),  # --entrypoint: the daemon ignored the image's CMD
    (["/bin/sh"], None, ["/init"], ["serve"], {"Entrypoint": ["/bin/sh"], "Cmd": None}),
])
def test_cmd_and_entrypoint(entrypoint, cmd, image_entrypoint, image_cmd, body):
    built = spec(with_config(Entrypoint=entrypoint, Cmd=cmd), image_with(Entrypoint=image_entrypoint, Cmd=image_cmd))
    assert {key: built.body[key] for key in ("Entrypoint", "Cmd") if key in built.body} == body


def test_args_escaped_goes_with_the_image_cmd():
    built = spec(with_config(ArgsEscaped=True), image_with(ArgsEscaped=True))
    assert "ArgsEscaped" not in built.body and "Cmd" not in built.body


def test_cmd_override_over_a_changed_default_is_reported():
    built = spec(with_config(Cmd=["sleep", "5"]))
    assert built.body["Cmd"] == ["sleep", "5"]
    assert "Cmd: user value kept over the new image default" in built.kept
    assert spec(with_config(Cmd=["sleep", "5"]), new=OLD_IMAGE).kept == []
    assert spec(with_config(Cmd=["sleep", "5"]), new=None).kept == []


@pytest.mark.parametrize("key", ["WorkingDir", "User", "StopSignal", "Shell"])
def test_scalars_dropped_when_image_default(key):
    value = {"WorkingDir": "/srv", "User": "1000:1000", "StopSignal": "SIGQUIT", "Shell": ["/bin/ash", "-c"]}[key]
    assert key not in spec(with_config(**{key: value}), image_with(**{key: value})).body
    other = {"WorkingDir": "/mine", "User": "0", "StopSignal": "SIGINT", "Shell": ["/bin/bash", "-c"]}[key]
    built = spec(with_config(**{key: other}), image_with(**{key: value}), image_with(**{key: value + value[:1]}))
    assert built.body[key] == other
    assert f"{key}: user value kept over the new image default" in built.kept


def test_user_set_to_the_image_value_is_indistinguishable_and_follows_the_new_image():
    # `-e A=1` on an image with ENV A=1 reads exactly like the image default; documented limitation.
    assert spec(with_config(Env=["A=1"]), image_with(Env=["A=1"])).body["Env"] == []


@pytest.mark.parametrize(("mine", "image", "expected"), [
    (HEALTH, HEALTH, None),
    (dict(HEALTH, Interval=5), HEALTH, {"Interval": 5}),  # `--health-interval` alone: the new image's test applies
    ({"Test": ["NONE"]}, HEALTH, {"Test": ["NONE"]}),  # --no-healthcheck
    (HEALTH, None, HEALTH),  # the image had none: all the user's
    (None, None, None),
])
def test_healthcheck_per_field(mine, image, expected):
    built = spec(with_config(Healthcheck=mine), image_with(Healthcheck=image))
    assert built.body.get("Healthcheck") == expected


def test_labels_keep_user_keys_and_changed_values():
    built = spec(with_config(Labels={"img.label": "mine", "org.opencontainers.image.version": "v1", "user.l": "u"}))
    assert built.body["Labels"] == {"img.label": "mine", "user.l": "u"}
    assert spec(with_config(Labels=OLD_IMAGE["Config"]["Labels"])).body["Labels"] == {}


def test_exposed_ports_and_volumes_keep_only_undeclared_entries():
    built = spec(with_config(ExposedPorts={"8080/tcp": {}, "53/udp": {}}, Volumes={"/data": {}, "/cache": {}}))
    assert built.body["ExposedPorts"] == {"53/udp": {}}
    assert built.body["Volumes"] == {"/cache": {}}
    built = spec(with_config(ExposedPorts={"8080/tcp": {}}, Volumes={"/data": {}}))
    assert "ExposedPorts" not in built.body and "Volumes" not in built.body


def test_old_image_gone_keeps_everything_verbatim():
    built = spec(old=None)
    config = dict(CONTAINER["Config"], Volumes={"/bind": {}, "/named": {}})
    del config["Hostname"]
    assert {key: value for key, value in built.body.items() if key not in ("HostConfig", "NetworkingConfig")} == config
    assert built.dropped[0].startswith("nothing of the old image's defaults")
    assert built.body["HostConfig"]["Binds"][-1] == f"{ANON}:/data"


def test_anonymous_volumes_from_real_mounts():
    assert clone.anonymous_volumes(CONTAINER) == [(ANON, "/data", False)]
    assert clone.anonymous_volumes({"Mounts": None}) == []


def test_anonymous_volumes_sorted_read_only_and_unnamed_mounts():
    container = copy.deepcopy(CONTAINER)
    container["Mounts"] += [
        {"Type": "volume", "Name": "b" * 64, "Destination": "/cache", "RW": False},
        {"Type": "volume", "Name": "c" * 64, "Destination": "/m", "RW": True},
        {"Type": "volume", "Name": "by-mount", "Destination": "/x", "RW": True},
        {"Type": "tmpfs", "Source": "", "Destination": "/run/t", "RW": True},
    ]
    container["HostConfig"]["Mounts"] = [{"Type": "volume", "Target": "/m"}, {"Type": "volume", "Source": "by-mount", "Target": "/x"}]
    container["Config"]["Volumes"]["/cache"] = {}
    assert clone.anonymous_volumes(container) == [("b" * 64, "/cache", True), (ANON, "/data", False), ("c" * 64, "/m", False)]
    host = spec(container).body["HostConfig"]
    assert host["Binds"][2:] == [f"{'b' * 64}:/cache:ro", f"{ANON}:/data"]
    assert host["Mounts"] == [{"Type": "volume", "Target": "/m", "Source": "c" * 64}, container["HostConfig"]["Mounts"][1]]
    assert "/cache" not in spec(container).body.get("Volumes", {})


@pytest.mark.parametrize(("hostname", "kept"), [(ID[:12], False), ("web01", True), ("0123456789ab", True)])
def test_only_the_generated_hostname_is_dropped(hostname, kept):
    assert ("Hostname" in spec(with_config(Hostname=hostname)).body) is kept


def test_configured_mac_and_other_config_fields_kept():
    built = spec(with_config(MacAddress="02:42:ac:11:00:99", StopTimeout=3, Domainname="example.org", Tty=True))
    assert (built.body["MacAddress"], built.body["StopTimeout"], built.body["Domainname"], built.body["Tty"]) == \
        ("02:42:ac:11:00:99", 3, "example.org", True)


def test_endpoint_keeps_user_settings_only():
    container = copy.deepcopy(CONTAINER)
    endpoint = container["NetworkSettings"]["Networks"]["fdx-a"]
    endpoint.update(Links=["db:database"], DriverOpts={"com.example.opt": "1"}, DNSNames=["fdx-main", ID[:12]], GwPriority=5,
                    IPAMConfig={"IPv4Address": "10.231.1.10", "IPv6Address": "fd00::10", "LinkLocalIPs": ["169.254.1.1"]})
    assert spec(container).body["NetworkingConfig"]["EndpointsConfig"]["fdx-a"] == {
        "IPAMConfig": {"IPv4Address": "10.231.1.10", "IPv6Address": "fd00::10", "LinkLocalIPs": ["169.254.1.1"]},
        "Links": ["db:database"], "Aliases": ["web"], "DriverOpts": {"com.example.opt": "1"}, "GwPriority": 5}


def test_api_144_creates_with_every_network():
    built = spec(api="1.44")
    assert sorted(built.body["NetworkingConfig"]["EndpointsConfig"]) == ["fdx-a", "fdx-b"]
    assert built.extra_networks == []
    assert sorted(spec(api="1.47").body["NetworkingConfig"]["EndpointsConfig"]) == ["fdx-a", "fdx-b"]


@pytest.mark.parametrize(("api", "multi"), [("1.41", False), ("1.43", False), ("1.44", True), ("1.51", True), ("2.0", True),
                                            ("auto", False), ("", False)])
def test_multi_network_create(api, multi):
    assert clone.multi_network_create(api) is multi


@pytest.mark.parametrize("mode", ["fdx-b", "81e5c2695a80144878473ede8edc535d0ed1b9a53cf87772747d427872843f72", "81e5c2695a80"])
def test_primary_network_by_name_or_id(mode):
    container = copy.deepcopy(CONTAINER)
    container["HostConfig"]["NetworkMode"] = mode
    built = spec(container)
    assert list(built.body["NetworkingConfig"]["EndpointsConfig"]) == ["fdx-b"]
    assert [name for name, _endpoint in built.extra_networks] == ["fdx-a"]


def test_unknown_network_mode_uses_the_first_network():
    container = copy.deepcopy(CONTAINER)
    container["HostConfig"]["NetworkMode"] = "gone"
    assert list(spec(container).body["NetworkingConfig"]["EndpointsConfig"]) == ["fdx-a"]


@pytest.mark.parametrize("mode", ["none", "host", f"container:{'f' * 64}"])
def test_no_endpoints_for_unconfigurable_modes(mode):
    container = copy.deepcopy(CONTAINER)
    container["HostConfig"]["NetworkMode"] = mode
    container["NetworkSettings"]["Networks"] = {mode: dict(_endpoint("10.0.0.2", "x", "", ""), Aliases=None, IPAMConfig=None)}
    built = spec(container, api="1.44")
    assert built.body["NetworkingConfig"] == {"EndpointsConfig": {}} and built.extra_networks == []
    assert built.body["HostConfig"]["NetworkMode"] == mode


@pytest.mark.parametrize("mode", ["default", "bridge"])
def test_default_bridge_gets_no_endpoint_and_user_networks_are_connected(mode):
    container = copy.deepcopy(CONTAINER)
    container["HostConfig"]["NetworkMode"] = mode
    container["NetworkSettings"]["Networks"]["bridge"] = dict(_endpoint("172.17.0.2", "x", "b" * 64, "02:42:ac:11:00:02"),
                                                              Aliases=None, IPAMConfig=None)
    built = spec(container)
    assert built.body["NetworkingConfig"] == {"EndpointsConfig": {}}
    assert [name for name, _endpoint in built.extra_networks] == ["fdx-a", "fdx-b"]
    assert sorted(spec(container, api="1.44").body["NetworkingConfig"]["EndpointsConfig"]) == ["fdx-a", "fdx-b"]


def test_updating_a_container_mode_container_strips_what_the_daemon_rejects():
    dependent = copy.deepcopy(DEPENDENT)
    dependent["Config"].update(Domainname="example.org", ExposedPorts={"8080/tcp": {}, "53/udp": {}})
    built = spec(dependent, api="1.44")
    assert not {"Hostname", "Domainname", "ExposedPorts", "MacAddress"} & set(built.body)
    assert built.body["HostConfig"]["NetworkMode"] == f"container:{ID}"
    assert built.body["Cmd"] == ["sleep", "100"] and built.body["Env"] == []
    assert "Hostname (not allowed with network_mode container:)" in built.dropped


def test_dependent_spec_is_a_verbatim_clone_without_network_settings():
    built = clone.dependent_spec(copy.deepcopy(DEPENDENT), "container:" + "e" * 64, "1.41")
    config = {key: value for key, value in DEPENDENT["Config"].items() if key not in ("Hostname", "Domainname", "ExposedPorts")}
    config.pop("Volumes")  # the anonymous /data is re-attached by name instead
    assert {key: value for key, value in built.body.items() if key not in ("HostConfig", "NetworkingConfig")} == config
    assert built.body["HostConfig"] == dict(DEPENDENT["HostConfig"], NetworkMode="container:" + "e" * 64,
                                            Binds=[f"{'28e0' + 'a' * 60}:/data"])
    assert built.body["NetworkingConfig"] == {"EndpointsConfig": {}} and built.extra_networks == []
    assert built.image == DEPENDENT["Config"]["Image"]
    assert built.dropped == ["Hostname (not allowed with network_mode container:)",
                             "ExposedPorts (not allowed with network_mode container:)"]


def test_dependent_spec_strips_endpoints_and_mac_and_can_pin_the_image():
    dependent = copy.deepcopy(DEPENDENT)
    dependent["Config"]["MacAddress"] = "02:42:ac:11:00:09"
    dependent["NetworkSettings"]["Networks"] = {"fdx-a": _endpoint("10.231.1.11", "dep", NET_A, "02:42:0a:e7:01:0b")}
    built = clone.dependent_spec(dependent, "container:fdx-main", "1.44", image="sha256:" + "1" * 64)
    assert built.image == built.body["Image"] == "sha256:" + "1" * 64
    assert "MacAddress" not in built.body and built.body["NetworkingConfig"] == {"EndpointsConfig": {}}
    assert "network endpoints fdx-a (not allowed with network_mode container:)" in built.dropped


class FakeApi:
    def __init__(self, fail_connect: str | None = None, fail_remove: bool = False) -> None:
        self.calls: list = []
        self.fail_connect, self.fail_remove = fail_connect, fail_remove

    def create_container_from_config(self, body, name=None):
        self.calls.append(("create", name, body))
        return {"Id": "n" * 64, "Warnings": []}

    def connect_container_to_network(self, container, net_id, **kwargs):
        self.calls.append(("connect", container, net_id, kwargs))
        if net_id == self.fail_connect:
            raise RuntimeError(f"cannot connect to {net_id}")

    def remove_container(self, container, v=False, force=False):
        self.calls.append(("remove", container, v, force))
        if self.fail_remove:
            raise RuntimeError("remove failed too")


def test_create_container_connects_the_extra_networks():
    built = spec()
    built.extra_networks.append(("fdx-c", {"IPAMConfig": {"IPv6Address": "fd00::5"}, "Links": ["db:database", "cache"],
                                           "DriverOpts": {"o": "1"}}))
    api = FakeApi()
    assert clone.create_container(api, built, "app-new") == "n" * 64
    assert api.calls == [
        ("create", "app-new", built.body),
        ("connect", "n" * 64, "fdx-b", {"aliases": ["web-b"], "ipv4_address": "10.231.2.10"}),
        ("connect", "n" * 64, "fdx-c", {"links": [("db", "database"), ("cache", None)], "ipv6_address": "fd00::5",
                                        "driver_opt": {"o": "1"}}),
    ]


@pytest.mark.parametrize("fail_remove", [False, True])
def test_create_container_removes_the_half_made_container(fail_remove):
    api = FakeApi(fail_connect="fdx-b", fail_remove=fail_remove)
    with pytest.raises(RuntimeError, match="cannot connect to fdx-b"):
        clone.create_container(api, spec(), "app-new")
    assert api.calls[-1] == ("remove", "n" * 64, False, True)


def test_create_container_without_extra_networks_only_creates():
    api = FakeApi()
    clone.create_container(api, spec(api="1.44"), "x")
    assert [call[0] for call in api.calls] == ["create"]
