# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.freshdock.core.plugins.module_utils import platform as plat
from ansible_collections.freshdock.core.plugins.module_utils import verdict as v
from ansible_collections.freshdock.core.plugins.module_utils.reference import parse_reference

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


@pytest.mark.parametrize(("raw", "expected"), [
    (("linux", "x86_64", None), "linux/amd64"),
    (("linux", "amd64", "v1"), "linux/amd64"),
    (("Linux", "aarch64", "v8"), "linux/arm64"),
    (("linux", "arm64", "8"), "linux/arm64"),
    (("linux", "armhf", None), "linux/arm/v7"),
    (("linux", "armel", None), "linux/arm/v6"),
    (("linux", "arm", ""), "linux/arm/v7"),
    (("linux", "arm", "6"), "linux/arm/v6"),
    (("linux", "i386", None), "linux/386"),
    (("windows", "amd64", None), "windows/amd64"),
])
def test_normalize_platform(raw, expected):
    assert str(plat.normalize_platform(*raw)) == expected


INDEX = {
    "schemaVersion": 2,
    "manifests": [
        {"mediaType": plat.OCI_MANIFEST, "digest": D1, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": plat.OCI_MANIFEST, "digest": D3, "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": D2}},
        {"mediaType": "application/vnd.example.unknown", "digest": D3, "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": plat.OCI_MANIFEST, "digest": D2, "platform": {"os": "linux", "architecture": "amd64"}},
    ],
}


def test_select_entry_skips_attestations_and_unknown_media_types():
    assert plat.select_entry(INDEX, plat.normalize_platform("linux", "x86_64"))["digest"] == D2
    assert plat.select_entry(INDEX, plat.normalize_platform("linux", "aarch64"))["digest"] == D1
    assert plat.select_entry(INDEX, plat.normalize_platform("linux", "s390x")) is None
    assert plat.select_entry({"manifests": "nope"}, plat.normalize_platform("linux", "amd64")) is None


def test_attestation_detection():
    assert plat.is_attestation(INDEX["manifests"][1])
    assert plat.is_attestation({"platform": {"os": "unknown", "architecture": "unknown"}})
    assert not plat.is_attestation(INDEX["manifests"][0])


def test_media_type_ignores_parameters():
    assert plat.media_type("application/vnd.oci.image.index.v1+json; charset=utf-8") == plat.OCI_INDEX
    assert plat.media_type(None) == ""


def test_looks_like_manifest():
    assert plat.looks_like_manifest({"schemaVersion": 2, "manifests": []}, plat.OCI_INDEX)
    assert plat.looks_like_manifest({"schemaVersion": 2, "config": {}, "layers": []}, plat.DOCKER_MANIFEST)
    assert not plat.looks_like_manifest({"schemaVersion": 2}, plat.DOCKER_MANIFEST)
    assert not plat.looks_like_manifest({"schemaVersion": 1, "manifests": []}, plat.OCI_INDEX)


REF = parse_reference("127.0.0.1:5000/team/app:v1")


def test_digests_for_matches_normalised_repository_only():
    repo_digests = [f"127.0.0.1:5000/team/app@{D1}", f"127.0.0.1:5000/team/app@{D2}", f"other/app@{D3}",
                    f"127.0.0.1:5000/team/app@{D1}", "garbage"]
    assert v.digests_for(REF, repo_digests) == [D1, D2]
    assert v.digests_for(parse_reference("nginx"), [f"docker.io/library/nginx@{D1}"]) == [D1]


def test_compare_against_every_local_digest():
    assert v.compare(REF, D2, [D1, D2]).status == v.CURRENT
    assert v.compare(REF, D3, [D1, D2]) is None
    assert v.compare(REF, D3, []).status == v.LOCAL


@pytest.mark.parametrize(("config", "status"), [(D1, v.CURRENT), (D2, v.STALE), (None, "unsupported")])
def test_platform_verdict(config, status):
    assert v.platform_verdict(REF, D3, [D2], D1, config, "linux/amd64").status == status


@pytest.mark.parametrize(("status", "expected"), [
    (v.STALE, True), (v.BEHIND_TAG, True), (v.CURRENT, False), (v.PINNED, False), (v.LOCAL, False),
    (v.ABSENT, None), ("unreachable", None), ("credentials_rejected", None), (v.ERROR, None), ("rate_limited", None),
])
def test_update_available_is_only_true_when_known(status, expected):
    assert v.Verdict(status, "m").update_available is expected
