# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notification backends against a capturing HTTP server on 127.0.0.1, payloads field by field."""

from __future__ import annotations

import json

import pytest

from ansible_collections.freshdock.core.plugins.module_utils.notify_run import run_notify
from ansible_collections.freshdock.core.plugins.module_utils.options import OptionError

from .fakeregistry import FakeRegistry, Reply

FAILED = {"event": "failed", "container": "web", "host": "docker1", "image": "ghcr.io/acme/web:stable",
          "reason": "the new container failed its health gate (unhealthy)", "restored_id": "sha256:" + "a" * 64}
SUCCEEDED = {"event": "succeeded", "container": "api", "host": "docker1", "image": "ghcr.io/acme/api:stable",
             "new_id": "b" * 64}
AVAILABLE = {"event": "available", "container": "db", "host": "docker1", "image": "postgres:16", "digest": "sha256:" + "c" * 64}


def _params(targets: list, events: list, **extra) -> dict:
    full = []
    for target in targets:
        entry = {"name": None, "events": None, "url": None, "bot_token": None, "chat_id": None,
                 "api_base": "https://api.telegram.org", "host": None, "port": None, "tls": "starttls", "username": None,
                 "password": None, "sender": None, "recipients": None, "ca_path": None, "validate_certs": True}
        entry.update(target)
        full.append(entry)
    return dict({"events": events, "targets": full, "summary": False, "deliver": True, "remember": False, "scope": None,
                 "state_dir": None,
                 "engine_id": "default", "timeout": 5.0}, **extra)


def _capture(fake: FakeRegistry, path: str, status: int = 204) -> list:
    bodies: list = []

    def reply(handler):
        length = int(handler.headers.get("Content-Length") or 0)
        bodies.append((handler.path, handler.headers.get("Content-Type"), json.loads(handler.rfile.read(length))))
        return Reply(status)
    fake.routes[("POST", path)] = reply
    return bodies


def test_webhook_payload_per_event():
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/hook")
        result, warnings = run_notify(_params([{"type": "webhook", "url": f"http://{fake.host}/hook?token=SECRET"}],
                                              [FAILED, SUCCEEDED]))
    assert warnings == []
    assert [d["sent"] for d in result["deliveries"]] == [True, True]
    (_path, content_type, first), (_path2, _ct, second) = bodies
    assert content_type == "application/json"
    assert first["event"] == "failed" and first["container"] == "web" and first["host"] == "docker1"
    assert first["title"] == "[docker1] Update failed: web"
    assert first["body"] == ("Updating web to ghcr.io/acme/web:stable failed: the new container failed its health gate "
                             "(unhealthy); rolled back to the previous container (aaaaaaaaaaaa).")
    assert first["reason"] == FAILED["reason"] and first["events"][0]["event"] == "failed"
    assert second["title"] == "[docker1] Updated: api"
    assert second["body"] == "api was updated to ghcr.io/acme/api:stable and passed its health check (new container bbbbbbbbbbbb)."


def test_discord_embed_colours_and_event_filter():
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/api/webhooks/1/tok")
        result, _warnings = run_notify(_params(
            [{"type": "discord", "url": f"http://{fake.host}/api/webhooks/1/tok", "events": ["failed", "available"]}],
            [FAILED, SUCCEEDED, AVAILABLE]))
    assert [d["event"] for d in result["deliveries"]] == ["failed", "available"]
    [embed_failed] = bodies[0][2]["embeds"]
    [embed_available] = bodies[1][2]["embeds"]
    assert embed_failed == {"title": "[docker1] Update failed: web", "color": 0xE74C3C,
                            "description": bodies[0][2]["embeds"][0]["description"]}
    assert "rolled back" in embed_failed["description"]
    assert embed_available["color"] == 0xF1C40F
    assert embed_available["description"] == ("A newer image is available for postgres:16 (cccccccccccc). "
                                              "Not applied — this container is in watch mode.")


def test_telegram_send_message_with_api_base():
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/botTOKEN123/sendMessage", status=200)
        run_notify(_params([{"type": "telegram", "bot_token": "TOKEN123", "chat_id": "-1001",
                             "api_base": f"http://{fake.host}"}], [SUCCEEDED]))
    [(path, _ct, body)] = bodies
    assert path == "/botTOKEN123/sendMessage"
    assert body == {"chat_id": "-1001", "disable_web_page_preview": True,
                    "text": "[docker1] Updated: api\n\napi was updated to ghcr.io/acme/api:stable and passed its health check "
                            "(new container bbbbbbbbbbbb)."}


