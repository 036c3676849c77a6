#!/usr/bin/python
# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: freshdock_update
short_description: Move a container to the image its tag points at now, health-gated, with rollback
version_added: 0.1.0
description:
  - Re-creates one container on the current image of its tag when the registry says the tag moved, proves the new
    container healthy, and restores the original container (same ID, same volumes, running) when it is not.
  - The new image is pulled and the new container created before the old one stops, so the downtime is only
    stop to start.
  - The new container keeps every setting the user gave (host config, mounts, networks with aliases and static
    IPs, labels, environment overrides, …) while the new image's own defaults (C(ENV), C(CMD), C(ENTRYPOINT),
    C(WORKDIR), C(USER), C(HEALTHCHECK), labels, C(EXPOSE), C(VOLUME)) apply where the user did not override them.
    Anonymous volumes are re-attached by name, so their data stays.
  - A journal and a per-container lock in O(state_dir) make the update crash-safe; a later run after a crash at
    any step converges on exactly one container under the name.
  - A digest whose container failed its gate is remembered and not retried until the registry's digest moves
    (unless O(force=true)).
author:
  - freshdock.core developers (@freshdock)
options:
  name:
    description: Name or ID of the container to update.
    type: str
    required: true
  image:
    description:
      - The reference to follow. Defaults to the container's own C(Config.Image), verbatim.
      - Give another tag to move the container to it (the new container then records this reference).
    type: str
  force:
    description:
      - Re-create even when the image is current, and retry a digest that failed before. Pinned (digest) and
        locally built images are still never replaced.
    type: bool
    default: false
  health_timeout:
    description: Seconds the new container has to become healthy (or to pass O(readiness)).
    type: float
    default: 120.0
  grace_period:
    description: For images without a healthcheck, seconds the new container must keep running without a restart.
    type: float
    default: 10.0
  readiness:
    description: An extra probe after the healthcheck or grace period, until it succeeds or O(health_timeout) runs out.
    type: dict
    suboptions:
      command:
        description: Command run in the new container (a string runs with C(sh -c), a list as is); exit 0 = ready.
        type: raw
      url:
        description: URL fetched from the managed host; an answer 200-399 = ready.
        type: str
      timeout:
        description: Seconds per probe attempt.
        type: float
        default: 5.0
  stop_timeout:
    description: Seconds to wait for the old container to stop before it is killed. Defaults to its own C(StopTimeout), else 10.
    type: int
  cleanup:
    description: After a successful update, remove the old image if no container uses it any more.
    type: bool
    default: false
  hooks:
    description:
      - Lifecycle hooks, run with C(sh -c) inside the container. Defaults to the container's labels
        C(freshdock.lifecycle.pre-update), C(freshdock.lifecycle.post-update) (and their C(-timeout) labels, in
        seconds), falling back to Watchtower's C(com.centurylinklabs.watchtower.lifecycle.*) labels (timeouts in minutes).
      - A pre-update hook runs in the old container after the pull; exit code 75 defers the update, any other failure
        skips it. Nothing is touched in either case. A post-update hook runs in the new container after the gate; its
        failure only warns.
    type: dict
    suboptions:
      pre_update:
        description: Command run in the old container before it stops.
        type: str
      pre_update_timeout:
        description: Seconds; 0 means no limit.
        type: float
        default: 60.0
      post_update:
        description: Command run in the new container after it passed the gate.
        type: str
      post_update_timeout:
        description: Seconds; 0 means no limit.
        type: float
        default: 60.0
  fail_on_rollback:
    description: Fail the task when the update was rolled back. With V(false) the task reports C(action=rolled_back) and succeeds.
    type: bool
    default: true
  state_dir:
    description:
      - Directory for journals, locks and failed digests, kept per engine ID and container name.
    type: path
    default: /var/lib/freshdock
extends_documentation_fragment:
  - freshdock.core.engine
  - freshdock.core.registry
