# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OCI distribution client: the current digest of many tags at once, without pulling.

Per run: one session, one ping and at most one (multi-scope) token per registry, one HEAD per unique
tag, bounded concurrency per registry. Every failure becomes a typed RegistryError, never a guess.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

from ansible_collections.freshdock.core.plugins.module_utils import platform as plat
from ansible_collections.freshdock.core.plugins.module_utils.auth import (
    Challenge,
    TokenCache,
    check_realm,
    is_loopback,
    parse_www_authenticate,
    pick_challenge,
)
from ansible_collections.freshdock.core.plugins.module_utils.credentials import Credential, CredentialStore
from ansible_collections.freshdock.core.plugins.module_utils.errors import (
    AuthRequired,
    CredentialError,
    CredentialsRejected,
    MalformedResponse,
    NotFound,
    RateLimited,
    RegistryError,
    Unsupported,
)
from ansible_collections.freshdock.core.plugins.module_utils.reference import ImageReference, is_digest
from ansible_collections.freshdock.core.plugins.module_utils.registry_endpoint import Endpoint, RegistryOptions
from ansible_collections.freshdock.core.plugins.module_utils.transport import (
    NO_NETRC,
    describe_request_error,
    header_lines,
    new_session,
    requests,
    retry_after_seconds,
)

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# Waiting longer than this inside a check run costs more than reporting "rate_limited".
MAX_RETRY_WAIT = 5.0
_RATE_RE = re.compile(r"^\s*(\d+)\s*(?:;\s*w=(\d+))?")
__all__ = ["RegistryClient", "RegistryOptions", "RemoteManifest"]


@dataclass(frozen=True)
class RemoteManifest:
    digest: str
    media_type: str

    @property
    def is_index(self) -> bool:
        return self.media_type in plat.INDEX_TYPES


@dataclass
class _Attempt:
    retried_wait: bool = False
    retried_anonymous: bool = False


def _basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def tag_key(ref: ImageReference) -> ImageReference:
    """What a registry answers for: registry, repository and tag (digest-free)."""
    return ImageReference(ref.registry, ref.repository, ref.effective_tag)


