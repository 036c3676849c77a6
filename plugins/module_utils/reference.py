# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image references: docker/distribution's grammar and normalisation (ParseNormalizedNamed)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.freshdock.core.plugins.module_utils.errors import InvalidReference

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_LEGACY_HUB = "index.docker.io"
# Keys under which docker (v1 URL) and skopeo (bare host) store Docker Hub credentials.
DOCKER_HUB_CREDENTIAL_KEYS = (
    "https://index.docker.io/v1/",
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "https://index.docker.io/v1",
)

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ID_RE = re.compile(r"^[a-f0-9]{64}$")
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class ImageReference:
    """A normalised reference: ``registry/repository[:tag][@digest]``."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """Host that serves ``/v2/`` for this registry (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def effective_tag(self) -> str:
        return self.tag or "latest"

    def same_repository(self, other: ImageReference) -> bool:
        return self.registry == other.registry and self.repository == other.repository

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def validate_digest(digest: str, context: str = "digest") -> str:
    """Check ``algorithm:hex`` the way go-digest does; return it unchanged."""
    algorithm, sep, hexpart = digest.partition(":")
    if not sep or not re.fullmatch(_DIGEST, digest):
        raise InvalidReference(f"{context} {digest!r} is not a valid digest: expected 'sha256:' followed by 64 hex digits")
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReference(f"{context} {digest!r} uses an unsupported digest algorithm {algorithm!r}; use sha256, sha384 or sha512")
    if len(hexpart) != expected or hexpart != hexpart.lower():
        raise InvalidReference(
            f"{context} {digest!r} has an invalid checksum format: {algorithm} needs exactly {expected} lowercase hex digits"
        )
    return digest


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep or (first != "localhost" and "." not in first and ":" not in first and first == first.lower()):
        domain, remainder = DOCKER_HUB, name
    else:
        domain, remainder = first, rest
    if domain == _LEGACY_HUB:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


def parse_reference(text: str) -> ImageReference:
    """Parse and normalise an image reference; raise InvalidReference naming the problem and the fix."""
    if not isinstance(text, str) or not text:
        raise InvalidReference("image reference is empty; give a name such as 'nginx:1.25' or 'ghcr.io/owner/app:tag'")
    if _ID_RE.match(text):
        raise InvalidReference(
            f"invalid image reference {text!r}: a 64-character hex string is an image ID, not a repository name"
        )
    name_part = text.split("@", 1)[0]
    # The tag separator is the last ':' after the last '/', so 'host:5000/app' keeps its port.
    slash = name_part.rfind("/")
    colon = name_part.rfind(":")
    name_only = name_part[:colon] if colon > slash else name_part
    domain, remainder = _split_domain(name_only)
    if remainder.lower() != remainder:
        raise InvalidReference(
            f"invalid image reference {text!r}: repository name ({remainder}) must be lowercase"
        )
    if domain.lower() != domain:
        raise InvalidReference(
            f"invalid image reference {text!r}: registry host {domain!r} has uppercase letters; write it in lowercase"
        )
    match = _REFERENCE_RE.match(text)
    if not match:
        raise InvalidReference(
            f"invalid image reference format {text!r}: expected [registry[:port]/]repository[:tag][@digest] "
            "with a lowercase repository, a tag of at most 128 characters from [A-Za-z0-9_.-] "
            "and no URL scheme"
        )
    name, tag, digest = match.groups()
    if len(name) > _MAX_NAME_LENGTH:
        raise InvalidReference(
            f"invalid image reference {text[:60]!r}…: repository name must not be more than {_MAX_NAME_LENGTH} characters"
        )
    if digest is not None:
        validate_digest(digest, f"image reference {text!r}: digest")
    return ImageReference(registry=domain, repository=remainder, tag=tag, digest=digest)


def parse_repo_digest(text: str) -> tuple[ImageReference, str] | None:
    """Split a RepoDigests entry (``name@digest``) into its normalised repository and digest; None if unusable."""
    try:
        ref = parse_reference(text)
    except InvalidReference:
        return None
    if ref.digest is None:
        return None
    return ImageReference(ref.registry, ref.repository), ref.digest


def validate_registry_host(text: str) -> str:
    """Normalise a registry given by a user (``ghcr.io``, ``https://index.docker.io/v1/``, ``[::1]:5000``)."""
    host = (text or "").strip()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix):]
    host = host.split("/", 1)[0].lower()
    if not host or not re.fullmatch(_DOMAIN, host):
        raise InvalidReference(f"{text!r} is not a registry host; write it like 'ghcr.io' or '127.0.0.1:5000'")
    if host in (_LEGACY_HUB, DOCKER_HUB_API):
        return DOCKER_HUB
    return host


def is_digest(text: str) -> bool:
    try:
        validate_digest(text)
    except InvalidReference:
        return False
    return True
