"""freshdock_notify's SMTP backend against a real SMTP server (aiosmtpd) in all three TLS modes, with a private CA."""

from __future__ import annotations

import ssl
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from ansible_collections.freshdock.core.plugins.module_utils.notify_run import run_notify
from sandbox import procs
from sandbox.certs import make_ca, make_server_cert

EVENT = {"event": "failed", "container": "web", "host": "docker1", "image": "ghcr.io/acme/web:stable",
         "reason": "the new container failed its health gate (unhealthy)", "restored_id": "sha256:" + "a" * 64}


class Inbox:
    def __init__(self) -> None:
        self.mails: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content),
                           session.authenticated, server.transport.get_extra_info("ssl_object") is not None))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" and auth_data.password == b"s3cret-pw"
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("smtp-certs")
    ca_pem, ca_key = make_ca(directory)
    cert, key = make_server_cert(directory, ca_pem, ca_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return str(ca_pem), context


def _server(request, certs):
    ca_pem, context = certs
    inbox = Inbox()
    port = procs.free_port()
    kwargs = {"authenticator": _authenticator, "auth_require_tls": request.param != "none",
              "auth_exclude_mechanism": ["LOGIN"]}  # one mechanism: a refused login is answered once, not twice
    if request.param == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    elif request.param == "implicit":
        # the whole connection is TLS; aiosmtpd's auth_require_tls only knows about STARTTLS
        kwargs.update(ssl_context=context, auth_require_tls=False)
    else:
        kwargs.update(auth_require_tls=False)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
    controller.start()
    return controller, (request.param, port, ca_pem, inbox)


@pytest.fixture(params=["starttls", "implicit", "none"])
def smtp(request, certs):
    controller, parts = _server(request, certs)
    yield parts
    controller.stop()


@pytest.fixture(params=["starttls", "implicit"])
def smtp_tls(request, certs):
    controller, parts = _server(request, certs)
    yield parts
    controller.stop()


def _params(tls: str, port: int, ca_pem: str, password: str = "s3cret-pw") -> dict:
    target = {"name": f"mail-{tls}", "type": "smtp", "events": None, "url": None, "bot_token": None, "chat_id": None,
              "api_base": None, "host": "127.0.0.1", "port": port, "tls": tls, "username": "mailer", "password": password,
              "sender": "freshdock@example.test", "recipients": ["ops@example.test", "oncall@example.test"],
              "ca_path": ca_pem, "validate_certs": True}
    return {"events": [EVENT], "targets": [target], "summary": False, "deliver": True, "scope": None, "state_dir": None,
            "engine_id": "default", "timeout": 5.0}


def test_smtp_delivery_in_each_tls_mode(smtp):
    tls, port, ca_pem, inbox = smtp
    result, warnings = run_notify(_params(tls, port, ca_pem))
    assert warnings == [] and result["deliveries"][0]["sent"] is True
    [(mail_from, rcpt, mail, authenticated, encrypted)] = inbox.mails
    assert mail_from == "freshdock@example.test"
    assert rcpt == ["ops@example.test", "oncall@example.test"]
    assert mail["Subject"] == "[docker1] Update failed: web"
    assert mail["From"] == "freshdock@example.test" and mail["To"] == "ops@example.test, oncall@example.test"
    assert "rolled back to the previous container (aaaaaaaaaaaa)" in mail.get_payload(decode=True).decode()
    assert authenticated is True
    assert encrypted is (tls != "none")


def test_smtp_wrong_password_warns_without_the_password(smtp):
    tls, port, ca_pem, inbox = smtp
    result, warnings = run_notify(_params(tls, port, ca_pem, password="wrong-pw-123"))
    assert result["deliveries"][0]["sent"] is False and inbox.mails == []
    assert len(warnings) == 1 and "SMTP delivery" in warnings[0]
    assert "wrong-pw-123" not in warnings[0] + str(result)


def test_smtp_untrusted_certificate_is_refused(smtp_tls):
    tls, port, _ca_pem, inbox = smtp_tls
    result, warnings = run_notify(_params(tls, port, None))
    assert result["deliveries"][0]["sent"] is False and inbox.mails == []
    assert "CERTIFICATE_VERIFY_FAILED" in warnings[0] or "certificate verify failed" in warnings[0]
