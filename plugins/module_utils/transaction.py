# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The update of one container: check, pull, pre-created swap, health gate, commit or rollback.

Downtime is only stop → start: the new image is pulled and the new container created before the old one
stops. The journal is written before every irreversible step, under a per-container lock, so a later run
converges after a crash at any point (journal_ops). The original container is never removed before the new
one has passed its gate; on any failure it comes back under its name, with its ID and its volumes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.freshdock.core.plugins.module_utils import clone, dependents, health, hooks
from ansible_collections.freshdock.core.plugins.module_utils import journal_ops as ops
from ansible_collections.freshdock.core.plugins.module_utils import verdict as v
from ansible_collections.freshdock.core.plugins.module_utils.checker import DigestChecker, Target
from ansible_collections.freshdock.core.plugins.module_utils.engine import Engine
from ansible_collections.freshdock.core.plugins.module_utils.errors import EngineError, FreshdockError
from ansible_collections.freshdock.core.plugins.module_utils.reference import parse_reference
from ansible_collections.freshdock.core.plugins.module_utils.registry import RegistryClient
from ansible_collections.freshdock.core.plugins.module_utils.state import StateDir, StateError

LOCK_TIMEOUT = 900.0
_ARCHIVE_MARK = "-old-"


class UpdateRefused(FreshdockError):
    """The update cannot start; nothing was touched."""


class RolledBack(FreshdockError):
    """Raised inside the transaction to unwind to the original container."""

    def __init__(self, reason: str, image_fault: bool) -> None:
        super().__init__(reason)
        self.image_fault = image_fault  # True: the new image is to blame, so its digest is remembered


@dataclass
class UpdateOptions:
    name: str
    image: str | None = None
    force: bool = False
    health_timeout: float = 120.0
    grace_period: float = 10.0
    readiness: health.Readiness | None = None
    stop_timeout: int | None = None
    cleanup: bool = False
    hooks: hooks.Hooks | None = None  # None: from the container's labels
    fail_on_rollback: bool = True
    state_dir: str = "/var/lib/freshdock"
    check_mode: bool = False


@dataclass
class Outcome:
    action: str
    changed: bool
    message: str
    previous: dict = field(default_factory=dict)
    current: dict = field(default_factory=dict)
    rollback: dict | None = None
    timings: dict = field(default_factory=dict)
    dependents: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    failed: bool = False
    pulled: bool = False

    def result(self) -> dict:
        before = {"id": self.previous.get("id"), "image_id": self.previous.get("image_id"), "digest": self.previous.get("digest")}
        after = {"id": self.current.get("id"), "image_id": self.current.get("image_id"), "digest": self.current.get("digest")}
        return {
            "changed": self.changed, "failed": self.failed, "action": self.action, "msg": self.message,
            "previous": self.previous, "current": self.current, "rollback": self.rollback, "timings": self.timings,
            "dependents": self.dependents, "pulled": self.pulled, "diff": {"before": before, "after": after},
        }


def _describe(data: dict, digest: str | None) -> dict:
    return {"id": data["Id"], "name": data["Name"].lstrip("/"), "image": data["Config"].get("Image"),
            "image_id": data.get("Image"), "digest": digest}


