# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry client against scripted answers: malformed, throttled, failing and slow registries."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.freshdock.core.plugins.module_utils import platform as plat
from ansible_collections.freshdock.core.plugins.module_utils.credentials import Credential, CredentialStore
from ansible_collections.freshdock.core.plugins.module_utils.errors import RegistryError
from ansible_collections.freshdock.core.plugins.module_utils.reference import is_digest, parse_reference
from ansible_collections.freshdock.core.plugins.module_utils.registry import RegistryClient, RemoteManifest, tag_key

from .fakeregistry import FakeRegistry, Reply

MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": plat.DOCKER_MANIFEST,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": "sha256:" + "1" * 64},
    "layers": [],
}, indent=3).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OPEN = Reply(200, [("Docker-Distribution-API-Version", "registry/2.0")])


def client(fake: FakeRegistry, credentials: dict | None = None, sleeps: list | None = None, **kwargs) -> RegistryClient:
    store = CredentialStore(credentials or {}, config_path="/nonexistent/config.json")
    recorded = sleeps if sleeps is not None else []
    return RegistryClient(store, timeout=kwargs.pop("timeout", 2.0), sleep=recorded.append, **kwargs)


def resolve_one(registry: RegistryClient, fake: FakeRegistry, name: str = "app:v1"):
    ref = parse_reference(f"{fake.host}/{name}")
    return registry.resolve([ref])[tag_key(ref)]


def test_head_digest_and_media_type():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, [
            ("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST)])
        result = resolve_one(client(fake), fake)
        assert result == RemoteManifest(MANIFEST_DIGEST, plat.DOCKER_MANIFEST)
        [head] = [r for r in fake.requests if r[0] == "HEAD"]
        assert set(head[2]["Accept"].split(", ")) == {plat.OCI_INDEX, plat.DOCKER_LIST, plat.OCI_MANIFEST, plat.DOCKER_MANIFEST}
        assert fake.count("GET", "/v2/app") == 0


def test_missing_digest_header_falls_back_to_get_and_hashes_raw_bytes():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, [("Content-Type", plat.DOCKER_MANIFEST)])
        fake.routes[("GET", "/v2/app/manifests/")] = Reply(200, [("Content-Type", plat.DOCKER_MANIFEST)], MANIFEST)
        result = resolve_one(client(fake), fake)
        assert result.digest == MANIFEST_DIGEST  # sha256 of the exact bytes, not re-serialised JSON


@pytest.mark.parametrize("content_type", [
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
])
def test_schema1_is_unsupported(content_type):
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, [("Content-Type", content_type), ("Docker-Content-Digest", MANIFEST_DIGEST)])
        assert resolve_one(client(fake), fake).status == "unsupported"


def test_429_retry_after_is_honoured_once_then_reported():
    sleeps: list = []
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(429, [("Retry-After", "2"), ("RateLimit-Limit", "100;w=21600"),
                                                                  ("RateLimit-Remaining", "0;w=21600")])
        registry = client(fake, sleeps=sleeps)
        result = resolve_one(registry, fake)
        assert result.status == "rate_limited"
        assert result.retry_after == 2.0
        assert sleeps == [2.0]
        assert fake.count("HEAD") == 2
        assert registry.rate_limits[fake.host] == {"limit": 100, "remaining": 0, "window": 21600}


def test_429_with_long_retry_after_does_not_wait():
    sleeps: list = []
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(429, [("Retry-After", "3600")])
        assert resolve_one(client(fake, sleeps=sleeps), fake).status == "rate_limited"
        assert sleeps == []
        assert fake.count("HEAD") == 1


def test_5xx_retried_once_then_error():
    sleeps: list = []
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(503)
        result = resolve_one(client(fake, sleeps=sleeps), fake)
        assert result.status == "error" and "503" in str(result)
        assert sleeps == [0.5]


def test_timeout_is_unreachable():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, delay=1.5)
        result = resolve_one(client(fake, timeout=0.3), fake)
        assert result.status == "unreachable"
        assert "did not answer in time" in str(result)


def test_huge_headers_are_a_typed_failure():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, [("X-Junk", "a" * 200_000)])
        result = resolve_one(client(fake), fake)
        assert isinstance(result, RegistryError)


def test_rate_limit_headers_on_success():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, [
            ("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST),
            ("ratelimit-limit", "100;w=21600"), ("ratelimit-remaining", "76;w=21600")])
        registry = client(fake)
        resolve_one(registry, fake)
        assert registry.rate_limits == {fake.host: {"limit": 100, "remaining": 76, "window": 21600}}


