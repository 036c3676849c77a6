"""freshdock_digest against the real engine and the four real registries (anonymous, Basic, Bearer, TLS)."""

from __future__ import annotations

import socket
import uuid

import pytest
from fdcheck import by_image, check, image_ids, registry_entry, skopeo_digest

from sandbox.images import build_local_image, publish
from sandbox.sandbox import pull_image

REGISTRIES = ["anon", "basic", "bearer", "tls"]
KINDS = ["docker", "oci", "docker-list", "oci-index"]


@pytest.fixture(scope="module")
def matrix(sandbox, docker_client):
    """Every kind on every registry, published once and pulled into the engine."""
    published = {}
    for name in REGISTRIES:
        registry = sandbox.registries[name]
        for kind in KINDS:
            repo = f"matrix/{kind}"
            result = publish(registry, repo, "v1", kind=kind, attestation=kind == "oci-index")
            pull_image(docker_client, registry, repo, "v1")
            published[(name, kind)] = (registry, result)
    return published


def test_every_kind_on_every_registry_is_current_and_matches_skopeo(sandbox, docker_client, matrix):
    before = image_ids(docker_client)
    refs = [f"{registry.host}/matrix/{kind}:v1" for (name, kind), (registry, _published) in matrix.items()]
    result, warnings = check(sandbox, images=refs)
    assert image_ids(docker_client) == before  # nothing pulled
    assert warnings == []
    entries = by_image(result)
    assert len(entries) == 16
    for (name, kind), (registry, published) in matrix.items():
        entry = entries[f"{registry.host}/matrix/{kind}:v1"]
        assert entry["status"] == "current", (name, kind, entry["message"])
        assert entry["remote_digest"] == published.digest
        assert entry["remote_digest"] == skopeo_digest(registry, f"{registry.host}/matrix/{kind}:v1")
        assert published.digest in entry["local_digests"]
        assert entry["update_available"] is False
    assert result["summary"]["current"] == 16 and result["summary"]["total"] == 16


@pytest.mark.parametrize("name", REGISTRIES)
def test_republished_index_with_unchanged_amd64_entry_is_current(sandbox, docker_client, name):
    registry = sandbox.registries[name]
    repo = f"republish/{uuid.uuid4().hex[:8]}"
    first = publish(registry, repo, "v1", kind="oci-index", attestation=True)
    pull_image(docker_client, registry, repo, "v1")
    second = publish(registry, repo, "v1", kind="oci-index", attestation=True, platform_versions={"linux/arm64/v8": "v2"})
    assert second.digest != first.digest
    assert second.configs["linux/amd64"] == first.configs["linux/amd64"]
    before = image_ids(docker_client)
    result = check(sandbox, images=[f"{registry.host}/{repo}:v1"])[0]
    [entry] = result["results"]
    assert entry["status"] == "current", entry["message"]
    assert "only other platforms" in entry["message"]
    assert entry["remote_digest"] == second.digest
    third = publish(registry, repo, "v1", kind="oci-index", attestation=True, platform_versions={"linux/amd64": "v3"})
    result = check(sandbox, images=[f"{registry.host}/{repo}:v1"])[0]
    [entry] = result["results"]
    assert entry["status"] == "stale", entry["message"]
    assert entry["remote_digest"] == third.digest
    assert entry["update_available"] is True
    assert image_ids(docker_client) == before


@pytest.mark.parametrize("kind", ["docker", "docker-list"])
def test_container_stale_then_behind_tag(sandbox, docker_client, kind):
    registry = sandbox.registries["bearer"]
    repo = f"ctr/{kind}-{uuid.uuid4().hex[:6]}"
    publish(registry, repo, "stable", kind=kind)
    pull_image(docker_client, registry, repo, "stable")
    image = f"{registry.host}/{repo}:stable"
    container = docker_client.containers.create(image, ["sleep", "600"], network_mode="none", init=True,
                                                name=f"fd-{uuid.uuid4().hex[:8]}")
    try:
        result = check(sandbox, containers=[container.name])[0]
        [entry] = result["results"]
        assert (entry["status"], entry["container"], entry["container_id"]) == ("current", container.name, container.id)
        assert entry["image"] == image
        newer = publish(registry, repo, "stable", kind=kind, version="v2")
        before = image_ids(docker_client)
        result = check(sandbox, containers=[container.name])[0]
        [entry] = result["results"]
        assert entry["status"] == "stale" and entry["remote_digest"] == newer.digest
        assert image_ids(docker_client) == before
        pull_image(docker_client, registry, repo, "stable")
        result = check(sandbox, containers=[container.name])[0]
        [entry] = result["results"]
        assert entry["status"] == "behind_tag", entry["message"]
        assert entry["update_available"] is True
    finally:
        container.remove(force=True)


