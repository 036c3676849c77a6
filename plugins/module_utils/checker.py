# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only staleness check: gather targets, ask each registry once per tag, decide verdicts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.freshdock.core.plugins.module_utils import verdict as v
from ansible_collections.freshdock.core.plugins.module_utils.engine import Engine, LocalImage
from ansible_collections.freshdock.core.plugins.module_utils.errors import InvalidReference, RegistryError
from ansible_collections.freshdock.core.plugins.module_utils.reference import ImageReference, parse_reference
from ansible_collections.freshdock.core.plugins.module_utils.registry import RegistryClient, RemoteManifest, tag_key

_IMAGE_ID_RE = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")
UNSET = object()


@dataclass
class Target:
    image: str  # the reference as configured (Config.Image verbatim for containers)
    container: str | None = None
    container_id: str | None = None
    image_id: str | None = None  # what the container runs; None for plain image targets
    ref: ImageReference | None = None
    local: LocalImage | None = None
    verdict: v.Verdict | None = None
    inspect: dict | None = None  # the container's inspect data (selection, policy, ordering)
    tagged: object = UNSET  # LocalImage the engine holds under ``image`` (None: none); UNSET: not looked up yet
    extra: dict = field(default_factory=dict)  # passed through into the result (policy, host, …)


class DigestChecker:
    def __init__(self, engine: Engine, registry: RegistryClient) -> None:
        self.engine = engine
        self.registry = registry
        self.warnings: list[str] = []

    # -- gathering --------------------------------------------------------------------------------

    def targets(self, images, containers, filters, include_stopped: bool) -> list:
        found: list[Target] = []
        seen_ids: set = set()
        inspected = []
        for name in containers or ():
            data = self.engine.inspect_container(name)
            if data is None:
                found.append(Target(image="", container=name, verdict=v.Verdict(
                    v.ERROR, f"no container named {name!r} on this engine; check the name or use container_filters")))
                self.warnings.append(f"container {name!r} not found")
            else:
                inspected.append(data)
        if filters is not None:
            for summary in self.engine.list_containers(filters, include_stopped):
                data = self.engine.inspect_container(summary["Id"])
                if data is not None:
                    inspected.append(data)
        for data in inspected:
            if data["Id"] in seen_ids:
                continue
            seen_ids.add(data["Id"])
            found.append(Target(
                image=(data.get("Config") or {}).get("Image") or data.get("Image", ""),
                container=data.get("Name", "").lstrip("/"), container_id=data["Id"], image_id=data.get("Image"),
                inspect=data,
            ))
        found.extend(Target(image=image) for image in images or ())
        return found

    # -- deciding ---------------------------------------------------------------------------------

    def check(self, targets: list, resolve: bool = True) -> list:
        """Verdicts for all targets; with resolve=False only what the engine alone can tell (the rest 'unresolved')."""
        pending = [target for target in targets if target.verdict is None and not self._local_verdict(target)]
        if not resolve:
            for target in pending:
                target.tagged = self.engine.image(target.image) if target.image_id is not None else None
                target.verdict = v.Verdict(v.UNRESOLVED, "the registry is asked elsewhere (resolve_on: controller)",
                                           None, v.digests_for(target.ref, target.local.repo_digests) if target.local else [])
            return targets
        return self.resolve(targets, pending)

    def resolve(self, targets: list, pending: list) -> list:
        """Ask each registry once per unique tag and decide the pending targets."""
        remote = self.registry.resolve(target.ref for target in pending)
        for target in pending:
            target.verdict = self._remote_verdict(target, remote[tag_key(target.ref)])
        return targets

    def _local_verdict(self, target: Target) -> bool:
        """Settle what needs no registry (pinned, local builds, bad references); True when settled."""
        if target.image_id is not None and _IMAGE_ID_RE.match(target.image) \
                and target.image_id.split(":")[-1].startswith(target.image.split(":")[-1]):
            target.verdict = v.Verdict(v.PINNED, "the container was created from an image ID, not a tag; never updated")
            return True
        try:
            target.ref = parse_reference(target.image)
        except InvalidReference as exc:
            target.verdict = v.Verdict(v.ERROR, f"{exc}; fix the image reference")
            return True
        target.local = self.engine.image(target.image_id or target.image)
        if target.ref.pinned:
            digests = v.digests_for(target.ref, target.local.repo_digests if target.local else ())
            target.verdict = v.Verdict(v.PINNED, f"{target.image} is pinned by digest; never updated", None, digests)
            return True
        if target.local is None:
            if target.image_id is not None:
                target.verdict = v.Verdict(v.ERROR, f"the image {target.image_id} of container {target.container!r} is gone from the engine")
                return True
            return False  # an image not pulled yet: still worth the remote digest (status 'absent')
        if not target.local.repo_digests:
            target.verdict = v.Verdict(v.LOCAL, f"{target.image} was built locally (no registry digest); never replaced")
            return True
        return False

    def _remote_verdict(self, target: Target, remote) -> v.Verdict:
        ref = target.ref
        if isinstance(remote, RegistryError):
            digests = v.digests_for(ref, target.local.repo_digests) if target.local else []
            return v.Verdict(remote.status, str(remote), None, digests)
        if target.local is None:
            return v.Verdict(v.ABSENT, f"{target.image} is not present on this engine; nothing to compare", remote.digest)
        result = self._judge(ref, remote, target.local)
        if result.status == v.STALE and target.image_id is not None:
            return self._behind_tag(target, remote) or result
        return result

    def _judge(self, ref: ImageReference, remote: RemoteManifest, local: LocalImage) -> v.Verdict:
        digests = v.digests_for(ref, local.repo_digests)
        quick = v.compare(ref, remote.digest, digests)
        if quick is not None:
            return quick
        if not remote.is_index:
            return v.Verdict(v.STALE, f"{ref} now points at a different image", remote.digest, digests)
        try:
            config = self.registry.platform_config_digest(ref, remote.digest, local.platform)
        except RegistryError as exc:
            return v.Verdict(exc.status, f"{exc} (while resolving the {local.platform} entry)", remote.digest, digests)
        return v.platform_verdict(ref, remote.digest, digests, local.id, config, str(local.platform))

    def _behind_tag(self, target: Target, remote: RemoteManifest) -> v.Verdict | None:
        """The container is stale, but the engine may already hold the new image under the tag."""
        tagged = self.engine.image(target.image) if target.tagged is UNSET else target.tagged
        if tagged is None or tagged.id == target.local.id:
            return None
        if self._judge(target.ref, remote, tagged).status != v.CURRENT:
            return None
        return v.Verdict(v.BEHIND_TAG, f"the engine already has the current {target.image} ({tagged.id[:19]}); "
                                       "the container still runs an older image", remote.digest,
                         v.digests_for(target.ref, target.local.repo_digests))


def result_entry(target: Target) -> dict:
    ref, verdict = target.ref, target.verdict
    return {
        "container": target.container,
        "container_id": target.container_id,
        "image": target.image,
        "image_id": target.image_id or (target.local.id if target.local else None),
        "registry": ref.registry if ref else None,
        "repository": ref.repository if ref else None,
        "tag": (ref.tag or (None if ref.digest else "latest")) if ref else None,
        "local_digests": list(verdict.local_digests),
        "remote_digest": verdict.remote_digest,
        "status": verdict.status,
        "update_available": verdict.update_available,
        "message": verdict.message,
        **target.extra,
    }


def summarize(entries: list) -> dict:
    summary = {status: 0 for status in v.STATUSES}
    for entry in entries:
        summary[entry["status"]] = summary.get(entry["status"], 0) + 1
    summary["total"] = len(entries)
    return summary
