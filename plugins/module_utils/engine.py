# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker engine access through the Docker SDK for Python (low-level APIClient, API version negotiated)."""

from __future__ import annotations

import ipaddress
import os
import traceback
from dataclasses import dataclass

from ansible_collections.freshdock.core.plugins.module_utils.auth import host_of, is_loopback
from ansible_collections.freshdock.core.plugins.module_utils.errors import EngineError
from ansible_collections.freshdock.core.plugins.module_utils.platform import Platform, normalize_platform

try:
    import docker
    import docker.errors
    import docker.tls
except ImportError:  # reported by the module with missing_required_lib()
    docker = None
    DOCKER_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    DOCKER_IMPORT_ERROR = None

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class EngineOptions:
    docker_host: str | None = None
    api_version: str = "auto"
    timeout: float = 60.0
    tls: bool = False
    tls_verify: bool = False
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    @property
    def base_url(self) -> str:
        return self.docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


@dataclass(frozen=True)
class LocalImage:
    id: str
    repo_digests: tuple
    repo_tags: tuple
    platform: Platform


class Engine:
    """One engine connection per module run; every daemon failure becomes an EngineError naming the object."""

    def __init__(self, options: EngineOptions, client=None) -> None:
        self.options = options
        self._client = client
        self._info: dict | None = None
        self._images: dict[str, LocalImage | None] = {}

    @property
    def client(self):
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self):
        options = self.options
        tls_config = False
        if options.tls or options.tls_verify:
            cert = (options.client_cert, options.client_key) if options.client_cert and options.client_key else None
            tls_config = docker.tls.TLSConfig(client_cert=cert, ca_cert=options.ca_path, verify=options.tls_verify)
        try:
            return docker.APIClient(base_url=options.base_url, version=options.api_version or "auto",
                                    timeout=options.timeout, tls=tls_config)
        except docker.errors.DockerException as exc:
            raise EngineError(
                f"cannot connect to the Docker engine at {options.base_url}: {exc}; "
                "check docker_host and that the daemon runs (and that this user may use its socket)"
            ) from None

    def call(self, what: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as exc:
            raise EngineError(f"the Docker engine at {self.options.base_url} refused to {what}: {exc.explanation or exc}") from None
        except docker.errors.DockerException as exc:
            raise EngineError(f"Docker engine at {self.options.base_url} failed to {what}: {exc}") from None
        except OSError as exc:
            raise EngineError(f"cannot reach the Docker engine at {self.options.base_url} to {what}: {exc}") from None

    def info(self) -> dict:
        if self._info is None:
            self._info = self.call("report its info", self.client.info)
        return self._info

    @property
    def engine_id(self) -> str:
        return str(self.info().get("ID") or "unknown")

    @property
    def platform(self) -> Platform:
        info = self.info()
        return normalize_platform(info.get("OSType") or "linux", info.get("Architecture"), "")

    def is_insecure_registry(self, registry: str) -> bool:
        """Plain HTTP allowed: loopback, or the engine's own insecure-registries (by name or CIDR)."""
        if is_loopback(registry):
            return True
        config = self.info().get("RegistryConfig") or {}
        index = (config.get("IndexConfigs") or {}).get(registry)
        if isinstance(index, dict) and index.get("Secure") is False:
            return True
        try:
            address = ipaddress.ip_address(host_of(registry).strip("[]"))
        except ValueError:
            return False
        for cidr in config.get("InsecureRegistryCIDRs") or []:
            try:
                if address in ipaddress.ip_network(cidr, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def list_containers(self, filters: dict | None, include_stopped: bool) -> list:
        return self.call("list containers", self.client.containers, all=include_stopped, filters=filters or None)

    def inspect_container(self, name: str) -> dict | None:
        try:
            return self.call(f"inspect container {name!r}", self.client.inspect_container, name)
        except docker.errors.NotFound:
            return None

    def image(self, ref: str) -> LocalImage | None:
        """Inspect an image by ID or reference once per run; None when the engine does not have it."""
        if ref not in self._images:
            try:
                data = self.call(f"inspect image {ref!r}", self.client.inspect_image, ref)
            except docker.errors.NotFound:
                data = None
            self._images[ref] = None if data is None else LocalImage(
                id=data.get("Id", ""),
                repo_digests=tuple(data.get("RepoDigests") or ()),
                repo_tags=tuple(data.get("RepoTags") or ()),
                platform=normalize_platform(data.get("Os"), data.get("Architecture"), data.get("Variant")),
            )
        return self._images[ref]

    @property
    def api_version(self) -> str:
        return str(self.client.api_version)

    def inspect_image(self, ref: str) -> dict | None:
        try:
            return self.call(f"inspect image {ref!r}", self.client.inspect_image, ref)
        except docker.errors.NotFound:
            return None

    def pull(self, reference: str, auth_config: dict | None) -> None:
        """Pull through the engine (which does its own registry auth with what we hand it)."""
        repository, sep, tag = reference.rpartition(":")
        if not sep or "/" in tag:
            repository, tag = reference, "latest"
        stream = self.call(f"pull {reference}", self.client.pull, repository, tag=tag, auth_config=auth_config,
                           stream=True, decode=True)
        try:
            for event in stream:
                if isinstance(event, dict) and event.get("error"):
                    raise EngineError(f"the engine could not pull {reference}: {event['error']}")
        except docker.errors.DockerException as exc:
            raise EngineError(f"the engine could not pull {reference}: {exc}") from None
