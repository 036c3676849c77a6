"""Label policy: opt-in/watch_all, modes and schedules, Watchtower fallbacks and conflicts, invalid values."""

from __future__ import annotations

import pytest

from ansible_collections.freshdock.core.plugins.module_utils.policy import (
    MODES,
    UPDATING_MODES,
    Policy,
    evaluate,
    normalize_mode,
)

WT = "com.centurylinklabs.watchtower."
ON = {"freshdock.enable": "true"}


def labels(**pairs):
    """freshdock labels from keyword arguments (mode=... -> freshdock.mode)."""
    return {"freshdock." + key: value for key, value in pairs.items()}


# --- enablement -----------------------------------------------------------------------------------


def test_no_labels_is_invisible():
    assert evaluate({}) == Policy(False, "off", None, False, False, "default", (), True)
    assert evaluate(None).source == "default"


def test_enabled_defaults():
    assert evaluate(ON) == Policy(True, "watch", None, False, False, "label", (), True)


def test_disabled_container_ignores_its_other_labels():
    # Invisible means every other label is ignored, even invalid ones.
    policy = evaluate(labels(enable="false", mode="hourly", cleanup="maybe", schedule="nope"))
    assert policy == Policy(False, "off", None, False, False, "label", (), True)
    assert evaluate(labels(mode="live")) == Policy(False, "off", None, False, False, "default", (), True)


@pytest.mark.parametrize(("value", "enabled"), [("true", True), ("TRUE", True), (" True\n", True), ("\tfalse ", False), ("False", False)])
def test_enable_values_case_and_whitespace(value, enabled):
    policy = evaluate({"freshdock.enable": value})
    assert (policy.enabled, policy.valid, policy.warnings) == (enabled, True, ())


@pytest.mark.parametrize("value", ["yes", "1", "0", "on", "", "t", "truee"])
def test_enable_accepts_only_true_false(value):
    policy = evaluate({"freshdock.enable": value})
    assert (policy.enabled, policy.valid, policy.source) == (False, False, "label")
    (warning,) = policy.warnings
    assert "freshdock.enable" in warning
    assert repr(value) in warning
    assert "true or false" in warning


def test_watch_all_enables_unlabelled_containers():
    assert evaluate({}, watch_all=True) == Policy(True, "watch", None, False, False, "watch_all", (), True)
    assert evaluate({}, watch_all=True, default_mode="nightly").schedule == "0 4 * * *"


@pytest.mark.parametrize(
    ("container_labels", "source"),
    [
        (labels(enable="false"), "label"),
        ({WT + "enable": "false"}, "watchtower"),
        (labels(mode="off"), "label"),
        (labels(mode=" OFF "), "label"),
    ],
)
def test_watch_all_opt_outs(container_labels, source):
    policy = evaluate(container_labels, watch_all=True, default_mode="live")
    assert (policy.enabled, policy.source, policy.valid) == (False, source, True)


def test_explicit_enable_with_mode_off_stays_listed():
    # Enabled but off (freshdock's `check` lists it with mode off; it is never updated).
    for watch_all in (False, True):
        policy = evaluate({**ON, "freshdock.mode": "off"}, watch_all=watch_all)
        assert (policy.enabled, policy.mode, policy.updating) == (True, "off", False)


def test_watch_all_with_invalid_mode_is_enabled_but_invalid():
    policy = evaluate(labels(mode="hourly"), watch_all=True)
    assert (policy.enabled, policy.valid, policy.mode, policy.source) == (True, False, "off", "watch_all")


# --- watchtower fallbacks and conflicts -------------------------------------------------------------


def test_watchtower_enable_fallback():
    assert evaluate({WT + "enable": "true"}) == Policy(True, "watch", None, False, False, "watchtower", (), True)
    assert evaluate({WT + "enable": " TRUE "}, default_mode="weekly").schedule == "0 4 * * 0"
    assert evaluate({WT + "enable": "false"}).enabled is False


def test_invalid_watchtower_enable_when_it_decides():
    policy = evaluate({WT + "enable": "yes"}, watch_all=True)
    assert (policy.enabled, policy.valid, policy.source) == (False, False, "watchtower")
    assert WT + "enable='yes'" in policy.warnings[0]


