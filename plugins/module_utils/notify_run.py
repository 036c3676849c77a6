# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""freshdock_notify minus AnsibleModule: validate targets, de-duplicate 'available', deliver best effort."""

from __future__ import annotations

from ansible_collections.freshdock.core.plugins.module_utils import notify_backends as nb
from ansible_collections.freshdock.core.plugins.module_utils.notify_events import AVAILABLE, EVENTS, Event, Message
from ansible_collections.freshdock.core.plugins.module_utils.options import OptionError
from ansible_collections.freshdock.core.plugins.module_utils.state import StateDir

NOTIFY_ARGS = {
    "events": {"type": "list", "elements": "dict", "required": True},
    "targets": {
        "type": "list", "elements": "dict", "default": [],
        "options": {
            "name": {"type": "str"},
            "type": {"type": "str", "required": True, "choices": list(nb.BACKENDS)},
            "events": {"type": "list", "elements": "str", "choices": list(EVENTS)},
            "url": {"type": "str", "no_log": True},
            "bot_token": {"type": "str", "no_log": True},
            "chat_id": {"type": "str"},
            "api_base": {"type": "str", "default": nb.TELEGRAM_API},
            "host": {"type": "str"},
            "port": {"type": "int"},
            "tls": {"type": "str", "default": "starttls", "choices": ["starttls", "implicit", "none"]},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
            "sender": {"type": "str", "aliases": ["from"]},
            "recipients": {"type": "list", "elements": "str", "aliases": ["to"]},
            "ca_path": {"type": "path"},
            "validate_certs": {"type": "bool", "default": True},
        },
    },
    "summary": {"type": "bool", "default": False},
    "deliver": {"type": "bool", "default": True},
    "remember": {"type": "bool", "default": False},
    "scope": {"type": "str"},
    "state_dir": {"type": "path"},
    "engine_id": {"type": "str", "default": "default"},
    "timeout": {"type": "float", "default": 10.0},
}
_REQUIRED = {"webhook": ("url",), "discord": ("url",), "telegram": ("bot_token", "chat_id"),
             "smtp": ("host", "sender", "recipients")}


def build_target(entry: dict, index: int) -> nb.Target:
    kind = entry["type"]
    name = entry.get("name") or f"{kind}[{index}]"
    missing = [key for key in _REQUIRED[kind] if not entry.get(key)]
    if missing:
        raise OptionError(f"targets[{index}] ({name}): a {kind} target needs {', '.join(missing)}")
    if bool(entry.get("username")) != bool(entry.get("password")):
        raise OptionError(f"targets[{index}] ({name}): give both username and password, or neither")
    for key in ("url", "api_base"):
        value = entry.get(key)
        if value and not str(value).startswith(("https://", "http://")):
            raise OptionError(f"targets[{index}] ({name}): {key} must be an http(s) URL")
    return nb.Target(
        name=name, type=kind, events=tuple(entry.get("events") or EVENTS), url=entry.get("url"),
        bot_token=entry.get("bot_token"), chat_id=entry.get("chat_id"), api_base=entry.get("api_base") or nb.TELEGRAM_API,
        host=entry.get("host"), port=entry.get("port"), tls=entry.get("tls") or "starttls", username=entry.get("username"),
        password=entry.get("password"), sender=entry.get("sender"), recipients=tuple(entry.get("recipients") or ()),
        ca_path=entry.get("ca_path"), validate_certs=entry.get("validate_certs", True),
        secrets=[entry.get("url"), entry.get("bot_token"), entry.get("password")],
    )


def _dedup(events: list, state: StateDir | None) -> tuple:
    """'available' once per container and digest; the others always."""
    fresh, suppressed = [], []
    for event in events:
        if event.event == AVAILABLE and state is not None and event.digest and \
                state.last_notified(event.container) == event.digest:
            suppressed.append(event)
        else:
            fresh.append(event)
    return fresh, suppressed


def run_notify(params: dict, check_mode: bool = False) -> tuple:
    events = []
    for index, data in enumerate(params["events"]):
        try:
            events.append(Event.from_dict(data, f"events[{index}]"))
        except ValueError as exc:
            raise OptionError(str(exc)) from None
    targets = [build_target(entry, index) for index, entry in enumerate(params["targets"])]
    if params.get("timeout", 10.0) <= 0 or params.get("timeout", 10.0) > 120:
        raise OptionError("timeout must be between 0 and 120 seconds")
    state = StateDir(params["state_dir"], params.get("engine_id") or "default") if params.get("state_dir") else None
    fresh, suppressed = _dedup(events, state)
    deliveries, warnings = [], []
    if params.get("deliver", True) and not targets:
        raise OptionError("targets is empty: give at least one target, or deliver: false to only de-duplicate")
    for target in (targets if params.get("deliver", True) else []):
        wanted = [event for event in fresh if event.event in target.events]
        if not wanted:
            continue
        messages = [Message.summary(wanted, params.get("scope"))] if params.get("summary") else \
            [Message.single(event) for event in wanted]
        for message in messages:
            record = {"target": target.name, "type": target.type, "event": message.event, "title": message.title,
                      "containers": [event.container for event in message.events], "sent": False}
            if not check_mode:
                try:
                    nb.BACKENDS[target.type](target, message, params.get("timeout", 10.0))
                    record["sent"] = True
                except nb.NotifyError as exc:
                    record["error"] = str(exc)
                    warnings.append(f"notification not delivered: {exc}")
            deliveries.append(record)
    if state is not None and not check_mode:
        # An 'available' digest counts as announced only once a target that wants it got it (or, with deliver:
        # false and remember: true, once the caller says its own delivery of these events worked).
        announced = {(d["event"], tuple(d["containers"])) for d in deliveries if d["sent"]}
        for event in fresh:
            if event.event != AVAILABLE or not event.digest:
                continue
            delivered = any(event.container in containers and kind in (AVAILABLE, "summary")
                            for kind, containers in announced)
            if delivered or (not params.get("deliver", True) and params.get("remember")):
                state.record_notified(event.container, event.digest)
    result = {"changed": any(d["sent"] for d in deliveries) or (check_mode and bool(deliveries)),
              "deliveries": deliveries, "events": [event.as_dict() for event in fresh],
              "suppressed": [event.as_dict() for event in suppressed]}
    return result, warnings