def test_local_pinned_and_filters(sandbox, docker_client, matrix):
    registry, published = matrix[("anon", "docker")]
    build_local_image(docker_client, "fd-local/built:dev")
    pinned = f"{registry.host}/matrix/docker@{published.digest}"
    labels = {"fd.test": uuid.uuid4().hex}
    made = [
        docker_client.containers.create("fd-local/built:dev", ["sleep", "600"], network_mode="none", labels=labels),
        docker_client.containers.create(pinned, ["sleep", "600"], network_mode="none", labels=labels),
    ]
    try:
        before = image_ids(docker_client)
        result = check(sandbox, container_filters={"label": [f"fd.test={labels['fd.test']}"]}, include_stopped=True)[0]
        entries = by_image(result)
        assert entries["fd-local/built:dev"]["status"] == "local"
        assert entries[pinned]["status"] == "pinned"
        assert entries[pinned]["update_available"] is False
        result = check(sandbox, container_filters={"label": [f"fd.test={labels['fd.test']}"]})[0]
        assert result["results"] == []  # created, not running: only with include_stopped
        assert image_ids(docker_client) == before
    finally:
        for container in made:
            container.remove(force=True)


def test_wrong_password_is_credentials_rejected(sandbox, matrix):
    for name in ("basic", "bearer"):
        registry = sandbox.registries[name]
        result, warnings = check(sandbox, images=[f"{registry.host}/matrix/docker:v1"],
                                 registries=[registry_entry(registry, password="not-the-password")])
        [entry] = result["results"]
        assert entry["status"] == "credentials_rejected", (name, entry["message"])
        assert entry["update_available"] is None
        assert any("rejected" in warning for warning in warnings)
        assert "not-the-password" not in repr(result) + repr(warnings)


def test_no_credentials_is_auth_required(sandbox, matrix):
    for name in ("basic", "bearer"):
        registry = sandbox.registries[name]
        result = check(sandbox, images=[f"{registry.host}/matrix/docker:v1"], registries=[])[0]
        assert result["results"][0]["status"] == "auth_required", name


def test_missing_repository_and_tag_are_not_found(sandbox, matrix):
    refs = []
    for name in REGISTRIES:
        host = sandbox.registries[name].host
        refs += [f"{host}/no/such-repo:v1", f"{host}/matrix/docker:no-such-tag"]
    result = check(sandbox, images=refs)[0]
    assert {entry["status"] for entry in result["results"]} == {"not_found"}
    assert result["summary"]["not_found"] == 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_registry_down_is_unreachable(sandbox):
    ref = f"127.0.0.1:{_free_port()}/gone/app:v1"
    result = check(sandbox, images=[ref])[0]
    [entry] = result["results"]
    assert entry["status"] == "unreachable" and entry["update_available"] is None
    assert "cannot connect" in entry["message"]


def test_tls_is_verified_unless_a_ca_is_given(sandbox, matrix):
    registry = sandbox.registries["tls"]
    ref = f"{registry.host}/matrix/docker:v1"
    result = check(sandbox, images=[ref], registries=[registry_entry(registry, ca_path=None, insecure=False)])[0]
    [entry] = result["results"]
    assert entry["status"] == "unreachable"
    assert "ca_path" in entry["message"]
    result = check(sandbox, images=[ref], registries=[registry_entry(registry)])[0]
    assert result["results"][0]["status"] == "current"


def test_bad_reference_is_reported_not_raised(sandbox):
    result = check(sandbox, images=["Invalid:Ref:x"], containers=["no-such-container-fd"])[0]
    statuses = {entry["status"] for entry in result["results"]}
    assert statuses == {"error"}
    messages = " ".join(entry["message"] for entry in result["results"])
    assert "must be lowercase" in messages or "invalid image reference" in messages
    assert "no-such-container-fd" in messages