def test_freshdock_enable_wins_over_watchtower_with_warning():
    policy = evaluate({"freshdock.enable": "true", WT + "enable": "false"})
    assert (policy.enabled, policy.source, policy.valid) == (True, "label", True)
    (warning,) = policy.warnings
    assert "freshdock label wins" in warning
    assert "freshdock.enable" in warning
    assert WT + "enable" in warning
    policy = evaluate({"freshdock.enable": "false", WT + "enable": "true"}, watch_all=True)
    assert (policy.enabled, policy.valid) == (False, True)
    assert "freshdock label wins" in policy.warnings[0]


def test_agreeing_or_unreadable_watchtower_enable_is_silent_when_freshdock_decides():
    assert evaluate({"freshdock.enable": "true", WT + "enable": "True"}).warnings == ()
    assert evaluate({"freshdock.enable": "true", WT + "enable": "yes"}).warnings == ()


def test_monitor_only_forces_watch_over_default_mode():
    policy = evaluate({**ON, WT + "monitor-only": "true"}, default_mode="live")
    assert (policy.mode, policy.schedule, policy.updating, policy.warnings) == ("watch", None, False, ())
    assert evaluate({WT + "enable": "true", WT + "monitor-only": "TRUE"}, default_mode="nightly").mode == "watch"
    assert evaluate({WT + "monitor-only": "true"}, watch_all=True, default_mode="live").mode == "watch"
    # monitor-only=false changes nothing.
    assert evaluate({**ON, WT + "monitor-only": "false"}, default_mode="live").mode == "live"


def test_mode_label_wins_over_monitor_only_with_warning():
    policy = evaluate({**ON, "freshdock.mode": "live", WT + "monitor-only": "true"})
    assert (policy.mode, policy.valid) == ("live", True)
    (warning,) = policy.warnings
    assert "freshdock.mode" in warning
    assert WT + "monitor-only" in warning
    assert "freshdock label wins" in warning
    # No conflict when they agree.
    assert evaluate({**ON, "freshdock.mode": "watch", WT + "monitor-only": "true"}).warnings == ()


def test_invalid_monitor_only():
    policy = evaluate({**ON, WT + "monitor-only": "1"})
    assert (policy.valid, policy.mode) == (False, "off")
    assert WT + "monitor-only='1'" in policy.warnings[0]
    # Irrelevant when freshdock.mode decides.
    assert evaluate({**ON, "freshdock.mode": "live", WT + "monitor-only": "1"}).valid is True


def test_unsupported_watchtower_labels_warn_but_stay_valid():
    policy = evaluate({**ON, WT + "no-pull": "true", WT + "scope": "prod", WT + "lifecycle.pre-update": "x", WT + "lifecycle.pre-check": "y"})
    assert policy.valid is True
    assert policy.warnings == (
        f"unsupported Watchtower label {WT}lifecycle.pre-check is ignored",
        f"unsupported Watchtower label {WT}no-pull is ignored",
        f"unsupported Watchtower label {WT}scope is ignored",
    )


def test_unknown_freshdock_label_warns_as_typo():
    policy = evaluate({**ON, "freshdock.modee": "live", "freshdock.lifecycle.pre-update-timeout": "5"})
    assert policy.valid is True
    (warning,) = policy.warnings
    assert "freshdock.modee" in warning
    assert "freshdock.mode," in warning


# --- modes and schedules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "schedule"),
    [("live", None), ("nightly", "0 4 * * *"), ("weekly", "0 4 * * 0"), ("monthly", "0 4 1 * *"), ("watch", None), ("off", None)],
)
def test_each_mode_and_default_schedule(mode, schedule):
    policy = evaluate({**ON, "freshdock.mode": mode.upper() + " "})
    assert (policy.mode, policy.schedule, policy.valid, policy.warnings) == (mode, schedule, True, ())
    assert policy.updating == (mode in UPDATING_MODES)


def test_modes_constants():
    assert MODES == ("live", "nightly", "weekly", "monthly", "watch", "off")
    assert UPDATING_MODES == ("live", "nightly", "weekly", "monthly")


def test_label_mode_beats_default_mode():
    assert evaluate({**ON, "freshdock.mode": "watch"}, default_mode="live").mode == "watch"
    assert evaluate(ON, default_mode=" Monthly ").mode == "monthly"


