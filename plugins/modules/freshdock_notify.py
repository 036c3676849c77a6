#!/usr/bin/python
# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: freshdock_notify
short_description: Send freshdock update events to webhooks, Discord, Telegram and e-mail
version_added: 0.1.0
description:
  - Sends the events of an update run - V(available) (a new image for a container in watch mode), V(succeeded) and
    V(failed) (rolled back, with the reason) - to notification targets, one message per event or one summary.
  - Delivery is best effort. A target that cannot be reached produces a warning and never fails the task, so it can
    never change the outcome of an update. Each delivery is bounded by O(timeout).
  - With O(state_dir), an V(available) event is sent once per container and digest, however often it is reported.
  - The C(autoupdate) role calls this module for containers labelled C(freshdock.notify=true).
author:
  - freshdock.core developers (@freshdock)
options:
  events:
    description:
      - Events to send. Each has C(event) (V(available), V(succeeded) or V(failed)) and C(container), and may have
        C(host), C(image), C(digest), C(reason), C(new_id) and C(restored_id).
    type: list
    elements: dict
    required: true
  targets:
    description: Where to send them (may be empty with O(deliver=false)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A name for messages and results (defaults to type and position).
        type: str
      type:
        description: The backend.
        type: str
        required: true
        choices: [webhook, discord, telegram, smtp]
      events:
        description: Only these events go to this target (default all).
        type: list
        elements: str
        choices: [available, succeeded, failed]
      url:
        description:
          - For V(webhook), the URL the JSON document is POSTed to; for V(discord), the channel's webhook URL.
          - A secret (Discord webhook URLs carry the token); never logged.
        type: str
      bot_token:
        description: For V(telegram), the bot token. A secret.
        type: str
      chat_id:
        description: For V(telegram), the chat to send to.
        type: str
      api_base:
        description: For V(telegram), the API base URL (for a Bot API server of your own).
        type: str
        default: https://api.telegram.org
      host:
        description: For V(smtp), the mail server.
        type: str
      port:
        description: For V(smtp), the port (default 587 for V(starttls), 465 for V(implicit), 25 for V(none)).
        type: int
      tls:
        description: For V(smtp), V(starttls), V(implicit) TLS, or V(none) (plain; only on a trusted network).
        type: str
        default: starttls
        choices: [starttls, implicit, none]
      username:
        description: For V(smtp), the login user (with O(targets[].password)); no login when unset.
        type: str
      password:
        description: For V(smtp), the login password. A secret.
        type: str
      sender:
        description: For V(smtp), the From address.
        type: str
        aliases: [from]
      recipients:
        description: For V(smtp), the To addresses.
        type: list
        elements: str
        aliases: [to]
      ca_path:
        description: CA bundle to verify the target's TLS certificate with (private CAs).
        type: path
      validate_certs:
        description: Verify the target's TLS certificate.
        type: bool
        default: true
  summary:
    description: Send one message with all events (per target) instead of one per event.
    type: bool
    default: false
  deliver:
    description:
      - V(false) only de-duplicates and returns the events still to send in RV(events), so that one controller-side
        call can send a summary for the whole fleet (then remember them with O(remember=true)).
    type: bool
    default: true
  remember:
    description:
      - With O(deliver=false), remember the V(available) digests of O(events) as announced (call it after the summary
        of these events was delivered elsewhere). Otherwise a digest is remembered once a target that wants it got it.
    type: bool
    default: false
  scope:
    description: What the summary covers, shown in its title (for example a host name, or V(fleet)).
    type: str
  state_dir:
    description: Where to remember the last V(available) digest per container, so it is announced once.
    type: path
  engine_id:
    description: Keeps the remembered digests of several engines on one machine apart (freshdock_digest's C(engine.id)).
    type: str
    default: default
  timeout:
    description: Seconds per delivery (at most 120).
    type: float
    default: 10.0
attributes:
  check_mode:
    description: Reports what would be sent; sends nothing and remembers nothing.
    support: full
  diff_mode:
    description: Not applicable.
    support: none
notes:
  - Message texts follow freshdock's. A webhook receives C({"event", "title", "body", "events", ...}) and, for a
    single event, its fields (C(container), C(host), C(image), C(digest), C(reason), ...) at the top level.
  - Discord embeds are amber for V(available), green for V(succeeded), red for V(failed).
requirements:
  - python >= 3.9
  - requests >= 2.28.0
"""

EXAMPLES = r"""
- name: Tell the team chat and the on-call mailbox about a rollback
  freshdock.core.freshdock_notify:
    events:
      - event: failed
        container: web
        host: "{{ inventory_hostname }}"
        image: ghcr.io/acme/web:stable
        reason: the new container failed its health gate (unhealthy)
    targets:
      - type: discord
        url: "{{ vault_discord_webhook }}"
      - type: smtp
        host: smtp.example.com
        sender: freshdock@example.com
        to: [oncall@example.com]
        username: freshdock
        password: "{{ vault_smtp_password }}"
        events: [failed]

- name: One summary per host to a webhook, announcing new images only once
  freshdock.core.freshdock_notify:
    events: "{{ freshdock_events }}"
    summary: true
    scope: "{{ inventory_hostname }}"
    state_dir: /var/lib/freshdock
    targets:
      - type: webhook
        url: https://hooks.example.com/freshdock
"""

RETURN = r"""
deliveries:
  description: One entry per message and target.
  returned: always
  type: list
  elements: dict
  sample: [{"target": "discord[0]", "type": "discord", "event": "failed", "title": "[docker1] Update failed: web",
            "containers": ["web"], "sent": true}]
events:
  description: The events after de-duplication (those sent, or to be sent with O(deliver=false)).
  returned: always
  type: list
  elements: dict
suppressed:
  description: V(available) events not sent because that digest was already announced.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.freshdock.core.plugins.module_utils.module_main import run_logic
from ansible_collections.freshdock.core.plugins.module_utils.notify_run import NOTIFY_ARGS, run_notify
from ansible_collections.freshdock.core.plugins.module_utils.transport import REQUESTS_IMPORT_ERROR


def main() -> None:
    module = AnsibleModule(argument_spec=NOTIFY_ARGS, supports_check_mode=True)
    module.exit_json(**run_logic(module, run_notify, {"requests": REQUESTS_IMPORT_ERROR}))


if __name__ == "__main__":
    main()
