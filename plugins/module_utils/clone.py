# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container inspect -> create body that keeps what the user set and lets the new image's defaults apply.

`docker inspect` shows the container config *merged* with its image's config, so replaying it verbatim (what
freshdock and Watchtower's simple mode do) freezes the OLD image's ENV/CMD/LABELS/HEALTHCHECK/... into the new
container. Subtracting the old image's config gives back (close to) what the user asked for at `docker run`
time; the daemon then merges the NEW image's config at create, exactly as it did the first time.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

SHORT_ID = 12
MULTI_NETWORK_CREATE = (1, 44)  # first API version that accepts several EndpointsConfig entries at create
HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Single-valued image settings the user can override per container; equal to the old image's => image default.
IMAGE_SCALARS = ("WorkingDir", "User", "StopSignal", "Shell", "OnBuild")
# Filled in by the daemon when the endpoint is joined; sending them back pins stale state (or is rejected).
ENDPOINT_RUNTIME = ("NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
                    "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress", "DNSNames")
# Network modes whose (only) endpoint carries nothing the user can configure; Docker 25+ even rejects aliases there.
UNCONFIGURABLE_NETWORKS = ("bridge", "default", "host", "none")
# The daemon answers 400 "conflicting options" for these with network_mode container:<id>.
CONTAINER_MODE_CONFLICTS = ("Hostname", "Domainname", "ExposedPorts", "MacAddress")


@dataclass
class CreateSpec:
    image: str
    body: dict
    extra_networks: list = field(default_factory=list)
    dropped: list = field(default_factory=list)
    # User settings kept although the new image changed the default they shadow (worth telling the user).
    kept: list = field(default_factory=list)


def api_tuple(api_version: str) -> tuple | None:
    try:
        return tuple(int(part) for part in str(api_version).split(".")[:2])
    except ValueError:
        return None


def multi_network_create(api_version: str) -> bool:
    # An unparseable version takes the create-then-connect path: it works on every engine.
    parsed = api_tuple(api_version)
    return parsed is not None and parsed >= MULTI_NETWORK_CREATE


def _env_key(entry: str) -> str:
    return entry.split("=", 1)[0]


def _bind_source(bind: str) -> str:
    return bind.split(":", 1)[0]


def anonymous_volumes(container: dict) -> list:
    """[(volume_name, destination, read_only)] for volume mounts the user did not name.

    Those are the image's VOLUMEs and `-v /path` (generated 64-hex names); a plain create would make fresh,
    empty ones, so they are re-attached by name. A volume inherited through VolumesFrom also lands here;
    re-attaching it by name at the same destination is the same mount.
    """
    host = container.get("HostConfig") or {}
    named = {_bind_source(bind) for bind in host.get("Binds") or []}
    named.update(mount.get("Source") for mount in host.get("Mounts") or [] if mount.get("Source"))
    found = []
    for mount in container.get("Mounts") or []:
        if mount.get("Type") != "volume" or not mount.get("Name") or mount["Name"] in named:
            continue
        found.append((mount["Name"], mount["Destination"], not mount.get("RW", True)))
    # inspect lists Mounts in Go map order; sorted keeps specs (and their diffs) stable between runs.
    return sorted(found, key=lambda volume: volume[1])


def _reattach(config: dict, host: dict, volumes: list) -> None:
    for name, destination, read_only in volumes:
        # `--mount type=volume,dst=/x` has no Source; a second mount at /x would be a duplicate mount point.
        unnamed = [mount for mount in host.get("Mounts") or []
                   if mount.get("Type") == "volume" and not mount.get("Source") and mount.get("Target") == destination]
        if unnamed:
            unnamed[0]["Source"] = name
        else:
            host["Binds"] = list(host.get("Binds") or []) + [f"{name}:{destination}{':ro' if read_only else ''}"]
        if destination in (config.get("Volumes") or {}):
            del config["Volumes"][destination]
    if "Volumes" in config and not config["Volumes"]:
        del config["Volumes"]


def _subtract_env(config: dict, old: dict, new: dict | None, dropped: list, kept: list) -> None:
    defaults = set(old.get("Env") or [])
    user = [entry for entry in config.get("Env") or [] if entry not in defaults]
    gone = [_env_key(entry) for entry in config.get("Env") or [] if entry in defaults]
    if gone:
        dropped.append(f"old image default Env: {', '.join(gone)}")
    config["Env"] = user
    if new is None:
        return
    old_keys = {_env_key(entry): entry for entry in old.get("Env") or []}
    new_keys = {_env_key(entry): entry for entry in new.get("Env") or []}
    for entry in user:
        key = _env_key(entry)
        if key in new_keys and new_keys[key] != old_keys.get(key):
            kept.append(f"Env {key}: user value kept over the new image default")


