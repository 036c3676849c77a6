"""Hook labels (precedence, fallbacks, units, invalid values) and run_exec's never-raise contract."""

from __future__ import annotations

import pytest

from ansible_collections.freshdock.core.plugins.module_utils.hooks import (
    DEFAULT_TIMEOUT,
    Hook,
    HookResult,
    hooks_from_labels,
    run_exec,
    run_hook,
)

FD = "freshdock.lifecycle."
WT = "com.centurylinklabs.watchtower.lifecycle."


def test_no_labels_no_hooks():
    hooks = hooks_from_labels({})
    assert (hooks.pre_update, hooks.post_update, hooks.warnings) == (None, None, [])
    assert hooks_from_labels(None).warnings == []


def test_freshdock_labels_with_default_timeout():
    hooks = hooks_from_labels({FD + "pre-update": "  /bin/flush --now ", FD + "post-update": "echo done"})
    assert hooks.pre_update == Hook("/bin/flush --now", DEFAULT_TIMEOUT, FD + "pre-update")
    assert hooks.post_update == Hook("echo done", 60.0, FD + "post-update")
    assert hooks.warnings == []


def test_freshdock_timeout_is_seconds_and_zero_means_none():
    hooks = hooks_from_labels({FD + "pre-update": "a", FD + "pre-update-timeout": " 15 ",
                               FD + "post-update": "b", FD + "post-update-timeout": "0"})
    assert hooks.pre_update.timeout == 15.0
    assert hooks.post_update.timeout == 0.0
    assert hooks.warnings == []


def test_watchtower_fallback_timeouts_are_minutes():
    hooks = hooks_from_labels({WT + "pre-update": "wt-pre", WT + "pre-update-timeout": "2",
                               WT + "post-update": "wt-post", WT + "post-update-timeout": "0"})
    assert hooks.pre_update == Hook("wt-pre", 120.0, WT + "pre-update")
    assert hooks.post_update == Hook("wt-post", 0.0, WT + "post-update")
    assert hooks.warnings == []


def test_command_and_timeout_fall_back_independently():
    hooks = hooks_from_labels({FD + "pre-update": "fd-cmd", WT + "pre-update-timeout": "3",
                               WT + "post-update": "wt-cmd", FD + "post-update-timeout": "7"})
    assert hooks.pre_update == Hook("fd-cmd", 180.0, FD + "pre-update")
    assert hooks.post_update == Hook("wt-cmd", 7.0, WT + "post-update")
    assert hooks.warnings == []


def test_freshdock_wins_and_conflicts_warn():
    hooks = hooks_from_labels({FD + "pre-update": "fd", WT + "pre-update": "wt",
                               FD + "pre-update-timeout": "30", WT + "pre-update-timeout": "1"})
    assert hooks.pre_update == Hook("fd", 30.0, FD + "pre-update")
    assert len(hooks.warnings) == 2
    assert all("the freshdock label wins" in warning for warning in hooks.warnings)
    assert any(FD + "pre-update-timeout" in warning and "minutes" in warning for warning in hooks.warnings)


def test_agreeing_labels_do_not_warn():
    # 60 seconds and 1 minute are the same timeout; the same command is not a conflict either.
    hooks = hooks_from_labels({FD + "post-update": "x", WT + "post-update": " x ",
                               FD + "post-update-timeout": "60", WT + "post-update-timeout": "1"})
    assert hooks.post_update == Hook("x", 60.0, FD + "post-update")
    assert hooks.warnings == []


def test_empty_freshdock_command_switches_off_the_watchtower_hook():
    hooks = hooks_from_labels({FD + "pre-update": "", WT + "pre-update": "wt"})
    assert hooks.pre_update is None
    assert len(hooks.warnings) == 1 and "freshdock label wins" in hooks.warnings[0]


