# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One registry host as seen during a run: scheme, TLS settings, challenge and credential state."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ansible_collections.freshdock.core.plugins.module_utils.auth import Challenge, parse_www_authenticate, pick_challenge
from ansible_collections.freshdock.core.plugins.module_utils.credentials import Credential
from ansible_collections.freshdock.core.plugins.module_utils.errors import AuthRequired, RegistryError
from ansible_collections.freshdock.core.plugins.module_utils.reference import DOCKER_HUB, DOCKER_HUB_API
from ansible_collections.freshdock.core.plugins.module_utils.transport import NO_NETRC, describe_request_error, header_lines, requests


@dataclass(frozen=True)
class RegistryOptions:
    """Per-registry settings from the module's ``registries`` option (credentials live in CredentialStore)."""

    registry: str
    insecure: bool | None = None  # None: decide from loopback / the engine's insecure-registries
    ca_path: str | None = None


class Endpoint:
    def __init__(self, registry: str, insecure: bool, verify: bool | str, concurrency: int) -> None:
        self.registry = registry
        self.api_host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        self.insecure = insecure
        self.verify = verify
        self.base_url = f"https://{self.api_host}"
        self.challenge: Challenge | None = None
        self.credential: Credential | None = None
        self.rejected = False  # the registry or its token server refused the credential
        self.withheld = False  # we refused to send the credential (unsafe realm)
        self.slots = threading.BoundedSemaphore(max(1, concurrency))
        self.auth_lock = threading.RLock()

    @property
    def usable_credential(self) -> Credential | None:
        return None if (self.rejected or self.withheld) else self.credential

    def ping(self, session: requests.Session, timeout: float) -> Challenge | None:
        """GET /v2/ once: picks the scheme and returns the auth challenge (None = open registry)."""
        resp = self._ping_with_scheme_detection(session, timeout)
        try:
            if resp.status_code == 200:
                return None
            if resp.status_code == 401:
                challenges = parse_www_authenticate(header_lines(resp, "WWW-Authenticate"))
                challenge = pick_challenge(challenges)
                if challenge is None:
                    schemes = ", ".join(sorted({c.scheme for c in challenges})) or "none"
                    raise AuthRequired(
                        f"{self.registry} asks for an authentication scheme this client does not speak ({schemes})",
                        self.registry)
                return challenge
            if resp.status_code == 404:
                raise RegistryError(f"{self.api_host} does not serve the registry API (/v2/ answered 404); check the image's registry host", self.registry)
            raise RegistryError(f"{self.registry} answered HTTP {resp.status_code} to the API version check", self.registry)
        finally:
            resp.close()

    def _get(self, session: requests.Session, url: str, timeout: float, verify: bool | str) -> requests.Response:
        return session.get(url, timeout=timeout, verify=verify, auth=NO_NETRC, allow_redirects=True)

    def _ping_with_scheme_detection(self, session: requests.Session, timeout: float) -> requests.Response:
        https = f"https://{self.api_host}/v2/"
        try:
            return self._get(session, https, timeout, self.verify)
        except requests.exceptions.SSLError as exc:
            if not self.insecure:
                raise describe_request_error(exc, "checking the registry API", self.registry) from None
            failure = exc
        except requests.exceptions.ConnectionError as exc:
            if not self.insecure:
                raise describe_request_error(exc, "checking the registry API", self.registry) from None
            failure = exc
        except requests.RequestException as exc:
            raise describe_request_error(exc, "checking the registry API", self.registry) from None
        # Insecure registries: like the engine, accept an unverified certificate, else plain HTTP.
        if isinstance(failure, requests.exceptions.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(failure):
            try:
                resp = self._get(session, https, timeout, False)
                self.verify = False
                return resp
            except requests.RequestException:
                pass
        try:
            resp = self._get(session, f"http://{self.api_host}/v2/", timeout, self.verify)
        except requests.RequestException as exc:
            raise describe_request_error(exc, "checking the registry API", self.registry) from None
        self.base_url = f"http://{self.api_host}"
        return resp