def _subtract_command(config: dict, old: dict, new: dict | None, dropped: list, kept: list) -> None:
    if config.get("Entrypoint") != old.get("Entrypoint"):
        # `--entrypoint` makes the daemon ignore the image's CMD, so Cmd is the user's too: keep both.
        if new is not None and new.get("Entrypoint") != old.get("Entrypoint"):
            kept.append("Entrypoint: user value kept over the new image default")
        return
    config.pop("Entrypoint", None)
    if config.get("Cmd") == old.get("Cmd"):
        config.pop("Cmd", None)
        config.pop("ArgsEscaped", None)
        dropped.append("old image default Cmd")
    elif new is not None and new.get("Cmd") != old.get("Cmd"):
        kept.append("Cmd: user value kept over the new image default")


def _subtract_healthcheck(config: dict, old: dict, dropped: list) -> None:
    # Per field, as the daemon merges it: `--health-interval` alone keeps the image's test, so a new image's
    # test must still apply while the user's interval stays.
    mine, image = config.get("Healthcheck"), old.get("Healthcheck")
    if mine is None or not image:
        return
    user = {key: value for key, value in mine.items() if value != image.get(key)}
    if user:
        config["Healthcheck"] = user
    else:
        del config["Healthcheck"]
        dropped.append("old image default Healthcheck")


def _subtract_map(config: dict, key: str, old: dict, dropped: list, equal_value: bool) -> None:
    mine, image = config.get(key), old.get(key) or {}
    if not mine:
        return
    if equal_value:
        user = {name: value for name, value in mine.items() if name not in image or image[name] != value}
    else:
        user = {name: value for name, value in mine.items() if name not in image}
    gone = sorted(set(mine) - set(user))
    if gone:
        dropped.append(f"old image default {key}: {', '.join(gone)}")
    if user or key == "Labels":
        config[key] = user
    else:
        del config[key]


def subtract_image_defaults(config: dict, old_image: dict, new_image: dict | None) -> tuple:
    """Config minus the old image's config; returns (config, dropped notes, kept notes)."""
    config = copy.deepcopy(config)
    old = (old_image or {}).get("Config") or {}
    # None: no new image to compare with, so no "kept over a changed default" notes.
    new = None if new_image is None else (new_image.get("Config") or {})
    dropped: list = []
    kept: list = []
    _subtract_env(config, old, new, dropped, kept)
    _subtract_command(config, old, new, dropped, kept)
    _subtract_healthcheck(config, old, dropped)
    for key in IMAGE_SCALARS:
        if key in config and config[key] == old.get(key):
            del config[key]
        elif key in config and new is not None and new.get(key) != old.get(key) and key != "OnBuild":
            kept.append(f"{key}: user value kept over the new image default")
    _subtract_map(config, "Labels", old, dropped, equal_value=True)
    _subtract_map(config, "ExposedPorts", old, dropped, equal_value=False)
    _subtract_map(config, "Volumes", old, dropped, equal_value=False)
    return config, dropped, kept


def _endpoint(name: str, settings: dict, short_id: str, dropped: list) -> dict:
    endpoint = {key: copy.deepcopy(value) for key, value in settings.items() if key not in ENDPOINT_RUNTIME}
    if settings.get("MacAddress"):
        # moby#48168: inspect cannot tell a generated MAC from a configured one; pinning generated ones
        # produces duplicates once the IP is reassigned. A configured MAC on API < 1.44 is in Config.MacAddress.
        dropped.append(f"generated MAC {settings['MacAddress']} on {name}")
    if endpoint.get("DriverOpts") is None:
        endpoint.pop("DriverOpts", None)
    for key in ("IPAMConfig", "Links"):
        if not endpoint.get(key):
            endpoint.pop(key, None)
    aliases = endpoint.get("Aliases") or []
    if short_id in aliases:
        dropped.append(f"container-ID alias {short_id} on {name}")
    aliases = [alias for alias in aliases if alias != short_id]
    if aliases:
        endpoint["Aliases"] = aliases
    else:
        endpoint.pop("Aliases", None)
    return endpoint


def _endpoints(container: dict, network_mode: str, dropped: list) -> dict:
    if network_mode in ("host", "none") or network_mode.startswith("container:"):
        return {}
    short_id = (container.get("Id") or "")[:SHORT_ID]
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    return {name: _endpoint(name, settings or {}, short_id, dropped)
            for name, settings in networks.items() if name not in UNCONFIGURABLE_NETWORKS}


def _primary(network_mode: str, endpoints: dict, networks: dict) -> str | None:
    if network_mode in UNCONFIGURABLE_NETWORKS:
        return None
    for name in endpoints:
        network_id = (networks.get(name) or {}).get("NetworkID") or ""
        if network_mode in (name, network_id) or (len(network_mode) >= SHORT_ID and network_id.startswith(network_mode)):
            return name
    return next(iter(endpoints), None)


