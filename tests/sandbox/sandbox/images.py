"""Test images pushed purely through the registry API (no docker build, no buildx).

kinds: `docker` (Docker v2 manifest), `oci` (OCI manifest), `docker-list` (Docker manifest list),
`oci-index` (OCI index). Every document is serialized once and pushed as those exact bytes, so a
digest is always sha256 of what the registry stores.

`config` keys: container-config keys (Env, Cmd, Entrypoint, WorkingDir, User, Labels, Healthcheck,
ExposedPorts, Volumes, StopSignal, ...) go under the image config's "config"; the top-level keys in
TOP_LEVEL (history, rootfs, created, architecture, os, variant, ...) replace the generated ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .layers import Layer, busybox_layer, marker_layer
from .localbuild import build_local_image
from .pusher import Pusher, sha256_digest
from .registry import Registry

__all__ = ["DEFAULT_PLATFORMS", "KINDS", "PublishResult", "build_local_image", "image_config", "publish"]

KINDS = ("docker", "oci", "docker-list", "oci-index")
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64/v8", "linux/arm/v7")
TOP_LEVEL = frozenset({"architecture", "os", "variant", "os.version", "os.features", "history", "rootfs",
                       "created", "author", "container", "docker_version"})
CREATED = "2024-01-01T00:00:00Z"  # fixed: republishing the same version must be byte-identical
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

MT_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_OCI = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_IN_TOTO = "application/vnd.in-toto+json"


@dataclass
class PublishResult:
    registry: str  # host:port
    repo: str
    tag: str
    kind: str
    digest: str  # top-level (manifest, list or index) digest
    media_type: str
    manifests: dict[str, str] = field(default_factory=dict)  # platform -> image manifest digest
    configs: dict[str, str] = field(default_factory=dict)  # platform -> config digest (= classic image ID)
    attestation: str | None = None  # attestation manifest digest, if any
    raw: bytes = b""  # exact top-level bytes pushed

    @property
    def ref(self) -> str:
        return f"{self.registry}/{self.repo}:{self.tag}"

    @property
    def pinned(self) -> str:
        return f"{self.registry}/{self.repo}@{self.digest}"


@dataclass(frozen=True)
class _Blob:
    data: bytes
    media_type: str

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "size": len(self.data), "digest": sha256_digest(self.data), **extra}


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=3).encode()


def split_platform(platform: str) -> dict[str, str]:
    parts = platform.split("/")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2 and parts[2]:
        out["variant"] = parts[2]
    return out


def image_config(platform: str, version: str, layers: list[Layer], config: dict[str, Any] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"Env": [DEFAULT_PATH], "Cmd": ["sh"], "WorkingDir": "/",
                                 "Labels": {"org.opencontainers.image.version": version}}
    top: dict[str, Any] = {}
    for key, value in (config or {}).items():
        (top if key in TOP_LEVEL else container)[key] = value
    document: dict[str, Any] = {
        "created": CREATED,
        **split_platform(platform),
        "config": container,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": "fd-sandbox: busybox-static"},
                    {"created": CREATED, "created_by": f"fd-sandbox: /etc/fd-version {version}"}],
    }
    document.update(top)
    return document


def _image(pusher: Pusher, repo: str, oci: bool, platform: str, version: str,
           config: dict[str, Any] | None) -> tuple[_Blob, str]:
    """Push layers + config + manifest; returns (manifest blob, config digest)."""
    layers = [busybox_layer(), marker_layer(version)]
    config_blob = _Blob(_dump(image_config(platform, version, layers, config)), MT_OCI_CONFIG if oci else MT_DOCKER_CONFIG)
    for layer in layers:
        pusher.push_blob(repo, layer.blob)
    pusher.push_blob(repo, config_blob.data)
    layer_type = MT_OCI_LAYER if oci else MT_DOCKER_LAYER
    manifest = _Blob(_dump({
        "schemaVersion": 2,
        "mediaType": MT_OCI if oci else MT_DOCKER,
        "config": config_blob.descriptor(),
        "layers": [{"mediaType": layer_type, "size": layer.size, "digest": layer.digest} for layer in layers],
    }), MT_OCI if oci else MT_DOCKER)
    return manifest, sha256_digest(config_blob.data)


def _attestation(pusher: Pusher, repo: str, subject: _Blob) -> _Blob:
    """A buildx-style attestation manifest (in-toto statement) for the given image manifest."""
    statement = _dump({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://spdx.dev/Document",
                       "subject": [{"name": repo, "digest": {"sha256": sha256_digest(subject.data)[7:]}}],
                       "predicate": {"spdxVersion": "SPDX-2.3", "name": "fd-sandbox"}})
    layer = _Blob(statement, MT_IN_TOTO)
    config = _Blob(_dump({"architecture": "unknown", "os": "unknown", "config": {},
                          "rootfs": {"type": "layers", "diff_ids": [sha256_digest(statement)]}}), MT_OCI_CONFIG)
    pusher.push_blob(repo, statement)
    pusher.push_blob(repo, config.data)
    return _Blob(_dump({
        "schemaVersion": 2, "mediaType": MT_OCI, "config": config.descriptor(),
        "layers": [layer.descriptor(annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"})],
    }), MT_OCI)


def publish(
    registry: Registry,
    repo: str,
    tag: str,
    kind: str = "docker",
    version: str = "v1",
    platforms: tuple[str, ...] | list[str] | None = None,
    config: dict[str, Any] | None = None,
    attestation: bool = False,
    platform_versions: dict[str, str] | None = None,
) -> PublishResult:
    """Push an image of `kind` as repo:tag; returns the digests a test needs to compare against."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    multi = kind in ("docker-list", "oci-index")
    oci = kind in ("oci", "oci-index")
    chosen = tuple(platforms or (DEFAULT_PLATFORMS if multi else ("linux/amd64",)))
    if not multi and len(chosen) != 1:
        raise ValueError(f"kind {kind!r} is single-platform; got platforms={chosen}")
    if attestation and not multi:
        raise ValueError("attestation entries only exist in lists/indexes")
    pusher = Pusher(registry)
    try:
        result = PublishResult(registry.host, repo, tag, kind, "", "")
        children: list[tuple[str, _Blob]] = []
        for platform in chosen:
            plat_version = (platform_versions or {}).get(platform, version)
            manifest, config_digest = _image(pusher, repo, oci, platform, plat_version, config)
            children.append((platform, manifest))
            result.configs[platform] = config_digest
            result.manifests[platform] = sha256_digest(manifest.data)
        if not multi:
            top = children[0][1]
        else:
            entries = []
            for platform, manifest in children:
                pusher.push_manifest(repo, sha256_digest(manifest.data), manifest.data, manifest.media_type)
                entries.append(manifest.descriptor(platform=split_platform(platform)))
            if attestation:
                subject = children[0][1]
                att = _attestation(pusher, repo, subject)
                pusher.push_manifest(repo, sha256_digest(att.data), att.data, att.media_type)
                result.attestation = sha256_digest(att.data)
                entries.append(att.descriptor(
                    annotations={"vnd.docker.reference.type": "attestation-manifest",
                                 "vnd.docker.reference.digest": sha256_digest(subject.data)},
                    platform={"architecture": "unknown", "os": "unknown"}))
            list_type = MT_OCI_INDEX if oci else MT_DOCKER_LIST
            top = _Blob(_dump({"schemaVersion": 2, "mediaType": list_type, "manifests": entries}), list_type)
        result.digest = pusher.push_manifest(repo, tag, top.data, top.media_type)
        result.media_type, result.raw = top.media_type, top.data
        return result
    finally:
        pusher.close()
