# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs shared by every module (kept in step with doc_fragments/engine.py and registry.py)."""

from __future__ import annotations

import os

from ansible_collections.freshdock.core.plugins.module_utils.credentials import Credential, CredentialStore
from ansible_collections.freshdock.core.plugins.module_utils.engine import EngineOptions
from ansible_collections.freshdock.core.plugins.module_utils.errors import FreshdockError
from ansible_collections.freshdock.core.plugins.module_utils.reference import validate_registry_host
from ansible_collections.freshdock.core.plugins.module_utils.registry import RegistryClient
from ansible_collections.freshdock.core.plugins.module_utils.registry_endpoint import RegistryOptions

ENGINE_ARGS = {
    "docker_host": {"type": "str", "aliases": ["docker_url"]},
    "api_version": {"type": "str", "default": "auto"},
    "engine_timeout": {"type": "float", "default": 60.0},
    "tls": {"type": "bool", "default": False},
    "tls_verify": {"type": "bool", "default": False},
    "tls_ca_path": {"type": "path"},
    "tls_client_cert": {"type": "path"},
    "tls_client_key": {"type": "path"},
}

REGISTRY_ARGS = {
    "registries": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "registry": {"type": "str", "required": True},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
            "insecure": {"type": "bool"},
            "ca_path": {"type": "path"},
        },
    },
    "docker_config_path": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
    "concurrency": {"type": "int", "default": 8},
    "timeout": {"type": "float", "default": 15.0},
}


class OptionError(FreshdockError):
    """A module option value that cannot work; the message names the option and the fix."""


def engine_options(params: dict) -> EngineOptions:
    if params.get("engine_timeout") is not None and params["engine_timeout"] <= 0:
        raise OptionError(f"engine_timeout must be a positive number of seconds, got {params['engine_timeout']}")
    return EngineOptions(
        docker_host=params.get("docker_host"),
        api_version=params.get("api_version") or "auto",
        timeout=params.get("engine_timeout") or 60.0,
        tls=bool(params.get("tls")),
        tls_verify=bool(params.get("tls_verify")),
        ca_path=params.get("tls_ca_path"),
        client_cert=params.get("tls_client_cert"),
        client_key=params.get("tls_client_key"),
    )


def registry_settings(params: dict) -> tuple:
    """(explicit credentials by host, RegistryOptions by host) from the ``registries`` option."""
    if not 1 <= params.get("concurrency", 8) <= 64:
        raise OptionError(f"concurrency must be between 1 and 64, got {params.get('concurrency')}")
    if params.get("timeout", 15.0) <= 0:
        raise OptionError(f"timeout must be a positive number of seconds, got {params.get('timeout')}")
    credentials: dict = {}
    options: dict = {}
    for index, entry in enumerate(params.get("registries") or []):
        where = f"registries[{index}]"
        try:
            host = validate_registry_host(entry["registry"])
        except FreshdockError as exc:
            raise OptionError(f"{where}.registry: {exc}") from None
        if host in options:
            raise OptionError(f"{where}: registry {host!r} is listed twice; merge the entries")
        username, password = entry.get("username"), entry.get("password")
        if bool(username) != bool(password):
            raise OptionError(f"{where} ({host}): give both username and password, or neither")
        if username:
            credentials[host] = Credential(username=username, secret=password, source="option")
        if entry.get("ca_path") and not os.path.isfile(entry["ca_path"]):
            raise OptionError(f"{where}.ca_path ({host}): {entry['ca_path']} is not a readable file; give the CA bundle's path")
        options[host] = RegistryOptions(host, entry.get("insecure"), entry.get("ca_path"))
    return credentials, options


def registry_client(params: dict, insecure_hint=None) -> RegistryClient:
    """The run's one registry client, from the shared registry options (credentials: client.credentials)."""
    explicit, options = registry_settings(params)
    kwargs = {"insecure_hint": insecure_hint} if insecure_hint is not None else {}
    credentials = CredentialStore(explicit=explicit, config_path=params.get("docker_config_path"))
    return RegistryClient(credentials, options, validate_certs=params["validate_certs"], timeout=params["timeout"],
                          concurrency=params["concurrency"], **kwargs)


def default_params(spec: dict, **given) -> dict:
    """Module parameters as AnsibleModule would fill them (for callers outside a module: tests, benchmarks)."""
    params = {name: option.get("default") for name, option in spec.items()}
    params.update(given)
    return params
