# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-container update policy from labels (GUIDE §6, freshdock §1.1-§1.3).

`freshdock.*` labels, with Watchtower's `enable` / `monitor-only` as fallbacks (a freshdock label always
wins). Label values are case-insensitive and whitespace-tolerant; booleans accept only true/false. An
invalid value never raises: the policy comes back `valid=False` with a warning naming the label, the
value and what is accepted, and the caller skips that container. Hook labels are hooks.py's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.freshdock.core.plugins.module_utils.schedule import MODE_DEFAULT_SCHEDULES, CronError, parse_cron

MODES = ("live", "nightly", "weekly", "monthly", "watch", "off")
UPDATING_MODES = ("live", "nightly", "weekly", "monthly")
CALENDAR_MODES = ("nightly", "weekly", "monthly")

ENABLE = "freshdock.enable"
MODE = "freshdock.mode"
SCHEDULE = "freshdock.schedule"
CLEANUP = "freshdock.cleanup"
NOTIFY = "freshdock.notify"
WT_PREFIX = "com.centurylinklabs.watchtower."
WT_ENABLE = WT_PREFIX + "enable"
WT_MONITOR_ONLY = WT_PREFIX + "monitor-only"

# Labels someone reads (here or in hooks.py); any other freshdock.* label is most likely a typo.
KNOWN_FRESHDOCK_LABELS = frozenset(
    (ENABLE, MODE, SCHEDULE, CLEANUP, NOTIFY)
    + tuple(
        "freshdock.lifecycle." + name for name in ("pre-update", "pre-update-timeout", "post-update", "post-update-timeout")
    )
)
# Watchtower labels with a freshdock meaning; the rest (no-pull, depends-on, scope, pre-check, ...) are ignored
# with a warning so that a migrated container does not silently lose behaviour its owner relies on.
SUPPORTED_WATCHTOWER_LABELS = frozenset(
    (WT_ENABLE, WT_MONITOR_ONLY)
    + tuple(WT_PREFIX + "lifecycle." + name for name in ("pre-update", "pre-update-timeout", "post-update", "post-update-timeout"))
)

_BOOLS = {"true": True, "false": False}


@dataclass(frozen=True)
class Policy:
    enabled: bool
    mode: str  # one of MODES; "off" when not enabled
    schedule: str | None  # normalised cron text for calendar modes, else None
    cleanup: bool
    notify: bool
    source: str  # "label" | "watchtower" | "watch_all" | "default": where `enabled` came from
    warnings: tuple
    valid: bool  # False: invalid labels, skip this container (never update it)

    @property
    def updating(self) -> bool:
        """Would a newer image be applied (enabled, valid and a mode that updates)?"""
        return self.enabled and self.valid and self.mode in UPDATING_MODES


def _norm(value: object) -> str:
    return str(value).strip().lower()


def _invalid(label: str, value: object, accepted: str) -> str:
    return f"label {label}={value!r} is invalid (accepted: {accepted}); this container is skipped until the label is fixed"


def _bool(labels: dict, label: str, warnings: list) -> bool | None:
    """The label's boolean, None when absent; an invalid value appends a warning and returns None."""
    if label not in labels:
        return None
    result = _BOOLS.get(_norm(labels[label]))
    if result is None:
        warnings.append(_invalid(label, labels[label], "true or false"))
    return result


def normalize_mode(mode: str | None) -> str | None:
    """A caller-supplied default mode, normalised; raises ValueError naming it when it is not a mode."""
    if mode is None:
        return None
    normalized = _norm(mode)
    if normalized not in MODES:
        raise ValueError(f"default_mode {mode!r} is not a freshdock mode; use one of {', '.join(MODES)}")
    return normalized


def _disabled(source: str, warnings: list, valid: bool = True) -> Policy:
    # A container that is not enabled is invisible: its other labels are neither read nor judged.
    return Policy(False, "off", None, False, False, source, tuple(warnings), valid)


