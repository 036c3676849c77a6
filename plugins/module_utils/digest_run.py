# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""freshdock_digest minus AnsibleModule: parameters in, (result, warnings) out (used by the module and tests)."""

from __future__ import annotations

import time
import traceback

from ansible_collections.freshdock.core.plugins.module_utils import fleet
from ansible_collections.freshdock.core.plugins.module_utils.checker import DigestChecker, result_entry, summarize
from ansible_collections.freshdock.core.plugins.module_utils.engine import Engine
from ansible_collections.freshdock.core.plugins.module_utils.options import (
    OptionError,
    engine_options,
    registry_client,
)
from ansible_collections.freshdock.core.plugins.module_utils.policy_eval import apply_policy
from ansible_collections.freshdock.core.plugins.module_utils.registry import RegistryClient
from ansible_collections.freshdock.core.plugins.module_utils.state import DEFAULT_STATE_DIR, StateDir

try:
    import jmespath
except ImportError:  # only needed for 'select'; reported with missing_required_lib() by the module
    jmespath = None
    JMESPATH_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    JMESPATH_IMPORT_ERROR = None

DIGEST_ARGS = {
    "images": {"type": "list", "elements": "str", "default": []},
    "containers": {"type": "list", "elements": "str", "default": []},
    "container_filters": {"type": "dict"},
    "include_stopped": {"type": "bool", "default": False},
    "select": {"type": "str"},
    "policy": {"type": "bool", "default": False},
    "watch_all": {"type": "bool", "default": False},
    "default_mode": {"type": "str", "choices": ["live", "nightly", "weekly", "monthly", "watch", "off"]},
    "default_cleanup": {"type": "bool", "default": False},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
    "resolve": {"type": "bool", "default": True},
    "resolve_facts": {"type": "list", "elements": "dict"},
}


def compile_select(expression: str | None):
    if not expression:
        return None
    if jmespath is None:
        raise OptionError("select needs the jmespath Python library on the managed node (pip install jmespath)")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise OptionError(f"select: {expression!r} is not a valid JMESPath expression ({exc}); "
                          "it is evaluated over each container's inspect data, e.g. \"Config.Labels.team == 'web'\"") from None


def _result(entries: list, registry: RegistryClient | None, engine: dict | None) -> dict:
    return {"changed": False, "results": entries, "summary": summarize(entries),
            "rate_limits": registry.rate_limits if registry else {}, "engine": engine}


def resolve_fleet(params: dict) -> tuple:
    """Controller side of resolve_on: controller: verdicts for all hosts' unresolved entries, no engine."""
    targets, pending = fleet.targets_from_entries(params["resolve_facts"])
    registry = registry_client(params)
    checker = DigestChecker(engine=None, registry=registry)
    checker.resolve(targets, pending)
    entries = [result_entry(target) for target in targets]
    return _result(entries, registry, None), registry.warnings


def run_digest(params: dict, check_mode: bool = False, engine: Engine | None = None) -> tuple:
    """Everything freshdock_digest does: returns (result dict, warnings)."""
    if params.get("resolve_facts") is not None:
        return resolve_fleet(params)
    if not params.get("images") and not params.get("containers") and params.get("container_filters") is None:
        raise OptionError("nothing to check: give images, containers or container_filters "
                          "(container_filters: {} selects every running container)")
    selector = compile_select(params.get("select"))
    engine = engine or Engine(engine_options(params))
    registry = registry_client(params, engine.is_insecure_registry)
    checker = DigestChecker(engine, registry)
    targets = checker.targets(params.get("images"), params.get("containers"), params.get("container_filters"),
                              params.get("include_stopped", False))
    if selector is not None:
        targets = [t for t in targets if t.inspect is None or selector.search(t.inspect)]
    warnings: list = []
    if params.get("policy"):
        state = StateDir(params.get("state_dir") or DEFAULT_STATE_DIR, engine.engine_id)
        warnings += apply_policy(targets, state, params.get("watch_all", False), params.get("default_mode"),
                                 params.get("default_cleanup", False), time.time(), record=not check_mode)
    resolve = params.get("resolve", True)
    checker.check(targets, resolve=resolve)
    entries = []
    for target in targets:
        entry = result_entry(target)
        if not resolve:
            entry["facts"] = fleet.export_facts(target)
        entries.append(entry)
    engine_info = {"id": engine.engine_id, "platform": str(engine.platform)}
    return _result(entries, registry, engine_info), checker.warnings + warnings + registry.warnings
