# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Kept in step with ENGINE_ARGS in plugins/module_utils/options.py (a unit test compares them).
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker engine to talk to, as a URL (C(unix:///run/docker.sock), C(tcp://host:2376), C(ssh://user@host)).
      - Defaults to the E(DOCKER_HOST) environment variable, then C(unix:///var/run/docker.sock).
    type: str
    aliases: [docker_url]
  api_version:
    description:
      - Docker API version to use. V(auto) negotiates the highest version both sides support, so engines from
        20.10 (API 1.41) to the newest (minimum API 1.44) all work.
    type: str
    default: auto
  engine_timeout:
    description: Seconds to wait for an answer from the Docker engine.
    type: float
    default: 60.0
  tls:
    description: Connect to the engine over TLS without verifying its certificate (see O(tls_verify)).
    type: bool
    default: false
  tls_verify:
    description: Connect to the engine over TLS and verify its certificate against O(tls_ca_path).
    type: bool
    default: false
  tls_ca_path:
    description: CA certificate that signed the engine's TLS certificate.
    type: path
  tls_client_cert:
    description: Client certificate for engine TLS authentication (with O(tls_client_key)).
    type: path
  tls_client_key:
    description: Private key of O(tls_client_cert).
    type: path
requirements:
  - docker (Docker SDK for Python) >= 6.1.0
"""