class RegistryClient:
    def __init__(
        self,
        credentials: CredentialStore,
        options: dict | None = None,
        validate_certs: bool = True,
        timeout: float = 15.0,
        concurrency: int = 8,
        insecure_hint: Callable[[str], bool] = is_loopback,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self.options = options or {}
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.insecure_hint = insecure_hint
        self.session = session or new_session(self.concurrency)
        self.sleep = sleep
        self.tokens = TokenCache()
        self.warnings: list[str] = []
        self.rate_limits: dict[str, dict] = {}
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------------

    def resolve(self, refs: Iterable[ImageReference]) -> dict:
        """Current top-level digest of each unique tag: {tag_key(ref): RemoteManifest | RegistryError}."""
        unique = sorted({tag_key(ref) for ref in refs if not ref.pinned}, key=str)
        by_registry: dict[str, list[ImageReference]] = {}
        for ref in unique:
            by_registry.setdefault(ref.registry, []).append(ref)
        workers = max(1, min(len(unique), self.concurrency * len(by_registry), 32))
        results: dict = {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            prepared = dict(zip(by_registry, pool.map(self._prepare, by_registry.items())))
            jobs = []
            for registry, registry_refs in by_registry.items():
                endpoint, error = prepared[registry]
                for ref in registry_refs:
                    if error is not None:
                        results[ref] = error
                    else:
                        jobs.append((ref, pool.submit(self._head_guarded, endpoint, ref)))
            for ref, future in jobs:
                results[ref] = future.result()
        return results

    def fetch_by_digest(self, ref: ImageReference, digest: str) -> tuple[str, dict]:
        """GET a manifest or index by digest (verified against it); returns (media type, parsed JSON)."""
        endpoint = self._endpoint(ref.registry)
        url = f"{endpoint.base_url}/v2/{ref.repository}/manifests/{digest}"
        media, body, document = self._get_document(endpoint, url, ref, f"{ref.name}@{digest}")
        algorithm, _sep, expected = digest.partition(":")
        if algorithm not in ("sha256", "sha512") or hashlib.new(algorithm, body).hexdigest() != expected:
            raise MalformedResponse(f"{ref.registry} returned content for {ref.name}@{digest} that does not match that digest", ref.registry)
        return media or str(document.get("mediaType", "")), document

    def platform_config_digest(self, ref: ImageReference, index_digest: str, wanted: plat.Platform, depth: int = 0) -> str | None:
        """Config digest of the index entry for ``wanted`` (the local image ID in the classic store)."""
        media, document = self.fetch_by_digest(ref, index_digest)
        if media in plat.INDEX_TYPES or "manifests" in document:
            entry = plat.select_entry(document, wanted)
            if entry is None or depth >= 2:
                return None
            return self.platform_config_digest(ref, entry["digest"], wanted, depth + 1)
        config = document.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        return digest if isinstance(digest, str) else None

    # -- endpoints, ping and auth -------------------------------------------------------------------

    def _endpoint(self, registry: str) -> Endpoint:
        with self._lock:
            if registry not in self._endpoints:
                options = self.options.get(registry) or RegistryOptions(registry)
                insecure = options.insecure if options.insecure is not None else self.insecure_hint(registry)
                verify = options.ca_path or self.validate_certs
                self._endpoints[registry] = Endpoint(registry, insecure, verify, self.concurrency)
            return self._endpoints[registry]

    def _prepare(self, item: tuple) -> tuple:
        registry, refs = item
        endpoint = self._endpoint(registry)
        try:
            challenge = endpoint.ping(self.session, self.timeout)
            self._setup_auth(endpoint, challenge, refs)
        except RegistryError as exc:
            return endpoint, exc
        except CredentialError as exc:
            return endpoint, RegistryError(str(exc), registry)
        return endpoint, None

    def _setup_auth(self, endpoint: Endpoint, challenge: Challenge | None, refs: list) -> None:
        if challenge is None:
            return
        endpoint.challenge = challenge
        endpoint.credential = self.credentials.lookup(endpoint.registry)
        if challenge.scheme == "bearer":
            self._token(endpoint, {f"repository:{ref.repository}:pull" for ref in refs})

    def _token_key(self, endpoint: Endpoint) -> tuple:
        credential = endpoint.usable_credential
        identity = credential.identity if credential else "anonymous"
        return (endpoint.challenge.realm, endpoint.challenge.service, identity)

    def _token(self, endpoint: Endpoint, scopes: set) -> str:
        with endpoint.auth_lock:
            key = self._token_key(endpoint)
            cached = self.tokens.get(key, scopes)
            if cached is not None:
                return cached.value
            # Ask for what we already hold too, so one token keeps covering the whole batch.
            wanted = set(scopes) | set(self.tokens.known_scopes(key))
            value, expires_in = self._request_token(endpoint, sorted(wanted))
            return self.tokens.put(self._token_key(endpoint), value, wanted, expires_in).value

    def _request_token(self, endpoint: Endpoint, scopes: list) -> tuple:
        challenge = endpoint.challenge
        realm = challenge.realm or ""
        credential = endpoint.usable_credential
        if credential is not None:
            refusal = check_realm(realm, endpoint.insecure)
            if refusal:
                self._warn(f"not sending credentials for {endpoint.registry}: {refusal}")
                endpoint.withheld = True
                credential = None
        if credential is not None and credential.kind == "registrytoken":
            return credential.secret, None
        params = ([("service", challenge.service)] if challenge.service else []) + [("scope", scope) for scope in scopes]
        headers = {}
        if credential is not None and credential.kind == "identitytoken":
            form = {"grant_type": "refresh_token", "refresh_token": credential.secret,
                    "client_id": "freshdock.core", "scope": " ".join(scopes)}
            if challenge.service:
                form["service"] = challenge.service
            call = {"method": "POST", "data": form}
        else:
            if credential is not None:
                headers["Authorization"] = _basic_header(credential)
                params.append(("account", credential.username))
            call = {"method": "GET", "params": params}
        try:
            resp = self.session.request(url=realm, headers=headers, timeout=self.timeout, verify=endpoint.verify,
                                        auth=NO_NETRC, allow_redirects=True, **call)
        except requests.RequestException as exc:
            raise describe_request_error(exc, "requesting a token", endpoint.registry) from None
        if resp.status_code in (401, 403) and credential is not None:
            self._warn(f"the token server of {endpoint.registry} rejected the configured credentials "
                       f"(HTTP {resp.status_code}); continuing anonymously")
            endpoint.rejected = True
            return self._request_token(endpoint, scopes)
        if resp.status_code == 429:
            raise RateLimited(f"the token server of {endpoint.registry} is rate limiting (HTTP 429)", endpoint.registry,
                              retry_after_seconds(resp.headers.get("Retry-After")))
        if resp.status_code != 200:
            raise RegistryError(f"the token server of {endpoint.registry} answered HTTP {resp.status_code}", endpoint.registry)
        try:
            answer = resp.json()
            value = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            value, answer = None, {}
        if not isinstance(value, str) or not value:
            raise MalformedResponse(f"the token server of {endpoint.registry} sent no 'token' or 'access_token'", endpoint.registry)
        return value, answer.get("expires_in")

    def _auth_header(self, endpoint: Endpoint, ref: ImageReference) -> dict:
        challenge = endpoint.challenge
        if challenge is None:
            return {}
        if challenge.scheme == "bearer":
            return {"Authorization": "Bearer " + self._token(endpoint, {f"repository:{ref.repository}:pull"})}
        credential = endpoint.usable_credential
        if credential is not None and credential.kind == "basic":
            return {"Authorization": _basic_header(credential)}
        return {}

    # -- requests -----------------------------------------------------------------------------------

    def _head_guarded(self, endpoint: Endpoint, ref: ImageReference):
        try:
            with endpoint.slots:
                return self._head(endpoint, ref)
        except RegistryError as exc:
            return exc
        except CredentialError as exc:
            return RegistryError(str(exc), ref.registry)
        except Exception as exc:  # noqa: BLE001 - a verdict must never be an unexpected crash
            return RegistryError(f"unexpected failure checking {ref}: {exc.__class__.__name__}: {exc}", ref.registry)

    def _head(self, endpoint: Endpoint, ref: ImageReference) -> RemoteManifest:
        url = f"{endpoint.base_url}/v2/{ref.repository}/manifests/{ref.effective_tag}"
        resp = self._request(endpoint, "HEAD", url, ref, _Attempt())
        self._record_rate_limit(endpoint.registry, resp.headers)
        media = plat.media_type(resp.headers.get("Content-Type"))
        if media in plat.SCHEMA1_TYPES:
            raise Unsupported(f"{ref} is a schema1 manifest, which current engines no longer pull", ref.registry)
        digest = (resp.headers.get("Docker-Content-Digest") or "").strip()
        if not is_digest(digest) or media not in plat.INDEX_TYPES | plat.MANIFEST_TYPES:
            # No usable digest, or an answer we cannot classify: hash what a GET returns instead.
            return self._digest_by_get(endpoint, ref, url)
        return RemoteManifest(digest, media)

    def _digest_by_get(self, endpoint: Endpoint, ref: ImageReference, url: str) -> RemoteManifest:
        media, body, document = self._get_document(endpoint, url, ref, str(ref))
        if media in plat.SCHEMA1_TYPES or document.get("schemaVersion") == 1:
            raise Unsupported(f"{ref} is a schema1 manifest, which current engines no longer pull", ref.registry)
        media = media or str(document.get("mediaType", ""))
        if media not in plat.INDEX_TYPES | plat.MANIFEST_TYPES or not plat.looks_like_manifest(document, media):
            raise MalformedResponse(f"{ref.registry} answered {ref} with something that is not an image manifest "
                                    f"(media type {media!r})", ref.registry)
        return RemoteManifest("sha256:" + hashlib.sha256(body).hexdigest(), media)

    def _get_document(self, endpoint: Endpoint, url: str, ref: ImageReference, what: str) -> tuple:
        """GET a manifest: (media type from Content-Type, raw bytes, parsed JSON object)."""
        resp = self._request(endpoint, "GET", url, ref, _Attempt(), stream=True)
        media = plat.media_type(resp.headers.get("Content-Type"))
        body = self._read_limited(resp, ref)
        try:
            document = json.loads(body)
        except ValueError:
            raise MalformedResponse(f"{ref.registry} sent a manifest for {what} that is not JSON", ref.registry) from None
        if not isinstance(document, dict):
            raise MalformedResponse(f"{ref.registry} sent a manifest for {what} that is not a JSON object", ref.registry)
        return media, body, document

    def _read_limited(self, resp: requests.Response, ref: ImageReference) -> bytes:
        chunks, size = [], 0
        try:
            for chunk in resp.iter_content(65536):
                size += len(chunk)
                if size > MAX_MANIFEST_BYTES:
                    raise MalformedResponse(f"{ref.registry} sent a manifest for {ref} larger than 4 MiB", ref.registry)
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise describe_request_error(exc, f"reading the manifest of {ref}", ref.registry) from None
        finally:
            resp.close()
        return b"".join(chunks)

    def _request(self, endpoint: Endpoint, method: str, url: str, ref: ImageReference, attempt: _Attempt,
                 stream: bool = False) -> requests.Response:
        while True:
            headers = {"Accept": plat.ACCEPT}
            if not attempt.retried_anonymous:
                headers.update(self._auth_header(endpoint, ref))
            sent_credentials = "Authorization" in headers and endpoint.usable_credential is not None
            try:
                resp = self.session.request(method, url, headers=headers, timeout=self.timeout, verify=endpoint.verify,
                                            auth=NO_NETRC, allow_redirects=True, stream=stream)
            except requests.RequestException as exc:
                raise describe_request_error(exc, f"checking {ref}", ref.registry) from None
            code = resp.status_code
            if code == 200:
                return resp
            resp.close()
            if code in (401, 403):
                if self._retry_auth(endpoint, ref, resp, attempt, sent_credentials):
                    continue
                raise self._denied(endpoint, ref, code)
            if code == 404:
                raise NotFound(f"{ref} was not found on {ref.registry} (no such repository or tag)", ref.registry)
            if code == 429 or code >= 500:
                wait = retry_after_seconds(resp.headers.get("Retry-After"))
                wait = 0.5 if wait is None and code != 429 else wait
                if not attempt.retried_wait and wait is not None and wait <= MAX_RETRY_WAIT:
                    attempt.retried_wait = True
                    self.sleep(wait)
                    continue
                if code == 429:
                    self._record_rate_limit(endpoint.registry, resp.headers)
                    hint = f"; retry after {wait:g}s" if wait is not None else ""
                    raise RateLimited(f"{ref.registry} is rate limiting (HTTP 429) for {ref}{hint}", ref.registry, wait)
                raise RegistryError(f"{ref.registry} answered HTTP {code} for {ref} (server-side trouble, not an update)", ref.registry)
            raise RegistryError(f"{ref.registry} answered unexpected HTTP {code} for {ref}", ref.registry)

    def _retry_auth(self, endpoint: Endpoint, ref: ImageReference, resp: requests.Response, attempt: _Attempt,
                    sent_credentials: bool) -> bool:
        challenge = pick_challenge(parse_www_authenticate(header_lines(resp, "WWW-Authenticate")))
        if endpoint.challenge is None and challenge is not None:
            # The ping said "no auth" but this repository wants some (per-repository auth on some registries).
            endpoint.challenge = challenge
            endpoint.credential = self.credentials.lookup(endpoint.registry)
            return True
        if sent_credentials and endpoint.challenge is not None and endpoint.challenge.scheme == "basic" \
                and not attempt.retried_anonymous:
            attempt.retried_anonymous = True
            if not endpoint.rejected:
                endpoint.rejected = True
                self._warn(f"{endpoint.registry} rejected the configured credentials; continuing anonymously")
            return True
        return False

    def _denied(self, endpoint: Endpoint, ref: ImageReference, code: int) -> RegistryError:
        if endpoint.rejected:
            return CredentialsRejected(
                f"{ref.registry} rejected the credentials for {ref} and anonymous access is denied (HTTP {code}); "
                "fix the username/password or the docker config entry", ref.registry)
        if endpoint.credential is not None and not endpoint.withheld:
            return CredentialsRejected(
                f"the credentials for {ref.registry} grant no pull access to {ref.repository} (HTTP {code})", ref.registry)
        return AuthRequired(
            f"{ref.registry} requires authentication for {ref} (HTTP {code}); add it to 'registries' or docker login",
            ref.registry)

    def _record_rate_limit(self, registry: str, headers) -> None:
        limit = _RATE_RE.match(headers.get("RateLimit-Limit") or "")
        remaining = _RATE_RE.match(headers.get("RateLimit-Remaining") or "")
        if not limit and not remaining:
            return
        entry = {
            "limit": int(limit.group(1)) if limit else None,
            "remaining": int(remaining.group(1)) if remaining else None,
            "window": int((limit or remaining).group(2)) if (limit or remaining).group(2) else None,
        }
        with self._lock:
            previous = self.rate_limits.get(registry)
            if previous is None or (entry["remaining"] is not None and (previous["remaining"] is None or entry["remaining"] < previous["remaining"])):
                self.rate_limits[registry] = entry

    def _warn(self, message: str) -> None:
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)