def _token_route(tokens: list, status: int = 200, body: dict | None = None):
    def reply(handler):
        tokens.append((handler.path, handler.headers.get("Authorization")))
        return Reply(status, [("Content-Type", "application/json")], json.dumps(body or {"access_token": "TOKEN"}).encode())
    return reply


def _bearer_routes(fake: FakeRegistry, tokens: list, **token_kwargs) -> None:
    challenge = f'Bearer realm="http://{fake.host}/token",service="fake"'
    fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", challenge)])
    fake.routes[("GET", "/token")] = _token_route(tokens, **token_kwargs)

    def head(handler):
        if handler.headers.get("Authorization") != "Bearer TOKEN":
            return Reply(401, [("WWW-Authenticate", challenge + ',scope="repository:x:pull",error="insufficient_scope"')])
        return Reply(200, [("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST)])
    fake.routes[("HEAD", "/v2/")] = head


def test_one_multi_scope_token_for_many_repositories():
    tokens: list = []
    with FakeRegistry() as fake:
        _bearer_routes(fake, tokens)
        refs = [parse_reference(f"{fake.host}/repo{i}:v{j}") for i in range(5) for j in range(2)]
        results = client(fake).resolve(refs + refs)
        assert all(isinstance(r, RemoteManifest) for r in results.values())
        assert len(tokens) == 1
        assert tokens[0][0].count("scope=") == 5
        assert fake.count("HEAD") == 10


def test_credentials_rejected_by_token_server_retry_anonymously():
    tokens: list = []
    with FakeRegistry() as fake:
        def token(handler):
            tokens.append(handler.headers.get("Authorization"))
            if handler.headers.get("Authorization"):
                return Reply(401, [], b"{}")
            return Reply(200, [], b'{"token": "ANON"}')
        challenge = f'Bearer realm="http://{fake.host}/token",service="fake"'
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", challenge)])
        fake.routes[("GET", "/token")] = token
        fake.routes[("HEAD", "/v2/")] = Reply(401, [("WWW-Authenticate", challenge + ',error="insufficient_scope"')])
        registry = client(fake, {fake.host: Credential("u", "wrong-password", source="option")})
        result = resolve_one(registry, fake)
        assert result.status == "credentials_rejected"
        assert tokens[0] == "Basic " + base64.b64encode(b"u:wrong-password").decode()
        assert tokens[1] is None
        assert any("rejected" in w for w in registry.warnings)
        assert not any("wrong-password" in w for w in registry.warnings)


def test_no_credentials_means_auth_required():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", 'Basic realm="r"')])
        fake.routes[("HEAD", "/v2/")] = Reply(401, [("WWW-Authenticate", 'Basic realm="r"')])
        assert resolve_one(client(fake), fake).status == "auth_required"


def test_unknown_scheme_only_is_auth_required():
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", "Negotiate")])
        result = resolve_one(client(fake), fake)
        assert result.status == "auth_required" and "negotiate" in str(result)


def test_down_registry_is_unreachable():
    with FakeRegistry() as fake:
        host = fake.host
    ref = parse_reference(f"{host}/app:v1")
    result = client(fake).resolve([ref])[tag_key(ref)]
    assert result.status == "unreachable"


def test_secure_registry_with_http_realm_gets_no_credentials():
    """A non-loopback-looking registry must not leak Basic credentials to a plain-HTTP realm."""
    tokens: list = []
    with FakeRegistry() as fake:
        _bearer_routes(fake, tokens)
        registry = client(fake, {fake.host: Credential("u", "p", source="option")}, insecure_hint=lambda host: False)
        # the fake speaks HTTP only, so mark the endpoint insecure for transport but not for the realm check
        registry._endpoint(fake.host).insecure = True
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", 'Bearer realm="http://auth.example.invalid/token"')])
        result = resolve_one(registry, fake)
        assert isinstance(result, RegistryError)
        assert tokens == []


_statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503])
_header_values = st.one_of(
    st.just(MANIFEST_DIGEST), st.just("sha256:zzz"), st.just(""), st.text(alphabet="abcdef0123456789:sha", max_size=80),
)
_content_types = st.sampled_from([plat.DOCKER_MANIFEST, plat.OCI_INDEX, "text/html", "", "application/json",
                                  "application/vnd.docker.distribution.manifest.v1+prettyjws"])
_bodies = st.one_of(st.just(MANIFEST), st.binary(max_size=300), st.just(b"{}"), st.just(b'{"schemaVersion": 2}'),
                    st.just(b"[]"), st.just(b'{"schemaVersion": 1, "name": "x"}'))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_statuses, _header_values, _content_types, _bodies, st.sampled_from(["", "1", "abc", "Wed, 21 Oct 2015 07:28:00 GMT"]))