def _enablement(labels: dict, watch_all: bool, mode_label: str | None, warnings: list) -> tuple:
    """(enabled, source, valid) from freshdock.enable, Watchtower's enable and watch_all."""
    if ENABLE in labels:
        enabled = _bool(labels, ENABLE, warnings)
        if enabled is None:
            return False, "label", False
        wt_value = _BOOLS.get(_norm(labels[WT_ENABLE])) if WT_ENABLE in labels else None
        if wt_value is not None and wt_value != enabled:
            warnings.append(
                f"labels {ENABLE}={labels[ENABLE]!r} and {WT_ENABLE}={labels[WT_ENABLE]!r} disagree; "
                f"the freshdock label wins (remove the Watchtower label to silence this)"
            )
        return enabled, "label", True
    if WT_ENABLE in labels:
        enabled = _bool(labels, WT_ENABLE, warnings)
        if enabled is None:
            return False, "watchtower", False
        return enabled, "watchtower", True
    if watch_all:
        # watch_all enables everything except an explicit opt-out; mode=off is one (freshdock §1.3).
        if mode_label == "off":
            return False, "label", True
        return True, "watch_all", True
    return False, "default", True


def _mode(labels: dict, default_mode: str | None, warnings: list) -> str | None:
    """The effective mode, None when the mode label (or monitor-only, when it decides) is invalid."""
    if MODE in labels:
        mode = _norm(labels[MODE])
        if mode not in MODES:
            warnings.append(_invalid(MODE, labels[MODE], ", ".join(MODES)))
            return None
        if mode != "watch" and WT_MONITOR_ONLY in labels and _BOOLS.get(_norm(labels[WT_MONITOR_ONLY])):
            warnings.append(
                f"labels {MODE}={labels[MODE]!r} and {WT_MONITOR_ONLY}={labels[WT_MONITOR_ONLY]!r} disagree; "
                f"the freshdock label wins (remove the Watchtower label to silence this)"
            )
        return mode
    if WT_MONITOR_ONLY in labels:
        monitor_only = _bool(labels, WT_MONITOR_ONLY, warnings)
        if monitor_only is None:
            return None
        if monitor_only:
            return "watch"  # beats default_mode: the owner asked for this container not to be touched
    return default_mode or "watch"


def _schedule(labels: dict, mode: str, warnings: list) -> tuple:
    """(schedule text or None, valid)."""
    if mode not in CALENDAR_MODES:
        if SCHEDULE in labels and mode != "off":
            warnings.append(
                f"label {SCHEDULE}={labels[SCHEDULE]!r} is ignored in mode {mode}; "
                f"it applies only to {', '.join(CALENDAR_MODES)} (set {MODE} to one of them, or remove it)"
            )
        return None, True
    if SCHEDULE not in labels:
        return MODE_DEFAULT_SCHEDULES[mode], True
    try:
        cron = parse_cron(str(labels[SCHEDULE]))
    except CronError as exc:
        warnings.append(f"label {SCHEDULE}={labels[SCHEDULE]!r} is invalid: {exc}; this container is skipped until the label is fixed")
        return None, False
    return cron.text, True


def _stray_label_warnings(labels: dict) -> list:
    warnings = []
    for label in sorted(labels):
        if label.startswith("freshdock.") and label not in KNOWN_FRESHDOCK_LABELS:
            warnings.append(f"unknown label {label} is ignored (a typo? known labels: {', '.join(sorted(KNOWN_FRESHDOCK_LABELS))})")
        elif label.startswith(WT_PREFIX) and label not in SUPPORTED_WATCHTOWER_LABELS:
            warnings.append(f"unsupported Watchtower label {label} is ignored")
    return warnings


def evaluate(labels: dict, watch_all: bool = False, default_mode: str | None = None, default_cleanup: bool = False) -> Policy:
    """The policy for one container's labels. Never raises for label content; an invalid
    `default_mode` (the caller's configuration) raises ValueError."""
    default_mode = normalize_mode(default_mode)
    labels = {str(key): value for key, value in (labels or {}).items() if value is not None}
    warnings: list = []
    mode_label = _norm(labels[MODE]) if MODE in labels else None
    enabled, source, valid = _enablement(labels, watch_all, mode_label, warnings)
    if not enabled:
        return _disabled(source, warnings, valid)

    warnings.extend(_stray_label_warnings(labels))
    mode = _mode(labels, default_mode, warnings)
    if mode is None:
        valid = False
        mode, schedule = "off", None
    else:
        schedule, schedule_ok = _schedule(labels, mode, warnings)
        valid = valid and schedule_ok
    cleanup = _bool(labels, CLEANUP, warnings)
    notify = _bool(labels, NOTIFY, warnings)
    if (CLEANUP in labels and cleanup is None) or (NOTIFY in labels and notify is None):
        valid = False
    return Policy(
        enabled=True,
        mode=mode,
        schedule=schedule,
        cleanup=bool(default_cleanup) if cleanup is None else cleanup,
        notify=bool(notify),
        source=source,
        warnings=tuple(warnings),
        valid=valid,
    )
