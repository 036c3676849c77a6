# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import json
import os
import stat
import sys

import pytest

from ansible_collections.freshdock.core.plugins.module_utils.credentials import (
    Credential,
    CredentialStore,
    decode_auth,
    default_config_path,
    run_helper,
)
from ansible_collections.freshdock.core.plugins.module_utils.errors import CredentialError

HELPER = """#!{python}
import json, os, sys, time
server = sys.stdin.read()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.log"), "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "server": server, "env": sorted(os.environ)}}) + "\\n")
table = json.loads({table!r})
if server == "slow.example":
    time.sleep(5)
if server == "broken.example":
    print("boom: keychain locked")
    sys.exit(1)
if server == "garbage.example":
    print("not json")
    sys.exit(0)
if server not in table:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = table[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""


@pytest.fixture
def helper_dir(tmp_path, monkeypatch):
    """A real docker-credential-fake executable on PATH (the protocol is a subprocess contract)."""
    table = {
        "ghcr.io": ["gh-user", "gh-secret"],
        "https://index.docker.io/v1/": ["hub-user", "hub-secret"],
        "idtoken.example": ["<token>", "refresh-123"],
    }
    for name in ("fake", "other"):
        path = tmp_path / f"docker-credential-{name}"
        path.write_text(HELPER.format(python=sys.executable, table=json.dumps(table)))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SECRET_NOT_FOR_HELPERS", "x")
    return tmp_path


def calls(helper_dir):
    log = helper_dir / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def write_config(tmp_path, data) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return str(path)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_helper_protocol(helper_dir):
    cred = run_helper("fake", "ghcr.io")
    assert (cred.username, cred.secret, cred.kind) == ("gh-user", "gh-secret", "basic")
    [call] = calls(helper_dir)
    assert call["argv"] == ["get"]
    assert call["server"] == "ghcr.io"  # no trailing newline on stdin
    assert "SECRET_NOT_FOR_HELPERS" not in call["env"]  # minimal environment


def test_helper_not_found_means_anonymous(helper_dir):
    assert run_helper("fake", "quay.io") is None


def test_helper_identity_token(helper_dir):
    cred = run_helper("fake", "idtoken.example")
    assert (cred.kind, cred.secret, cred.username) == ("identitytoken", "refresh-123", "")


@pytest.mark.parametrize(("server", "fragment"), [
    ("broken.example", "boom: keychain locked"),
    ("garbage.example", "unreadable answer"),
])
def test_helper_failures_are_errors(helper_dir, server, fragment):
    with pytest.raises(CredentialError, match=fragment):
        run_helper("fake", server)


def test_helper_timeout(helper_dir):
    with pytest.raises(CredentialError, match="did not answer .* within 0.5s"):
        run_helper("fake", "slow.example", timeout=0.5)


def test_missing_helper(helper_dir):
    with pytest.raises(CredentialError, match="docker-credential-nope .* not installed"):
        run_helper("nope", "ghcr.io")


def test_order_option_beats_helpers_beats_store_beats_auths(tmp_path, helper_dir):
    config = write_config(tmp_path, {
        "credHelpers": {"ghcr.io": "fake"},
        "credsStore": "other",
        "auths": {"ghcr.io": {"auth": b64("file-user:file-pass")}, "quay.io": {"auth": b64("q:q")}},
    })
    explicit = {"ghcr.io": Credential("opt-user", "opt-pass", source="option")}
    assert CredentialStore(explicit, config).lookup("ghcr.io").username == "opt-user"
    assert CredentialStore({}, config).lookup("ghcr.io").source == "helper:fake"
    # credsStore serves every registry without a credHelper and never falls back to auths (docker/cli)
    store = CredentialStore({}, config)
    assert store.lookup("quay.io") is None
    assert [c["server"] for c in calls(helper_dir)][-1] == "quay.io"
    no_store = write_config(tmp_path, {"auths": {"quay.io": {"auth": b64("q:qpass")}}})
    assert CredentialStore({}, no_store).lookup("quay.io").secret == "qpass"


@pytest.mark.parametrize("key", [
    "https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1",
])
def test_docker_hub_key_variants(tmp_path, key):
    config = write_config(tmp_path, {"auths": {key: {"auth": b64("hub:pw")}}})
    assert CredentialStore({}, config).lookup("docker.io").username == "hub"


def test_docker_hub_helper_gets_the_key_that_matched(tmp_path, helper_dir):
    config = write_config(tmp_path, {"credHelpers": {"https://index.docker.io/v1/": "fake"}})
    assert CredentialStore({}, config).lookup("docker.io").username == "hub-user"
    assert calls(helper_dir)[-1]["server"] == "https://index.docker.io/v1/"


@pytest.mark.parametrize(("key", "registry"), [
    ("https://registry.example.com", "registry.example.com"),
    ("http://registry.example.com/v2/", "registry.example.com"),
    ("registry.example.com:5000", "registry.example.com:5000"),
])
def test_auths_keys_with_scheme_and_path(tmp_path, key, registry):
    config = write_config(tmp_path, {"auths": {key: {"auth": b64("u:p:with:colons")}}})
    cred = CredentialStore({}, config).lookup(registry)
    assert (cred.username, cred.secret) == ("u", "p:with:colons")


def test_auths_token_kinds_and_plain_fields(tmp_path):
    config = write_config(tmp_path, {"auths": {
        "a.example": {"identitytoken": "refresh"},
        "b.example": {"registrytoken": "bearer"},
        "c.example": {"username": "cu", "password": "cp"},
        "d.example": {},
    }})
    store = CredentialStore({}, config)
    assert store.lookup("a.example").kind == "identitytoken"
    assert store.lookup("b.example").kind == "registrytoken"
    assert store.lookup("c.example").secret == "cp"
    assert store.lookup("d.example") is None


def test_missing_config_means_anonymous(tmp_path):
    assert CredentialStore({}, str(tmp_path / "absent.json")).lookup("ghcr.io") is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_broken_config_names_the_file(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(CredentialError, match=str(path)):
        CredentialStore({}, str(path)).lookup("ghcr.io")


@pytest.mark.parametrize(("value", "expected"), [
    (b64("user:pass"), ("user", "pass")),
    (b64("user:pa:ss\x00"), ("user", "pa:ss")),
])
def test_decode_auth(value, expected):
    assert decode_auth(value, "here") == expected


@pytest.mark.parametrize("value", [b64("nocolon"), b64(":emptyuser"), "!!!notbase64", base64.b64encode(b"\xff\xfe:x").decode()])
def test_decode_auth_rejects(value):
    with pytest.raises(CredentialError, match="here"):
        decode_auth(value, "here")


def test_default_config_path_honours_docker_config(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert default_config_path() == str(tmp_path / "config.json")
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_config_path() == str(tmp_path / ".docker" / "config.json")


def test_repr_never_shows_the_secret():
    assert "s3cret" not in repr(Credential("u", "s3cret"))


def test_lookup_is_cached(tmp_path, helper_dir):
    config = write_config(tmp_path, {"credHelpers": {"ghcr.io": "fake"}})
    store = CredentialStore({}, config)
    store.lookup("ghcr.io")
    store.lookup("ghcr.io")
    assert len(calls(helper_dir)) == 1
