# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Platforms and manifest media types: normalisation (containerd rules) and index entry selection."""

from __future__ import annotations

from dataclasses import dataclass

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
INDEX_TYPES = frozenset((OCI_INDEX, DOCKER_LIST))
MANIFEST_TYPES = frozenset((OCI_MANIFEST, DOCKER_MANIFEST))
SCHEMA1_TYPES = frozenset((
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
))
_ATTESTATION = "attestation-manifest"

_ARCH_ALIASES = {
    "x86_64": "amd64", "x86-64": "amd64", "amd64": "amd64",
    "aarch64": "arm64", "arm64": "arm64",
    "armhf": "arm", "armel": "arm", "arm": "arm",
    "i386": "386", "386": "386",
}


def media_type(content_type: str | None) -> str:
    """Content-Type without parameters (clients SHOULD ignore them)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


def normalize_platform(os_name: str | None, architecture: str | None, variant: str | None = None) -> Platform:
    """Apply containerd's normalizeArch so 'x86_64', 'aarch64/v8' and 'armhf' compare as Docker does."""
    os_name = (os_name or "").lower()
    raw_arch = (architecture or "").lower()
    variant = (variant or "").lower()
    arch = _ARCH_ALIASES.get(raw_arch, raw_arch)
    if arch == "amd64" and variant == "v1":
        variant = ""
    elif arch == "arm64" and variant in ("8", "v8"):
        variant = ""
    elif arch == "arm":
        if raw_arch == "armhf":
            variant = "v7"
        elif raw_arch == "armel":
            variant = "v6"
        elif variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = f"v{variant}"
    return Platform(os_name, arch, variant)


def _entry_platform(entry: dict) -> Platform | None:
    platform = entry.get("platform")
    if not isinstance(platform, dict):
        return None
    return normalize_platform(platform.get("os"), platform.get("architecture"), platform.get("variant"))


def is_attestation(entry: dict) -> bool:
    annotations = entry.get("annotations")
    if isinstance(annotations, dict) and annotations.get("vnd.docker.reference.type") == _ATTESTATION:
        return True
    platform = entry.get("platform")
    return isinstance(platform, dict) and platform.get("os") == "unknown" and platform.get("architecture") == "unknown"


def select_entry(index: dict, wanted: Platform) -> dict | None:
    """The index entry the engine would pull for ``wanted``; attestations and unknown media types skipped."""
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        return None
    for entry in manifests:
        if not isinstance(entry, dict) or is_attestation(entry):
            continue
        if media_type(entry.get("mediaType")) not in INDEX_TYPES | MANIFEST_TYPES:
            continue
        if _entry_platform(entry) == wanted and isinstance(entry.get("digest"), str):
            return entry
    return None


def looks_like_manifest(document: dict, media: str) -> bool:
    """Minimal shape check so a garbage body is never hashed into a "new" digest."""
    if document.get("schemaVersion") != 2:
        return False
    if media in INDEX_TYPES:
        return isinstance(document.get("manifests"), list)
    return isinstance(document.get("config"), dict) and isinstance(document.get("layers"), list)