def test_malformed_answers_give_typed_verdicts(status, digest, content_type, body, retry_after):
    with FakeRegistry() as fake:
        fake.routes[("GET", "/v2/")] = OPEN
        headers = [("Docker-Content-Digest", digest), ("Content-Type", content_type)]
        if retry_after:
            headers.append(("Retry-After", retry_after))
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(status, headers)
        fake.routes[("GET", "/v2/app/manifests/")] = Reply(status, headers, body)
        result = resolve_one(client(fake), fake)
    if isinstance(result, RegistryError):
        assert result.status in {"error", "unsupported", "rate_limited", "not_found", "auth_required", "unreachable"}
        assert str(result)
    else:
        # Only a well-formed digest of a well-formed manifest may ever be compared (doubt is never "stale").
        assert isinstance(result, RemoteManifest)
        assert status == 200 and is_digest(result.digest)
        assert result.media_type in plat.INDEX_TYPES | plat.MANIFEST_TYPES


def test_netrc_is_never_read(tmp_path, monkeypatch):
    with FakeRegistry() as fake:
        netrc = tmp_path / ".netrc"
        netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-pass\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("NETRC", str(netrc))
        fake.routes[("GET", "/v2/")] = OPEN
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(200, [
            ("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST)])
        assert isinstance(resolve_one(client(fake), fake), RemoteManifest)
        assert all("Authorization" not in headers for _method, _path, headers in fake.requests)


def test_authorization_does_not_follow_a_redirect_to_another_host():
    with FakeRegistry() as fake, FakeRegistry() as other:
        other.routes[("HEAD", "/v2/")] = Reply(200, [
            ("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST)])
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", 'Basic realm="r"')])
        port = other.host.split(":")[1]
        fake.routes[("HEAD", "/v2/app/manifests/")] = Reply(307, [("Location", f"http://localhost:{port}/v2/app/manifests/v1")])
        registry = client(fake, {fake.host: Credential("u", "p", source="option")})
        assert isinstance(resolve_one(registry, fake), RemoteManifest)
        [sent] = [headers for method, _path, headers in fake.requests if method == "HEAD"]
        assert sent["Authorization"].startswith("Basic ")
        [followed] = [headers for method, _path, headers in other.requests if method == "HEAD"]
        assert "Authorization" not in followed


def test_identity_token_is_exchanged_with_an_oauth_post():
    """A config.json identitytoken (refresh token) goes to the realm as an OAuth2 form POST, never as Basic."""
    forms: list = []
    with FakeRegistry() as fake:
        challenge = f'Bearer realm="http://{fake.host}/token",service="fake"'
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", challenge)])

        def token(handler):
            length = int(handler.headers.get("Content-Length") or 0)
            forms.append((handler.headers.get("Authorization"), handler.rfile.read(length).decode()))
            return Reply(200, [("Content-Type", "application/json")], b'{"access_token": "TOKEN"}')
        fake.routes[("POST", "/token")] = token

        def head(handler):
            if handler.headers.get("Authorization") != "Bearer TOKEN":
                return Reply(401, [("WWW-Authenticate", challenge)])
            return Reply(200, [("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST)])
        fake.routes[("HEAD", "/v2/")] = head
        credential = Credential("", "refresh-123", kind="identitytoken", source="config")
        result = resolve_one(client(fake, {fake.host: credential}), fake)
    assert isinstance(result, RemoteManifest)
    [(authorization, form)] = forms
    assert authorization is None
    fields = dict(pair.split("=", 1) for pair in form.split("&"))
    assert fields["grant_type"] == "refresh_token" and fields["refresh_token"] == "refresh-123"
    assert fields["service"] == "fake" and fields["client_id"] == "freshdock.core"
    assert fields["scope"] == "repository%3Aapp%3Apull"


def test_registry_token_is_sent_as_bearer_without_an_exchange():
    with FakeRegistry() as fake:
        challenge = f'Bearer realm="http://{fake.host}/token",service="fake"'
        fake.routes[("GET", "/v2/")] = Reply(401, [("WWW-Authenticate", challenge)])
        fake.routes[("HEAD", "/v2/")] = lambda handler: (
            Reply(200, [("Docker-Content-Digest", MANIFEST_DIGEST), ("Content-Type", plat.DOCKER_MANIFEST)])
            if handler.headers.get("Authorization") == "Bearer direct-token" else Reply(401, [("WWW-Authenticate", challenge)]))
        credential = Credential("", "direct-token", kind="registrytoken", source="config")
        result = resolve_one(client(fake, {fake.host: credential}), fake)
        assert isinstance(result, RemoteManifest)
        assert fake.count("GET", "/token") == fake.count("POST", "/token") == 0