attributes:
  check_mode:
    description: Predicts from the registry whether the container would be updated; pulls, creates and stops nothing.
    support: full
  diff_mode:
    description: Shows the container ID, image ID and digest before and after.
    support: full
  action_group:
    description: Use C(group/freshdock.core.freshdock) in C(module_defaults) to set engine and registry options once.
    support: full
    membership: [freshdock.core.freshdock]
notes:
  - Containers started by Docker Compose keep all their labels verbatim, so C(docker compose) still recognises them.
    What Compose keeps only in its own files (for example C(configs:)/C(secrets:) sources, C(env_file) as a file, and
    C(depends_on) conditions) cannot be re-read from the engine; the values the container was created with are kept.
  - On engines older than API 1.44 (Docker 25) a container on several networks is created on one and connected to the
    others before it starts.
  - A MAC address the engine generated is not carried over (the engine API cannot tell it from a configured one on
    Docker 25 and newer); a C(--mac-address) given on older engines is kept.
requirements:
  - python >= 3.9
"""

EXAMPLES = r"""
- name: Preview the update of the web container (check mode pulls and changes nothing; diff shows IDs and digests)
  freshdock.core.freshdock_update:
    name: web
  check_mode: true
  diff: true
  register: web_preview

- name: Update the web container when its tag moved; roll back if it is not healthy within 60 s
  freshdock.core.freshdock_update:
    name: web
    health_timeout: 60
  register: web_update

- name: Update the API, probe it from the host, keep the play going on a rollback and remove the old image
  freshdock.core.freshdock_update:
    name: api
    readiness:
      url: http://127.0.0.1:8080/healthz
      timeout: 2
    fail_on_rollback: false
    cleanup: true
  register: api_update

- name: Report a rolled-back API update
  ansible.builtin.debug:
    msg: "api stays on {{ api_update.current.image_id }}: {{ api_update.rollback.reason }}"
  when: api_update.action == 'rolled_back'

- name: Copy the data aside before the swap; while a job holds /data/busy.lock the hook defers the update (exit 75)
  freshdock.core.freshdock_update:
    name: db
    hooks:
      pre_update: "[ ! -e /data/busy.lock ] || exit 75; cp -a /data/. /backup/"
      pre_update_timeout: 300
      post_update: test -s /data/state
  register: db_update
"""

RETURN = r"""
action:
  description: What happened - V(updated), V(rolled_back), V(current), V(skipped), V(deferred) or V(recovered).
  returned: always
  type: str
  sample: updated
previous:
  description: The container before (C(id), C(name), C(image), C(image_id), C(digest)).
  returned: always
  type: dict
current:
  description: The container now, in the same shape as RV(previous).
  returned: always
  type: dict
rollback:
  description: Why the new container was rejected, its last log lines, and the ID of the restored original.
  returned: when action is rolled_back
  type: dict
timings:
  description: Seconds spent in C(pull), C(create), C(stop), C(start), C(health) and C(downtime) (stop to running).
  returned: when a container was re-created
  type: dict
dependents:
  description: Containers sharing this one's network namespace that were re-created, with their result.
  returned: always
  type: list
  elements: dict
pulled:
  description: Whether the new image was pulled.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.freshdock.core.plugins.module_utils.engine import DOCKER_IMPORT_ERROR
from ansible_collections.freshdock.core.plugins.module_utils.module_main import run_logic
from ansible_collections.freshdock.core.plugins.module_utils.options import ENGINE_ARGS, REGISTRY_ARGS
from ansible_collections.freshdock.core.plugins.module_utils.transport import REQUESTS_IMPORT_ERROR
from ansible_collections.freshdock.core.plugins.module_utils.update_run import UPDATE_ARGS, run_update


def main() -> None:
    module = AnsibleModule(argument_spec=dict(UPDATE_ARGS, **ENGINE_ARGS, **REGISTRY_ARGS), supports_check_mode=True)
    result = run_logic(module, run_update, {"docker": DOCKER_IMPORT_ERROR, "requests": REQUESTS_IMPORT_ERROR})
    if not module._diff:
        result.pop("diff")
    if result.pop("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