@pytest.mark.parametrize("value", ["abc", "-1", "", " ", "10s", "1e3", "inf", "nan", "1,5", "0x10"])
def test_invalid_freshdock_timeout_ignores_that_hook_only(value):
    hooks = hooks_from_labels({FD + "pre-update": "pre", FD + "pre-update-timeout": value,
                               WT + "pre-update-timeout": "1", FD + "post-update": "post"})
    assert hooks.pre_update is None
    assert hooks.post_update == Hook("post", 60.0, FD + "post-update")
    [warning] = hooks.warnings
    assert f"label {FD}pre-update-timeout={value!r}" in warning
    assert "pre update hook is ignored" in warning and "seconds" in warning


def test_invalid_watchtower_timeout_ignores_the_hook_unless_freshdock_sets_one():
    ignored = hooks_from_labels({WT + "post-update": "p", WT + "post-update-timeout": "soon"})
    assert ignored.post_update is None
    [warning] = ignored.warnings
    assert f"{WT}post-update-timeout='soon'" in warning and "minutes" in warning
    kept = hooks_from_labels({WT + "post-update": "p", WT + "post-update-timeout": "soon", FD + "post-update-timeout": "5"})
    assert kept.post_update == Hook("p", 5.0, WT + "post-update")
    assert len(kept.warnings) == 1  # the bad label is still reported


def test_invalid_timeout_is_reported_even_without_a_command():
    hooks = hooks_from_labels({FD + "post-update-timeout": "forever"})
    assert hooks.post_update is None
    assert len(hooks.warnings) == 1 and "forever" in hooks.warnings[0]


def test_decimal_timeout_is_accepted():
    assert hooks_from_labels({FD + "pre-update": "x", FD + "pre-update-timeout": "2.5"}).pre_update.timeout == 2.5
    assert hooks_from_labels({WT + "pre-update": "x", WT + "pre-update-timeout": "0.5"}).pre_update.timeout == 30.0


def test_other_labels_are_ignored():
    hooks = hooks_from_labels({"freshdock.enable": "true", WT + "pre-check": "x", "com.example": "y"})
    assert (hooks.pre_update, hooks.post_update, hooks.warnings) == (None, None, [])


def test_result_properties():
    assert HookResult(0, False, "", None).ok
    assert HookResult(75, False, "", None).deferred
    assert not HookResult(75, True, "", None).deferred
    assert not HookResult(0, False, "", "boom").ok
    assert not HookResult(None, True, "", None).ok
    assert "defer" in HookResult(75, False, "", None).describe()
    assert "could not run" in HookResult(None, False, "", "x").describe()
    assert "timed out" in HookResult(None, True, "", None).describe()


class _FakeAPI:
    """Just enough of docker.APIClient's exec API."""

    def __init__(self, create_error=None, start_error=None, chunks=(b"out\n",), inspect=None):
        self.create_error, self.start_error, self.chunks = create_error, start_error, chunks
        self.inspect = inspect if inspect is not None else {"Running": False, "ExitCode": 0, "Pid": 42}
        self.argv = None

    def exec_create(self, container_id, argv, **kwargs):
        if self.create_error:
            raise self.create_error
        self.argv = argv
        return {"Id": "exec-1"}

    def exec_start(self, exec_id, stream=False):
        if self.start_error:
            raise self.start_error
        return iter(self.chunks)

    def exec_inspect(self, exec_id):
        return self.inspect


def test_run_hook_uses_sh_c():
    api = _FakeAPI()
    result = run_hook(api, "c1", Hook("echo hi", 5, "label"))
    assert api.argv == ["sh", "-c", "echo hi"]
    assert result.ok and result.output == "out\n"


@pytest.mark.parametrize("error", [RuntimeError("daemon exploded"), OSError("socket gone"), ValueError("bad json")])
def test_run_exec_never_raises(error):
    assert run_exec(_FakeAPI(create_error=error), "c1", ["true"], 5).error is not None
    assert run_exec(_FakeAPI(start_error=error, inspect={"Running": True}), "c1", ["true"], 5).error is not None


def test_exit_code_that_never_appears_is_an_error(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    result = run_exec(_FakeAPI(inspect={"Running": True, "ExitCode": None}), "c1", ["true"], 5)
    assert result.error is not None and "no exit code" in result.error and not result.ok