@pytest.mark.parametrize("value", ["hourly", "", "daily", "live,nightly", "0 4 * * *"])
def test_invalid_mode(value):
    policy = evaluate({**ON, "freshdock.mode": value}, default_mode="live")
    assert (policy.enabled, policy.valid, policy.mode, policy.schedule) == (True, False, "off", None)
    (warning,) = policy.warnings
    assert f"freshdock.mode={value!r}" in warning
    assert "live, nightly, weekly, monthly, watch, off" in warning
    assert "skipped" in warning


def test_schedule_label_for_calendar_modes():
    policy = evaluate({**ON, "freshdock.mode": "nightly", "freshdock.schedule": "  30   2 * *  1-5 "})
    assert (policy.schedule, policy.valid, policy.warnings) == ("30 2 * * 1-5", True, ())
    assert evaluate({**ON, "freshdock.schedule": "*/5 * * * *"}, default_mode="weekly").schedule == "*/5 * * * *"


@pytest.mark.parametrize(("value", "needle"), [("0 0 4 * * *", "seconds field"), ("0 4 * * 7", "day-of-week"), ("@daily", "5 fields"), ("", "empty")])
def test_invalid_schedule_skips_container(value, needle):
    policy = evaluate({**ON, "freshdock.mode": "weekly", "freshdock.schedule": value})
    assert (policy.enabled, policy.valid, policy.mode, policy.schedule) == (True, False, "weekly", None)
    (warning,) = policy.warnings
    assert f"freshdock.schedule={value!r}" in warning
    assert needle in warning


@pytest.mark.parametrize("mode", ["live", "watch"])
def test_schedule_ignored_outside_calendar_modes_with_a_gentle_warning(mode):
    policy = evaluate({**ON, "freshdock.mode": mode, "freshdock.schedule": "not a cron"})
    assert (policy.schedule, policy.valid) == (None, True)
    (warning,) = policy.warnings
    assert "freshdock.schedule" in warning
    assert f"ignored in mode {mode}" in warning


def test_schedule_with_mode_off_is_silent():
    assert evaluate({**ON, "freshdock.mode": "off", "freshdock.schedule": "0 4 * * *"}).warnings == ()


# --- cleanup / notify -------------------------------------------------------------------------------------


def test_cleanup_and_notify():
    policy = evaluate({**ON, "freshdock.cleanup": " TRUE", "freshdock.notify": "True "})
    assert (policy.cleanup, policy.notify) == (True, True)
    assert evaluate(ON, default_cleanup=True).cleanup is True
    assert evaluate({**ON, "freshdock.cleanup": "false"}, default_cleanup=True).cleanup is False
    assert evaluate(ON).notify is False


@pytest.mark.parametrize("label", ["freshdock.cleanup", "freshdock.notify"])
def test_invalid_booleans(label):
    policy = evaluate({**ON, "freshdock.mode": "live", label: "yes"}, default_cleanup=True)
    assert (policy.enabled, policy.valid, policy.mode) == (True, False, "live")
    (warning,) = policy.warnings
    assert f"{label}='yes'" in warning
    assert "true or false" in warning


def test_several_problems_are_all_reported():
    policy = evaluate({**ON, "freshdock.mode": "sometimes", "freshdock.cleanup": "1", "freshdock.notify": "0"})
    assert policy.valid is False
    assert [warning.split("=")[0] for warning in policy.warnings] == [
        "label freshdock.mode",
        "label freshdock.cleanup",
        "label freshdock.notify",
    ]


def test_non_string_label_values_do_not_raise():
    policy = evaluate({"freshdock.enable": True, "freshdock.cleanup": 1, "freshdock.schedule": None})
    assert (policy.enabled, policy.valid) == (True, False)


# --- caller configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["hourly", "", "auto"])
def test_invalid_default_mode_raises(bad):
    with pytest.raises(ValueError, match="default_mode"):
        evaluate(ON, default_mode=bad)
    with pytest.raises(ValueError, match=repr(bad)):
        normalize_mode(bad)


def test_normalize_mode():
    assert normalize_mode(None) is None
    assert normalize_mode(" LIVE ") == "live"