def test_summary_is_one_message():
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/hook")
        result, _warnings = run_notify(_params([{"type": "webhook", "url": f"http://{fake.host}/hook"}],
                                               [FAILED, SUCCEEDED, AVAILABLE], summary=True, scope="fleet"))
    [(_path, _ct, body)] = bodies
    assert len(result["deliveries"]) == 1
    assert body["event"] == "summary"
    assert body["title"] == "freshdock on fleet: 1 updated, 1 rolled back, 1 available"
    assert [e["container"] for e in body["events"]] == ["web", "api", "db"]
    assert body["body"].count("\n") == 2


def test_failures_warn_without_leaking_secrets():
    with FakeRegistry() as fake:
        _capture(fake, "/hook", status=500)
        host = fake.host
        result, warnings = run_notify(_params([
            {"type": "webhook", "url": f"http://{host}/hook?token=SECRET1"},
            {"type": "telegram", "bot_token": "SECRET2", "chat_id": "1", "api_base": "http://127.0.0.1:9"},
        ], [SUCCEEDED], timeout=2.0))
    assert [d["sent"] for d in result["deliveries"]] == [False, False]
    assert len(warnings) == 2 and "HTTP 500" in warnings[0]
    text = json.dumps(result) + " ".join(warnings)
    assert "SECRET1" not in text and "SECRET2" not in text


def test_available_is_sent_once_per_digest(tmp_path):
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/hook")
        params = _params([{"type": "webhook", "url": f"http://{fake.host}/hook"}], [AVAILABLE], state_dir=str(tmp_path))
        first, _warnings = run_notify(params)
        second, _warnings = run_notify(params)
        newer = dict(AVAILABLE, digest="sha256:" + "d" * 64)
        third, _warnings = run_notify(dict(params, events=[newer]))
    assert len(first["deliveries"]) == 1 and second["deliveries"] == [] and len(third["deliveries"]) == 1
    assert second["suppressed"][0]["digest"] == AVAILABLE["digest"]
    assert len(bodies) == 2


def test_check_mode_sends_and_remembers_nothing(tmp_path):
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/hook")
        params = _params([{"type": "webhook", "url": f"http://{fake.host}/hook"}], [AVAILABLE], state_dir=str(tmp_path))
        result, _warnings = run_notify(params, check_mode=True)
        assert result["deliveries"][0]["sent"] is False and result["changed"] is True
        assert bodies == []
        assert run_notify(params)[0]["deliveries"][0]["sent"] is True


@pytest.mark.parametrize(("target", "fragment"), [
    ({"type": "telegram", "bot_token": "x"}, "needs chat_id"),
    ({"type": "smtp", "host": "mail"}, "needs sender, recipients"),
    ({"type": "webhook", "url": "ftp://x"}, "http(s) URL"),
    ({"type": "smtp", "host": "m", "sender": "a@b", "recipients": ["c@d"], "username": "u"}, "both username and password"),
])
def test_bad_targets_name_the_problem(target, fragment):
    with pytest.raises(OptionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        run_notify(_params([target], [SUCCEEDED]))


def test_bad_event_names_the_field():
    with pytest.raises(OptionError, match=r"events\[0\]\.event must be one of"):
        run_notify(_params([{"type": "webhook", "url": "http://127.0.0.1:9/"}], [{"event": "exploded", "container": "x"}]))


def test_deliver_false_only_deduplicates(tmp_path):
    params = _params([], [AVAILABLE, SUCCEEDED], state_dir=str(tmp_path), deliver=False)
    first, _warnings = run_notify(params)
    assert [e["event"] for e in first["events"]] == ["available", "succeeded"] and first["deliveries"] == []
    again, _warnings = run_notify(params)  # nothing was remembered: the summary has not been sent yet
    assert [e["event"] for e in again["events"]] == ["available", "succeeded"]
    run_notify(dict(params, remember=True))
    second, _warnings = run_notify(params)
    assert [e["event"] for e in second["events"]] == ["succeeded"]
    with pytest.raises(OptionError, match="targets is empty"):
        run_notify(dict(params, deliver=True))


def test_a_failed_delivery_is_not_remembered(tmp_path):
    closed = _params([{"type": "webhook", "url": "http://127.0.0.1:9/hook"}], [AVAILABLE], state_dir=str(tmp_path),
                     timeout=2.0)
    result, warnings = run_notify(closed)
    assert result["deliveries"][0]["sent"] is False and warnings
    with FakeRegistry() as fake:
        bodies = _capture(fake, "/hook")
        retried, _warnings = run_notify(dict(closed, targets=_params([{"type": "webhook", "url": f"http://{fake.host}/hook"}], [])["targets"]))
    assert retried["deliveries"][0]["sent"] is True and len(bodies) == 1
    assert retried["suppressed"] == []
