# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.freshdock.core.plugins.module_utils.auth import (
    DEFAULT_TOKEN_LIFETIME,
    Challenge,
    TokenCache,
    check_realm,
    parse_www_authenticate,
    pick_challenge,
    token_lifetime,
)


def test_quoted_commas_and_spaces_in_scope():
    [challenge] = parse_www_authenticate([
        'Bearer realm="https://auth.example/token",service="reg",'
        'scope="repository:a/b:pull,push repository:c/d:pull"'
    ])
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.example/token"
    assert challenge.service == "reg"
    assert challenge.scopes == ["repository:a/b:pull,push", "repository:c/d:pull"]


def test_several_challenges_joined_by_requests():
    joined = 'Basic realm="r1", Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"'
    challenges = parse_www_authenticate([joined])
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].realm == "r1"
    assert challenges[1].scopes == ["repository:a/b:pull"]
    assert pick_challenge(challenges).scheme == "bearer"


def test_several_header_lines():
    challenges = parse_www_authenticate(['Basic realm="basic-realm"', 'Bearer realm="http://127.0.0.1:5003/token"'])
    assert [c.realm for c in challenges] == ["basic-realm", "http://127.0.0.1:5003/token"]


def test_error_param_and_case_insensitive_names():
    [challenge] = parse_www_authenticate([
        'BEARER Realm="http://127.0.0.1:5003/token",Service="test-registry",'
        'scope="repository:test/multi:pull",error="insufficient_scope"'
    ])
    assert challenge.scheme == "bearer"
    assert challenge.service == "test-registry"
    assert challenge.error == "insufficient_scope"


def test_escaped_quotes_and_unquoted_values():
    [challenge] = parse_www_authenticate(['Bearer realm=https://a/token, service="say \\"hi\\", ok"'])
    assert challenge.realm == "https://a/token"
    assert challenge.service == 'say "hi", ok'


def test_token68_is_not_a_parameter():
    challenges = parse_www_authenticate(["Basic abc==, Negotiate"])
    assert [(c.scheme, c.params) for c in challenges] == [("basic", {}), ("negotiate", {})]


def test_pick_ignores_unknown_and_realmless_bearer():
    assert pick_challenge([Challenge("negotiate"), Challenge("bearer", {})]) is None
    assert pick_challenge([Challenge("negotiate"), Challenge("basic", {"realm": "x"})]).scheme == "basic"


@given(st.lists(st.text(max_size=400), max_size=4))
def test_parser_never_raises(values):
    for challenge in parse_www_authenticate(values):
        assert challenge.scheme == challenge.scheme.lower()
        assert all(isinstance(k, str) and isinstance(val, str) for k, val in challenge.params.items())


_token = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True)
_value = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(_token, st.dictionaries(_token, _value, min_size=1, max_size=5))
def test_round_trip_of_generated_challenges(scheme, params):
    quoted = ",".join(f'{k}="' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for k, v in params.items())
    [challenge] = parse_www_authenticate([f"{scheme} {quoted}"])
    expected = {}
    for key, value in params.items():
        expected.setdefault(key.lower(), value)
    assert challenge.scheme == scheme.lower()
    assert challenge.params == expected


def test_huge_header_is_bounded():
    challenges = parse_www_authenticate(['Bearer realm="' + "x" * 1_000_000 + '"'])
    assert len(challenges) == 1
    assert len(challenges[0].realm) < 20000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_cache_expiry_and_scopes():
    clock = Clock()
    cache = TokenCache(clock)
    key = ("https://auth/token", "svc", "anonymous")
    cache.put(key, "T1", {"repository:a:pull", "repository:b:pull"}, 300)
    assert cache.get(key, {"repository:a:pull"}).value == "T1"
    assert cache.get(key, {"repository:c:pull"}) is None  # scope not covered
    clock.now += 294
    assert cache.get(key, {"repository:a:pull"}).value == "T1"
    clock.now += 2  # inside the refresh margin
    assert cache.get(key, {"repository:a:pull"}) is None
    assert cache.known_scopes(key) == frozenset({"repository:a:pull", "repository:b:pull"})


def test_token_without_expires_in_lives_sixty_seconds():
    clock = Clock()
    cache = TokenCache(clock)
    cache.put(("r", "s", "u"), "T", {"x"}, None)
    clock.now += 54
    assert cache.get(("r", "s", "u"), {"x"}) is not None
    clock.now += 2
    assert cache.get(("r", "s", "u"), {"x"}) is None


@pytest.mark.parametrize(("raw", "expected"), [
    (None, DEFAULT_TOKEN_LIFETIME), (0, DEFAULT_TOKEN_LIFETIME), (-5, DEFAULT_TOKEN_LIFETIME),
    ("300", DEFAULT_TOKEN_LIFETIME), (True, DEFAULT_TOKEN_LIFETIME), (900, 900.0), (120.5, 120.5),
])
def test_token_lifetime(raw, expected):
    assert token_lifetime(raw) == expected


def test_cache_keys_separate_identities():
    cache = TokenCache(Clock())
    cache.put(("r", "s", "alice"), "A", {"x"}, 60)
    assert cache.get(("r", "s", "anonymous"), {"x"}) is None


@pytest.mark.parametrize(("realm", "insecure", "refused"), [
    ("https://auth.docker.io/token", False, False),
    ("http://auth.example.com/token", False, True),
    ("http://auth.example.com/token", True, False),
    ("http://127.0.0.1:5003/token", False, False),
    ("http://localhost:5003/token", False, False),
    ("http://169.254.169.254/latest", True, True),
    ("https://169.254.169.254/latest", False, True),
    ("ftp://auth.example.com/token", False, True),
    ("not a url", False, True),
    ("", False, True),
])
def test_realm_checks(realm, insecure, refused):
    assert (check_realm(realm, insecure) is not None) is refused
