# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet de-duplication: hosts export what their engine knows, the controller asks each registry once.

A host run with ``resolve: false`` returns 'unresolved' entries carrying ``facts`` (local image ID, digests,
platform, the image under the tag). A controller run with ``resolve_facts`` turns all hosts' entries into
verdicts with one registry request per unique tag in the whole fleet: no registry access is needed on hosts.
"""

from __future__ import annotations

from ansible_collections.freshdock.core.plugins.module_utils import verdict as v
from ansible_collections.freshdock.core.plugins.module_utils.checker import Target
from ansible_collections.freshdock.core.plugins.module_utils.engine import LocalImage
from ansible_collections.freshdock.core.plugins.module_utils.errors import InvalidReference
from ansible_collections.freshdock.core.plugins.module_utils.options import OptionError
from ansible_collections.freshdock.core.plugins.module_utils.platform import normalize_platform
from ansible_collections.freshdock.core.plugins.module_utils.reference import parse_reference

_FACT_KEYS = ("container", "container_id", "image", "image_id")


def _image_facts(image: LocalImage | None) -> dict | None:
    if image is None:
        return None
    return {"id": image.id, "repo_digests": list(image.repo_digests), "platform": str(image.platform)}


def export_facts(target: Target) -> dict:
    return {"local": _image_facts(target.local), "tagged": _image_facts(target.tagged if isinstance(target.tagged, LocalImage) else None)}


def _local_image(facts: dict | None, where: str) -> LocalImage | None:
    if facts is None:
        return None
    try:
        parts = (str(facts["platform"]).split("/") + ["", ""])[:3]
        return LocalImage(id=str(facts["id"]), repo_digests=tuple(str(d) for d in facts.get("repo_digests") or ()),
                          repo_tags=(), platform=normalize_platform(*parts))
    except (KeyError, TypeError, AttributeError):
        raise OptionError(f"resolve_facts {where}: 'facts' lacks id/platform; pass entries from a resolve: false run") from None


def targets_from_entries(entries: list) -> tuple:
    """(all targets, the ones still to resolve) from entries of resolve: false runs on any number of hosts."""
    targets, pending = [], []
    for index, entry in enumerate(entries or []):
        where = f"[{index}]"
        if not isinstance(entry, dict) or any(key not in entry for key in _FACT_KEYS):
            raise OptionError(f"resolve_facts{where} is not a freshdock_digest result entry")
        extra = {key: value for key, value in entry.items() if key not in _RESULT_KEYS}
        target = Target(image=entry["image"], container=entry["container"], container_id=entry["container_id"],
                        image_id=entry["image_id"] if entry["container_id"] else None, extra=extra)
        if entry.get("status") != v.UNRESOLVED:
            target.verdict = v.Verdict(entry["status"], entry.get("message") or "", entry.get("remote_digest"),
                                       list(entry.get("local_digests") or []))
            try:
                target.ref = parse_reference(entry["image"])
            except InvalidReference:
                target.ref = None
            targets.append(target)
            continue
        facts = entry.get("facts") or {}
        target.ref = parse_reference(entry["image"])
        target.local = _local_image(facts.get("local"), where)
        target.tagged = _local_image(facts.get("tagged"), where)
        targets.append(target)
        pending.append(target)
    return targets, pending


_RESULT_KEYS = frozenset((
    "container", "container_id", "image", "image_id", "registry", "repository", "tag", "local_digests",
    "remote_digest", "status", "update_available", "message", "facts",
))
