# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""freshdock_update minus AnsibleModule: parameters in, result dict out (used by the module and the tests)."""

from __future__ import annotations

from ansible_collections.freshdock.core.plugins.module_utils import health, hooks
from ansible_collections.freshdock.core.plugins.module_utils.engine import Engine
from ansible_collections.freshdock.core.plugins.module_utils.errors import InvalidReference
from ansible_collections.freshdock.core.plugins.module_utils.options import (
    OptionError,
    engine_options,
    registry_client,
)
from ansible_collections.freshdock.core.plugins.module_utils.reference import parse_reference
from ansible_collections.freshdock.core.plugins.module_utils.state import DEFAULT_STATE_DIR
from ansible_collections.freshdock.core.plugins.module_utils.transaction import UpdateOptions, Updater

UPDATE_ARGS = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "force": {"type": "bool", "default": False},
    "health_timeout": {"type": "float", "default": 120.0},
    "grace_period": {"type": "float", "default": 10.0},
    "readiness": {
        "type": "dict",
        "options": {
            "command": {"type": "raw"},
            "url": {"type": "str"},
            "timeout": {"type": "float", "default": 5.0},
        },
        "mutually_exclusive": [["command", "url"]],
        "required_one_of": [["command", "url"]],
    },
    "stop_timeout": {"type": "int"},
    "cleanup": {"type": "bool", "default": False},
    "hooks": {
        "type": "dict",
        "options": {
            "pre_update": {"type": "str"},
            "pre_update_timeout": {"type": "float", "default": 60.0},
            "post_update": {"type": "str"},
            "post_update_timeout": {"type": "float", "default": 60.0},
        },
    },
    "fail_on_rollback": {"type": "bool", "default": True},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
}


def _readiness(value: dict | None) -> health.Readiness | None:
    if not value:
        return None
    command = value.get("command")
    if command is not None and not isinstance(command, (str, list)):
        raise OptionError("readiness.command must be a string (run with sh -c) or a list of arguments")
    if value.get("url") and not value["url"].startswith(("http://", "https://")):
        raise OptionError(f"readiness.url {value['url']!r} must start with http:// or https://")
    if value.get("timeout", 5.0) <= 0:
        raise OptionError("readiness.timeout must be a positive number of seconds")
    return health.Readiness(command=command, url=value.get("url"), timeout=value.get("timeout", 5.0))


def _hooks(value: dict | None) -> hooks.Hooks | None:
    if value is None:
        return None
    made = hooks.Hooks()
    for when in ("pre_update", "post_update"):
        timeout = value.get(f"{when}_timeout", 60.0)
        if timeout is None or timeout < 0:
            raise OptionError(f"hooks.{when}_timeout must be 0 (no limit) or a positive number of seconds")
        if value.get(when):
            setattr(made, when, hooks.Hook(command=value[when], timeout=timeout, source=f"option hooks.{when}"))
    return made


def update_options(params: dict, check_mode: bool) -> UpdateOptions:
    for key in ("health_timeout", "grace_period"):
        if params[key] < 0:
            raise OptionError(f"{key} must be 0 or a positive number of seconds, got {params[key]}")
    if params.get("stop_timeout") is not None and params["stop_timeout"] < 0:
        raise OptionError(f"stop_timeout must be 0 or more seconds, got {params['stop_timeout']}")
    if params.get("image"):
        try:
            ref = parse_reference(params["image"])
        except InvalidReference as exc:
            raise OptionError(f"image: {exc}") from None
        if ref.pinned:
            raise OptionError(f"image {params['image']!r} is pinned by digest; give a tag to follow")
    return UpdateOptions(
        name=params["name"], image=params.get("image"), force=params["force"],
        health_timeout=params["health_timeout"], grace_period=params["grace_period"],
        readiness=_readiness(params.get("readiness")), stop_timeout=params.get("stop_timeout"),
        cleanup=params["cleanup"], hooks=_hooks(params.get("hooks")), fail_on_rollback=params["fail_on_rollback"],
        state_dir=params["state_dir"], check_mode=check_mode,
    )


def run_update(params: dict, check_mode: bool = False) -> tuple:
    """Returns (result dict, warnings)."""
    options = update_options(params, check_mode)
    engine = Engine(engine_options(params))
    registry = registry_client(params, engine.is_insecure_registry)
    outcome = Updater(engine, registry, options).run()
    return outcome.result(), outcome.warnings + registry.warnings
