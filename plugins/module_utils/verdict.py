# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verdicts: what a local image and a registry answer mean together. Pure; no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.freshdock.core.plugins.module_utils.reference import ImageReference, parse_repo_digest

CURRENT = "current"
STALE = "stale"
BEHIND_TAG = "behind_tag"
PINNED = "pinned"
LOCAL = "local"
ABSENT = "absent"
ERROR = "error"
UNRESOLVED = "unresolved"
STATUSES = (
    CURRENT, STALE, BEHIND_TAG, PINNED, LOCAL, ABSENT, "auth_required", "credentials_rejected", "not_found",
    "rate_limited", "unreachable", "unsupported", ERROR, UNRESOLVED,
)
_UPDATE = {STALE: True, BEHIND_TAG: True, CURRENT: False, PINNED: False, LOCAL: False}


@dataclass
class Verdict:
    status: str
    message: str
    remote_digest: str | None = None
    local_digests: list = field(default_factory=list)

    @property
    def update_available(self) -> bool | None:
        """True/False only when known; every doubt is None, never True."""
        return _UPDATE.get(self.status)


def digests_for(ref: ImageReference, repo_digests) -> list:
    """The digests a local image carries for ref's repository (RepoDigests may list several repos)."""
    found = []
    for entry in repo_digests or ():
        parsed = parse_repo_digest(entry)
        if parsed is not None and parsed[0].same_repository(ref) and parsed[1] not in found:
            found.append(parsed[1])
    return found


def compare(ref: ImageReference, remote_digest: str, local_digests: list) -> Verdict | None:
    """The cheap verdict from the top-level digest alone; None when only the platform entry can tell."""
    if not local_digests:
        return Verdict(LOCAL, f"the local image carries no digest from {ref.name}: it was built or re-tagged "
                              "locally, so it is never replaced from the registry", remote_digest, [])
    if remote_digest in local_digests:
        return Verdict(CURRENT, f"{ref} still points at the local image", remote_digest, list(local_digests))
    return None


def platform_verdict(ref: ImageReference, remote_digest: str, local_digests: list, local_image_id: str,
                     platform_config: str | None, platform_name: str) -> Verdict:
    """Decide after resolving the index entry for our platform (rare path: top-level digests differ)."""
    if platform_config is None:
        return Verdict("unsupported", f"{ref} now has no {platform_name} image in its index; not treated as an update",
                       remote_digest, list(local_digests))
    if platform_config == local_image_id:
        return Verdict(CURRENT, f"{ref} was republished, but its {platform_name} image is unchanged "
                                "(only other platforms or attestations changed)", remote_digest, list(local_digests))
    return Verdict(STALE, f"{ref} now points at a different {platform_name} image", remote_digest, list(local_digests))
