# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Kept in step with REGISTRY_ARGS in plugins/module_utils/options.py (a unit test compares them).
    DOCUMENTATION = r"""
options:
  registries:
    description:
      - Per-registry settings and credentials. Credentials given here win over the docker config file.
      - Without an entry, credentials come from the docker config (O(docker_config_path)), in this order
        C(credHelpers) for the registry, then C(credsStore), then C(auths).
    type: list
    elements: dict
    default: []
    suboptions:
      registry:
        description:
          - Registry host, optionally with port (V(ghcr.io), V(127.0.0.1:5000)). V(docker.io),
            V(index.docker.io) and V(registry-1.docker.io) all mean Docker Hub.
        type: str
        required: true
      username:
        description: User name (give O(registries[].password) too).
        type: str
      password:
        description: Password or access token. Never logged or returned.
        type: str
      insecure:
        description:
          - V(true) allows plain HTTP and unverified TLS for this registry, as the engine's
            C(insecure-registries) does. V(false) forces verified HTTPS even on loopback.
          - Unset, loopback registries and the engine's own insecure registries are insecure, all others are not.
        type: bool
      ca_path:
        description: CA bundle that signed this registry's TLS certificate (for private CAs).
        type: path
  docker_config_path:
    description:
      - Docker client configuration with C(auths), C(credHelpers) and C(credsStore).
      - Defaults to C($DOCKER_CONFIG/config.json), then C(~/.docker/config.json) of the user the module runs as.
      - Credential helpers run as C(docker-credential-<name> get) with a 10 second timeout; a helper that has no
        credentials for a registry means anonymous access.
    type: path
  validate_certs:
    description: Verify registry TLS certificates. Only turn this off for a test registry; prefer O(registries[].ca_path).
    type: bool
    default: true
  concurrency:
    description: Registry requests in flight at once, per registry (1 to 64).
    type: int
    default: 8
  timeout:
    description: Seconds to wait for each registry answer.
    type: float
    default: 15.0
requirements:
  - requests >= 2.28.0
"""