def _split_networks(container: dict, network_mode: str, endpoints: dict, api_version: str) -> tuple:
    if multi_network_create(api_version):
        return endpoints, []
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    primary = _primary(network_mode, endpoints, networks)
    first = {primary: endpoints[primary]} if primary else {}
    return first, [(name, endpoint) for name, endpoint in endpoints.items() if name != primary]


def _body(config: dict, host: dict, endpoints: dict) -> dict:
    body = dict(config)
    body["HostConfig"] = host
    body["NetworkingConfig"] = {"EndpointsConfig": endpoints}
    return body


def _strip_container_mode_conflicts(config: dict) -> list:
    dropped = [f"{key} (not allowed with network_mode container:)" for key in CONTAINER_MODE_CONFLICTS if config.get(key)]
    for key in CONTAINER_MODE_CONFLICTS:
        config.pop(key, None)
    return dropped


def build_spec(container: dict, old_image: dict | None, new_image: dict | None, api_version: str) -> CreateSpec:
    """Create spec for the updated container: user settings kept, the new image's defaults free to apply."""
    raw = container.get("Config") or {}
    image = raw.get("Image") or ""
    if old_image is None:
        config = copy.deepcopy(raw)
        dropped = ["nothing of the old image's defaults: the image is gone, so its Env, Cmd, Labels, ... stay frozen"]
        kept: list = []
    else:
        config, dropped, kept = subtract_image_defaults(raw, old_image, new_image)
    config["Image"] = image
    short_id = (container.get("Id") or "")[:SHORT_ID]
    if short_id and config.get("Hostname") == short_id:
        del config["Hostname"]
        dropped.append(f"generated hostname {short_id}")
    host = copy.deepcopy(container.get("HostConfig") or {})
    _reattach(config, host, anonymous_volumes(container))
    network_mode = host.get("NetworkMode") or "default"
    if network_mode.startswith("container:"):
        # Updating a dependent itself (an app behind a VPN container): the daemon copied the owner's hostname in.
        dropped += _strip_container_mode_conflicts(config)
    endpoints = _endpoints(container, network_mode, dropped)
    in_body, extra = _split_networks(container, network_mode, endpoints, api_version)
    return CreateSpec(image=image, body=_body(config, host, in_body), extra_networks=extra, dropped=dropped, kept=kept)


def dependent_spec(container: dict, network_mode: str, api_version: str, image: str | None = None) -> CreateSpec:
    """Verbatim clone of a `network_mode: container:<owner>` dependent, pointed at `network_mode`.

    Same image (a repair must not smuggle in an upgrade), so nothing is subtracted. `image` lets the caller pin
    the image ID when the tag has moved since the dependent was created. `api_version` is unused: a
    container-mode dependent has no endpoints to split.
    """
    del api_version
    config = copy.deepcopy(container.get("Config") or {})
    reference = config.get("Image") or ""
    config["Image"] = image or reference
    dropped = _strip_container_mode_conflicts(config)
    host = copy.deepcopy(container.get("HostConfig") or {})
    host["NetworkMode"] = network_mode
    _reattach(config, host, anonymous_volumes(container))
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    if networks:
        dropped.append(f"network endpoints {', '.join(sorted(networks))} (not allowed with network_mode container:)")
    return CreateSpec(image=config["Image"], body=_body(config, host, {}), extra_networks=[], dropped=dropped)


def _link(link: str) -> tuple:
    name, _sep, alias = link.partition(":")
    return (name, alias or None)


def connect_arguments(endpoint: dict) -> dict:
    """docker SDK connect_container_to_network() keywords for an endpoint config from build_spec."""
    ipam = endpoint.get("IPAMConfig") or {}
    arguments = {
        "aliases": endpoint.get("Aliases") or None,
        "links": [_link(link) for link in endpoint.get("Links") or []] or None,
        "ipv4_address": ipam.get("IPv4Address") or None,
        "ipv6_address": ipam.get("IPv6Address") or None,
        "link_local_ips": ipam.get("LinkLocalIPs") or None,
        "driver_opt": endpoint.get("DriverOpts") or None,
        "mac_address": endpoint.get("MacAddress") or None,
    }
    return {key: value for key, value in arguments.items() if value is not None}


def create_container(api, spec: CreateSpec, name: str) -> str:
    """Create the container (not started), connect the extra networks; returns its ID.

    A half-connected container would come up without some of its networks, so any connect failure removes it
    and re-raises; the old container is untouched either way.
    """
    created = api.create_container_from_config(spec.body, name=name)
    container_id = created["Id"]
    try:
        for network, endpoint in spec.extra_networks:
            api.connect_container_to_network(container_id, network, **connect_arguments(endpoint))
    except Exception:
        try:
            # v=False: the re-attached volumes hold the user's data.
            api.remove_container(container_id, v=False, force=True)
        except Exception:  # noqa: BLE001, S110 - the connect error is the one worth reporting
            pass
        raise
    return container_id
