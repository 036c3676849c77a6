# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.freshdock.core.plugins.module_utils.errors import InvalidReference
from ansible_collections.freshdock.core.plugins.module_utils.reference import (
    ImageReference,
    parse_reference,
    parse_repo_digest,
    validate_registry_host,
)

D = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

# (input, registry, repository, tag, digest) — shared/reference/registry-protocol.md §5 plus extras.
VALID = [
    ("nginx", "docker.io", "library/nginx", None, None),
    ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
    ("library/nginx", "docker.io", "library/nginx", None, None),
    ("docker.io/nginx", "docker.io", "library/nginx", None, None),
    ("docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", None),
    ("index.docker.io/library/nginx:stable", "docker.io", "library/nginx", "stable", None),
    ("index.docker.io/nginx", "docker.io", "library/nginx", None, None),
    ("registry-1.docker.io/library/nginx", "registry-1.docker.io", "library/nginx", None, None),
    ("containrrr/watchtower", "docker.io", "containrrr/watchtower", None, None),
    ("docker.io/containrrr/watchtower:1.7.1", "docker.io", "containrrr/watchtower", "1.7.1", None),
    ("ghcr.io/home-assistant/home-assistant:stable", "ghcr.io", "home-assistant/home-assistant", "stable", None),
    ("quay.io/prometheus/node-exporter:v1.8.0", "quay.io", "prometheus/node-exporter", "v1.8.0", None),
    ("localhost/myimage", "localhost", "myimage", None, None),
    ("localhost:5000/myimage:dev", "localhost:5000", "myimage", "dev", None),
    ("localhost:5000/x", "localhost:5000", "x", None, None),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", None, None),
    ("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", None),
    ("myregistry:5000/app", "myregistry:5000", "app", None, None),
    ("myregistry/app", "docker.io", "myregistry/app", None, None),
    ("registry.example.com:8443/a/b/c/d:1.0.0-rc.1_build", "registry.example.com:8443", "a/b/c/d", "1.0.0-rc.1_build", None),
    (f"nginx@{D}", "docker.io", "library/nginx", None, D),
    (f"nginx:1.25@{D}", "docker.io", "library/nginx", "1.25", D),
    (f"ghcr.io/o/i:tag@{D}", "ghcr.io", "o/i", "tag", D),
    ("lowercase:UPPERCASE_tag", "docker.io", "library/lowercase", "UPPERCASE_tag", None),
    ("my_app/my__app/my-app/my--app/my.app", "docker.io", "my_app/my__app/my-app/my--app/my.app", None, None),
    ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app", "test.example.com", None),
    ("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", None),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
    ("a" * 20 + ":" + "t" * 128, "docker.io", "library/" + "a" * 20, "t" * 128, None),
    ("sha256:abc", "docker.io", "library/sha256", "abc", None),
]

INVALID = [
    ("Nginx", "must be lowercase"),
    ("ghcr.io/Owner/app", "must be lowercase"),
    ("Foo/bar", "uppercase"),
    ("nginx:", "invalid image reference format"),
    ("nginx:-tag", "invalid image reference format"),
    ("nginx:.tag", "invalid image reference format"),
    ("nginx@sha256:0123", "invalid image reference format"),
    ("nginx@sha256:" + "0123456789ABCDEF" * 4, "invalid checksum format"),
    ("nginx@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm"),
    ("0123456789abcdef" * 4, "image ID"),
    ("https://ghcr.io/o/i:tag", "invalid image reference format"),
    ("a/b_/c", "invalid image reference format"),
    ("a/__b", "invalid image reference format"),
    ("domain/" + "a" * 256 + ":tag", "255 characters"),
    ("[fe80::1%eth0]:5000/repo", "invalid image reference format"),
    ("", "empty"),
    ("nginx:" + "t" * 129, "invalid image reference format"),
    (" nginx", "invalid image reference format"),
    ("nginx ", "invalid image reference format"),
    ("ngin x", "invalid image reference format"),
]


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), VALID)
def test_valid_references(text, registry, repository, tag, digest):
    assert parse_reference(text) == ImageReference(registry, repository, tag, digest)


@pytest.mark.parametrize(("text", "fragment"), INVALID)
def test_invalid_references_name_the_problem(text, fragment):
    with pytest.raises(InvalidReference) as excinfo:
        parse_reference(text)
    assert fragment in str(excinfo.value)


def test_vector_count_meets_the_issue_minimum():
    assert len(VALID) + len(INVALID) >= 35


def test_properties_of_a_reference():
    ref = parse_reference("nginx")
    assert ref.api_host == "registry-1.docker.io"
    assert ref.effective_tag == "latest"
    assert str(ref) == "docker.io/library/nginx"
    assert not ref.pinned
    pinned = parse_reference(f"127.0.0.1:5000/a/b:v1@{D}")
    assert pinned.pinned and pinned.api_host == "127.0.0.1:5000"
    assert str(pinned) == f"127.0.0.1:5000/a/b:v1@{D}"


def test_repo_digests_are_normalised():
    repo, digest = parse_repo_digest(f"nginx@{D}")
    assert (repo.registry, repo.repository, digest) == ("docker.io", "library/nginx", D)
    assert parse_repo_digest("nginx:latest") is None
    assert parse_repo_digest("NOT VALID@x") is None


@pytest.mark.parametrize(("given_host", "expected"), [
    ("ghcr.io", "ghcr.io"),
    ("https://index.docker.io/v1/", "docker.io"),
    ("registry-1.docker.io", "docker.io"),
    ("GHCR.IO", "ghcr.io"),
    ("[::1]:5000", "[::1]:5000"),
    ("http://127.0.0.1:5000", "127.0.0.1:5000"),
])
def test_registry_hosts_from_users(given_host, expected):
    assert validate_registry_host(given_host) == expected


@pytest.mark.parametrize("bad", ["", "not a host", "://", "a b:5000"])
def test_bad_registry_hosts(bad):
    with pytest.raises(InvalidReference, match="not a registry host"):
        validate_registry_host(bad)


@given(st.text(max_size=300))
def test_parser_never_crashes(text):
    try:
        ref = parse_reference(text)
    except InvalidReference as exc:
        assert str(exc)
    else:
        assert ref.repository == ref.repository.lower()
        assert parse_reference(str(ref)) == ref


_component = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)


@given(st.lists(_component, min_size=1, max_size=4), st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)))
def test_generated_valid_references_round_trip(components, tag):
    text = "/".join(components) + (f":{tag}" if tag else "")
    ref = parse_reference(text)
    assert ref.tag == tag
    assert ref.repository.endswith("/".join(components[1:]) if len(components) > 1 else components[0])
    assert parse_reference(str(ref)) == ref
