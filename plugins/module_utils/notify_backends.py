# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Notification backends: webhook (JSON), Discord (embeds), Telegram (sendMessage) and SMTP.

A backend either delivers or raises NotifyError with a message that never contains a secret (webhook URLs and
bot tokens are secrets: they are scrubbed from every error text).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ansible_collections.freshdock.core.plugins.module_utils.errors import FreshdockError
from ansible_collections.freshdock.core.plugins.module_utils.notify_events import Message
from ansible_collections.freshdock.core.plugins.module_utils.transport import NO_NETRC, requests

TELEGRAM_API = "https://api.telegram.org"
SMTP_PORTS = {"starttls": 587, "implicit": 465, "none": 25}
_TEXT_LIMIT = 4000  # Discord descriptions take 4096 characters, Telegram messages 4096


class NotifyError(FreshdockError):
    """A notification could not be delivered (never fatal for the update)."""


@dataclass
class Target:
    name: str
    type: str
    events: tuple
    url: str | None = None  # webhook / discord
    bot_token: str | None = None
    chat_id: str | None = None
    api_base: str = TELEGRAM_API
    host: str | None = None
    port: int | None = None
    tls: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    recipients: tuple = ()
    ca_path: str | None = None
    validate_certs: bool = True
    secrets: list = field(default_factory=list)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _post(target: Target, url: str, payload: dict, timeout: float) -> None:
    try:
        resp = requests.post(url, json=payload, timeout=timeout, auth=NO_NETRC, allow_redirects=False,
                             verify=target.ca_path or target.validate_certs)
    except requests.RequestException as exc:
        raise NotifyError(target.scrub(f"{target.name}: cannot deliver ({exc.__class__.__name__})")) from None
    if not 200 <= resp.status_code < 300:
        raise NotifyError(f"{target.name}: the {target.type} endpoint answered HTTP {resp.status_code}")


def send_webhook(target: Target, message: Message, timeout: float) -> None:
    payload = {"event": message.event, "title": message.title, "body": message.body,
               "events": [event.as_dict() for event in message.events]}
    if len(message.events) == 1:
        payload.update({key: value for key, value in message.events[0].as_dict().items() if key != "event"})
    _post(target, target.url, payload, timeout)


def send_discord(target: Target, message: Message, timeout: float) -> None:
    _post(target, target.url, {"embeds": [{"title": message.title[:256], "description": _clip(message.body),
                                           "color": message.colour}]}, timeout)


def send_telegram(target: Target, message: Message, timeout: float) -> None:
    url = f"{target.api_base.rstrip('/')}/bot{target.bot_token}/sendMessage"
    _post(target, url, {"chat_id": target.chat_id, "text": _clip(f"{message.title}\n\n{message.body}"),
                        "disable_web_page_preview": True}, timeout)


def send_smtp(target: Target, message: Message, timeout: float) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = target.sender
    mail["To"] = ", ".join(target.recipients)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="freshdock.invalid")
    mail.set_content(message.body)
    context = ssl.create_default_context(cafile=target.ca_path) if target.tls != "none" else None
    if context is not None and not target.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    port = target.port or SMTP_PORTS[target.tls]
    try:
        if target.tls == "implicit":
            client = smtplib.SMTP_SSL(target.host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(target.host, port, timeout=timeout)
        with client:
            if target.tls == "starttls":
                client.starttls(context=context)
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(target.scrub(f"{target.name}: SMTP delivery to {target.host}:{port} failed "
                                       f"({exc.__class__.__name__}: {str(exc)[:200]})")) from None


BACKENDS = {"webhook": send_webhook, "discord": send_discord, "telegram": send_telegram, "smtp": send_smtp}