class Updater:
    def __init__(self, engine: Engine, registry: RegistryClient, options: UpdateOptions, clock=time.monotonic) -> None:
        self.engine = engine
        self.registry = registry
        self.opts = options
        self.clock = clock
        self.state = StateDir(options.state_dir, engine.engine_id)
        self.timings: dict = {}

    # -- entry --------------------------------------------------------------------------------------

    def run(self) -> Outcome:
        if self.opts.check_mode:
            return self._check_only()
        with self.state.lock(self.opts.name, LOCK_TIMEOUT):
            journal = self.state.journal(self.opts.name)
            if journal is not None:
                return self._recover(journal)
            return self._update()

    def _container(self) -> dict:
        data = self.engine.inspect_container(self.opts.name)
        if data is None:
            raise UpdateRefused(f"no container named {self.opts.name!r} on this engine; check the name")
        name = data["Name"].lstrip("/")
        if _ARCHIVE_MARK in name and name.rsplit(_ARCHIVE_MARK, 1)[1].isdigit():
            raise UpdateRefused(f"{name!r} is an archived copy kept by an earlier update, not a service; update the original")
        return data

    def _verdict(self, data: dict) -> v.Verdict:
        target = Target(image=self.opts.image or data["Config"]["Image"], container=data["Name"].lstrip("/"),
                        container_id=data["Id"], image_id=data["Image"])
        checker = DigestChecker(self.engine, self.registry)
        [checked] = checker.check([target])
        return checked.verdict

    def _plan(self, data: dict) -> tuple:
        """(proceed?, verdict, Outcome-if-not) — decides from the registry without touching anything."""
        verdict = self._verdict(data)
        previous = _describe(data, (verdict.local_digests or [None])[0])
        if verdict.status in (v.PINNED, v.LOCAL):
            return False, verdict, Outcome("skipped", False, verdict.message, previous, previous)
        if verdict.status == v.CURRENT and not self.opts.force:
            return False, verdict, Outcome("current", False, verdict.message, previous, previous)
        if verdict.update_available is None and verdict.status != v.CURRENT and not self.opts.force:
            raise UpdateRefused(f"cannot tell whether {data['Name'].lstrip('/')} is stale: {verdict.message}")
        failed = self.state.failures(previous["name"]).get(verdict.remote_digest or "")
        if failed and not self.opts.force:
            return False, verdict, Outcome(
                "skipped", False, f"{verdict.remote_digest} failed before ({failed['reason']}); not retried until the "
                                  "registry's digest moves (force: true retries it)", previous, previous)
        return True, verdict, Outcome("updated", True, "", previous)

    def _check_only(self) -> Outcome:
        data = self._container()
        journal = self.state.journal(self.opts.name)
        if journal is not None:
            previous = _describe(data, None)
            return Outcome("recovered", True, f"an interrupted update ({journal.get('phase')}) would be resolved first",
                           previous, {"id": "(unknown until run)"})
        proceed, verdict, outcome = self._plan(data)
        if proceed:
            outcome.message = f"would update: {verdict.message}"
            outcome.current = {"id": "(new container)", "image_id": "(pulled at run time)", "digest": verdict.remote_digest}
        return outcome

    # -- the transaction ----------------------------------------------------------------------------

    def _update(self) -> Outcome:
        data = self._container()
        proceed, verdict, outcome = self._plan(data)
        if not proceed:
            return outcome
        name = outcome.previous["name"]
        image = self.opts.image or data["Config"]["Image"]
        new_image = self._pull(image, data)
        outcome.pulled = True
        if new_image["Id"] == data["Image"] and not self.opts.force:
            outcome.action, outcome.changed = "current", False
            outcome.message = f"the engine's {image} is already the image {name} runs"
            outcome.current = outcome.previous
            return outcome
        running = bool(data["State"].get("Running"))
        hook_set = self.opts.hooks if self.opts.hooks is not None else hooks.hooks_from_labels(data["Config"].get("Labels") or {})
        outcome.warnings.extend(hook_set.warnings)
        if hook_set.pre_update is not None and running:
            held = self._pre_hook(data, hook_set.pre_update, outcome)
            if held is not None:
                return held
        old_image = self.engine.inspect_image(data["Image"])
        spec = clone.build_spec(data, old_image, new_image, self.engine.api_version)
        if self.opts.image:
            spec.body["Image"] = self.opts.image
        journal = {"phase": ops.PHASE_CREATE, "name": name, "old_id": data["Id"], "old_image_id": data["Image"],
                   "was_running": running, "temp_name": f"{name}-freshdock-new", "image": spec.body.get("Image", image),
                   "remote_digest": verdict.remote_digest, "new_image_id": new_image["Id"], "started": time.time()}
        blocker = self.engine.inspect_container(journal["temp_name"])
        if blocker is not None:
            raise UpdateRefused(f"a container named {journal['temp_name']!r} exists and was not made by this run; "
                                f"remove or rename it, then update {name} again (nothing was touched)")
        netns = dependents.find(self.engine, name, data["Id"])
        try:
            new_id = self._swap(journal, spec, data)
            self._gate(journal, new_id)
        except RolledBack as exc:
            return self._rollback(journal, outcome, str(exc), exc.image_fault, netns)
        except (EngineError, StateError, OSError) as exc:
            # StateError: the journal could not be written mid-swap (disk full?) - undo rather than leave it half done
            return self._rollback(journal, outcome, str(exc), False, netns)
        return self._commit(journal, outcome, new_image, verdict, hook_set, netns)

    def _pull(self, image: str, data: dict) -> dict:
        start = self.clock()
        registry = parse_reference(image).registry
        credential = self.registry.credentials.lookup(registry)
        auth = None
        if credential is not None:
            auth = {"basic": {"username": credential.username, "password": credential.secret},
                    "identitytoken": {"identitytoken": credential.secret},
                    "registrytoken": {"registrytoken": credential.secret}}[credential.kind]
        try:
            self.engine.pull(image, auth)
        except EngineError as exc:
            raise UpdateRefused(f"{exc}; {data['Name'].lstrip('/')} was not touched") from None
        self.timings["pull"] = round(self.clock() - start, 3)
        pulled = self.engine.inspect_image(image)
        if pulled is None:
            raise UpdateRefused(f"the engine reports {image} missing right after pulling it; nothing was touched")
        return pulled

    def _pre_hook(self, data: dict, hook: hooks.Hook, outcome: Outcome) -> Outcome | None:
        result = hooks.run_hook(self.engine.client, data["Id"], hook)
        if result.ok:
            return None
        outcome.changed, outcome.current = False, outcome.previous
        if result.deferred:
            outcome.action, outcome.message = "deferred", f"the pre-update hook ({hook.source}) asked to defer (exit 75)"
        else:
            why = result.error or ("timed out" if result.timed_out else f"exit code {result.exit_code}")
            outcome.action = "skipped"
            outcome.message = f"the pre-update hook ({hook.source}) failed: {why}; nothing was touched. {result.output[-500:]}".strip()
        return outcome

    def _step(self, journal: dict, phase: str) -> None:
        journal["phase"] = phase
        self.state.write_journal(journal["name"], journal)

    def _timed(self, key: str, what: str, func, *args, **kwargs):
        start = self.clock()
        try:
            return self.engine.call(what, func, *args, **kwargs)
        finally:
            self.timings[key] = round(self.clock() - start, 3)

    def _swap(self, journal: dict, spec: clone.CreateSpec, data: dict) -> str:
        api, name = self.engine.client, journal["name"]
        self._step(journal, ops.PHASE_CREATE)
        try:
            new_id = self._timed("create", f"create the new container for {name}", clone.create_container, api, spec, journal["temp_name"])
        except EngineError as exc:
            raise RolledBack(f"the engine rejected the new container: {exc}", image_fault=True) from None
        journal["new_id"] = new_id
        self._step(journal, ops.PHASE_STOP)
        down = self.clock()
        stop_timeout = self.opts.stop_timeout if self.opts.stop_timeout is not None else data["Config"].get("StopTimeout")
        if journal["was_running"]:
            self._timed("stop", f"stop {name}", api.stop, data["Id"], timeout=stop_timeout if stop_timeout is not None else 10)
        self._step(journal, ops.PHASE_RENAME)
        journal["archive"] = f"{name}{_ARCHIVE_MARK}{int(time.time())}"
        self.engine.call(f"rename {name} to {journal['archive']}", api.rename, data["Id"], journal["archive"])
        self.engine.call(f"rename the new container to {name}", api.rename, new_id, name)
        self._step(journal, ops.PHASE_START)
        if journal["was_running"]:
            try:
                self._timed("start", f"start the new {name}", api.start, new_id)
            except EngineError as exc:
                raise RolledBack(f"the new container did not start: {exc}", image_fault=True) from None
            self.timings["downtime"] = round(self.clock() - down, 3)
        return new_id

    def _gate(self, journal: dict, new_id: str) -> None:
        if not journal["was_running"]:
            return  # a stopped container stays stopped: nothing to prove
        self._step(journal, ops.PHASE_GATE)
        result = health.gate(self.engine.client, new_id, self.opts.health_timeout, self.opts.grace_period, self.opts.readiness)
        self.timings["health"] = round(result.elapsed, 3)
        if not result.ok:
            raise RolledBack(f"the new container failed its health gate ({result.state}): {result.reason}", image_fault=True)

    def _commit(self, journal: dict, outcome: Outcome, new_image: dict, verdict: v.Verdict, hook_set: hooks.Hooks,
                netns: list) -> Outcome:
        self._step(journal, ops.PHASE_COMMIT)
        name = journal["name"]
        outcome.dependents = dependents.recreate(self.engine, netns, name, journal["new_id"]) if netns else []
        outcome.warnings.extend(ops.finish_commit(self.engine, journal))
        if hook_set.post_update is not None and journal["was_running"]:
            result = hooks.run_hook(self.engine.client, journal["new_id"], hook_set.post_update)
            if not result.ok:
                outcome.warnings.append(f"the post-update hook ({hook_set.post_update.source}) failed "
                                        f"({result.error or result.exit_code}); the update stands")
        if self.opts.cleanup:
            outcome.warnings.extend(self._cleanup(journal["old_image_id"]))
        self.state.clear_failures(name)
        self.state.clear_journal(name)
        fallback = {"Id": journal["new_id"], "Name": name, "Config": {}, "Image": new_image["Id"]}
        data = self.engine.inspect_container(journal["new_id"]) or fallback
        outcome.current = _describe(data, verdict.remote_digest)
        outcome.timings = dict(self.timings)
        outcome.message = f"{name} now runs {outcome.current['image']} ({new_image['Id'][:19]}) and passed its health gate"
        return outcome

    def _cleanup(self, image_id: str) -> list:
        users = [c for c in self.engine.list_containers(None, include_stopped=True) if c.get("ImageID") == image_id]
        if users:
            return [f"kept the old image {image_id[:19]}: {len(users)} container(s) still use it"]
        try:
            self.engine.call(f"remove the old image {image_id[:19]}", self.engine.client.remove_image, image_id)
        except EngineError as exc:
            return [f"kept the old image: {exc}"]
        return []

    def _rollback(self, journal: dict, outcome: Outcome, reason: str, image_fault: bool, netns: list) -> Outcome:
        logs = health.last_logs(self.engine.client, journal["new_id"]) if journal.get("new_id") else []
        start = self.clock()
        restored = ops.restore_original(self.engine, journal)
        self.timings["rollback"] = round(self.clock() - start, 3)
        if netns and journal["phase"] != ops.PHASE_CREATE:
            outcome.dependents = dependents.recreate(self.engine, netns, journal["name"], restored)
        try:
            if image_fault and journal.get("remote_digest"):
                self.state.record_failure(journal["name"], journal["remote_digest"], reason)
            self.state.clear_journal(journal["name"])
        except StateError as exc:
            outcome.warnings.append(f"the original container is back, but {exc}")
        outcome.action, outcome.failed = "rolled_back", self.opts.fail_on_rollback
        outcome.changed = journal["phase"] != ops.PHASE_CREATE or journal.get("new_id") is not None
        outcome.rollback = {"reason": reason, "logs": logs, "restored_id": restored}
        outcome.current = _describe(self.engine.inspect_container(restored), outcome.previous.get("digest"))
        outcome.timings = dict(self.timings)
        outcome.message = f"rolled back {journal['name']} to its original container: {reason}"
        return outcome

    def _recover(self, journal: dict) -> Outcome:
        data = self.engine.inspect_container(journal["old_id"]) or {}
        previous = _describe(data, None) if data else {"id": journal["old_id"], "name": journal["name"]}
        if journal.get("phase") == ops.PHASE_COMMIT and self.engine.inspect_container(journal.get("new_id") or "") is not None:
            warnings = ops.finish_commit(self.engine, journal)
            self.state.clear_journal(journal["name"])
            current = _describe(self.engine.inspect_container(journal["new_id"]), journal.get("remote_digest"))
            outcome = Outcome("recovered", True, f"finished an interrupted update of {journal['name']} that had passed "
                                                 "its health gate", previous, current, warnings=warnings)
            return outcome
        restored = ops.restore_original(self.engine, journal)
        self.state.clear_journal(journal["name"])
        current = _describe(self.engine.inspect_container(restored), None)
        return Outcome("recovered", True, f"restored {journal['name']} after an interrupted update "
                                          f"(it stopped during '{journal.get('phase')}'); the next run updates it again",
                       previous, current)
