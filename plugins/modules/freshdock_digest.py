#!/usr/bin/python
# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: freshdock_digest
short_description: Tell which containers and images run a tag that moved in the registry, without pulling
version_added: 0.1.0
description:
  - Compares the digest each tag points at in its registry with the images the Docker engine holds, and
    reports a verdict per container or image. It never pulls, creates or stops anything.
  - One registry request per unique tag (a C(HEAD), which Docker Hub does not count as a pull), at most one
    token request per registry (two when configured credentials are rejected, the second one anonymous),
    requests bounded per registry.
  - A tag that was republished as a multi-platform index whose entry for the local platform did not change
    is reported V(current) (no needless restart); this costs two C(GET)s, only in that case.
  - Unknown is never V(stale). Registry, credential and network problems get their own status.
author:
  - freshdock.core developers (@freshdock)
options:
  images:
    description: Image references to check (for example V(nginx:1.25), V(ghcr.io/owner/app:stable)).
    type: list
    elements: str
    default: []
  containers:
    description: Names or IDs of containers whose image to check.
    type: list
    elements: str
    default: []
  container_filters:
    description:
      - Select containers with Docker's list filters, for example C(label=freshdock.enable=true) written as a dict
        with a list value (see the examples).
      - Use C({}) to select every running container.
    type: dict
  include_stopped:
    description: Also check stopped containers selected by O(container_filters).
    type: bool
    default: false
  select:
    description:
      - A JMESPath expression evaluated over each selected container's inspect data (C(docker inspect)); only
        containers for which it is true are checked. For example V(Config.Labels."com.docker.compose.project" == 'shop')
        or V(starts_with(Config.Image, 'ghcr.io/')).
      - An invalid expression fails the task before anything is checked. Needs the C(jmespath) library.
    type: str
  policy:
    description:
      - Also evaluate each container's C(freshdock.*) labels (Watchtower labels as fallbacks) and schedule, adding
        RV(results[].enabled), RV(results[].mode), RV(results[].schedule), RV(results[].due) and the other policy fields.
      - Outside check mode the time of this check is recorded per container in O(state_dir), so a calendar schedule is
        due when one of its fire times lies between the previous check and now. Check mode never records it.
    type: bool
    default: false
  watch_all:
    description: With O(policy), treat containers without C(freshdock.enable) as enabled (opt-out instead of opt-in).
    type: bool
    default: false
  default_mode:
    description: With O(policy), the mode of enabled containers without C(freshdock.mode) (else V(watch)).
    type: str
    choices: [live, nightly, weekly, monthly, watch, "off"]
  default_cleanup:
    description: With O(policy), the cleanup setting of containers without C(freshdock.cleanup).
    type: bool
    default: false
  state_dir:
    description: Where O(policy) keeps the time of each container's last check (per engine ID and container name).
    type: path
    default: /var/lib/freshdock
  resolve:
    description:
      - V(false) asks no registry; containers that need one are returned with status V(unresolved) and their local
        C(facts), for a controller-side run with O(resolve_facts) (the C(autoupdate) role's C(freshdock_resolve_on=controller)).
    type: bool
    default: true
  resolve_facts:
    description:
      - Result entries of O(resolve=false) runs from any number of hosts. The module then talks to no engine;
        it asks each registry once per unique tag for the whole fleet and returns the entries with verdicts
        (extra keys such as a host name are kept).
    type: list
    elements: dict
extends_documentation_fragment:
  - freshdock.core.engine
  - freshdock.core.registry
attributes:
  check_mode:
    description: Fully supported; the module is read-only, so check mode runs the same check.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
  action_group:
    description: Use C(group/freshdock.core.freshdock) in C(module_defaults) to set engine and registry options once.
    support: full
    membership: [freshdock.core.freshdock]
notes:
  - Statuses are V(current), V(stale), V(behind_tag) (the engine already has the current image under the tag, the
    container still runs an older one), V(pinned) (digest reference or image ID; never updated), V(local) (built
    or re-tagged locally; never replaced), V(absent) (an O(images) entry not present on the engine),
    V(auth_required), V(credentials_rejected), V(not_found), V(rate_limited), V(unreachable), V(unsupported)
    (schema1 manifests, or an index without the local platform), V(error), and V(unresolved) (only with O(resolve=false)).
  - Registry hosts are validated like the docker CLI does, except that upper-case registry hosts are rejected
    with a message instead of being accepted.
  - Plain HTTP is used only for loopback registries, the engine's own insecure registries and entries with
    O(registries[].insecure=true). Credentials are never sent to a plain-HTTP token realm of a secure
    registry, and C(~/.netrc) is never read.
requirements:
  - python >= 3.9
seealso:
  - name: OCI distribution specification
    description: How registries answer manifest requests.
    link: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
"""

EXAMPLES = r"""
# Without a 'registries' entry, credentials come from the docker config of the user the module runs as
# (what 'docker login' wrote), so the first and the last example work for public and logged-in registries.
- name: Which opted-in containers run a stale image?
  freshdock.core.freshdock_digest:
    container_filters:
      label:
        - freshdock.enable=true
  register: freshdock

- name: Show the stale ones
  ansible.builtin.debug:
    msg: "{{ freshdock.results | selectattr('status', 'equalto', 'stale') | map(attribute='container') | list }}"

- name: Check two images on a private registry with credentials and a private CA
  freshdock.core.freshdock_digest:
    images:
      - registry.example.com/team/api:stable
      - registry.example.com/team/web:stable
    registries:
      - registry: registry.example.com
        username: ci
        password: "{{ vault_registry_token }}"
        ca_path: /etc/pki/private-ca.pem

- name: Check every container, running or not, on another engine
  freshdock.core.freshdock_digest:
    docker_host: "{{ engine_url }}"
    container_filters: {}
    include_stopped: true
  register: everything

- name: Fail when anything could not be checked
  ansible.builtin.assert:
    that: everything.summary.total == everything.summary.current + everything.summary.stale
      + everything.summary.behind_tag + everything.summary.pinned + everything.summary.local
    fail_msg: "{{ everything.results | rejectattr('update_available', 'in', [true, false]) | map(attribute='message') | list }}"
"""

RETURN = r"""
results:
  description: One entry per container (from O(containers) and O(container_filters)) and per O(images) entry.
  returned: always
  type: list
  elements: dict
  contains:
    container:
      description: Container name, or V(null) for an O(images) entry.
      type: str
      sample: demo-web
    container_id:
      description: Full container ID.
      type: str
      sample: e024e34955cf0c308e168b6a9b71a6be3ec62f40ae9055c347e7ce41433472e3
    image:
      description: The image reference as configured (C(Config.Image) of the container, verbatim).
      type: str
      sample: 127.0.0.1:46825/demo/web:stable
    image_id:
      description: ID of the image the container runs (or of the local image for an O(images) entry).
      type: str
      sample: sha256:2df250e6a87fb930ecc5be8bcb33cde2c0262d1356e161494aa97d4160b31b50
    registry:
      description: Normalised registry host.
      type: str
      sample: 127.0.0.1:46825
    repository:
      description: Normalised repository path.
      type: str
      sample: demo/web
    tag:
      description: The tag checked (V(latest) when none was given; V(null) for digest references).
      type: str
      sample: stable
    local_digests:
      description: Registry digests the local image carries for this repository.
      type: list
      elements: str
      sample: [sha256:cd53930dae58ae001f8f5d077a2e7c08ab5253238b3ae978271f3be077254a07]
    remote_digest:
      description: Digest the tag points at in the registry now (V(null) when unknown).
      type: str
      sample: sha256:f31b7c852fde0ac56e0b993ae6b86222b5127584dc292e1106a4472613e2c243
    status:
      description: The verdict (see the notes).
      type: str
      sample: stale
    update_available:
      description: V(true) for V(stale) and V(behind_tag), V(false) for V(current), V(pinned) and V(local), V(null) when unknown.
      type: bool
      sample: true
    enabled:
      description: With O(policy), whether the container is opted in (labels, O(watch_all)) and its labels are valid.
      type: bool
      returned: with O(policy)
      sample: true
    mode:
      description: With O(policy), the update mode (V(live), V(nightly), V(weekly), V(monthly), V(watch), V(off)).
      type: str
      returned: with O(policy)
      sample: nightly
    schedule:
      description: With O(policy), the cron schedule of a calendar mode.
      type: str
      returned: with O(policy)
      sample: 0 4 * * *
    due:
      description: With O(policy), whether the schedule fired since the last check (V(live) and V(watch) are always due).
      type: bool
      returned: with O(policy)
      sample: true
    cleanup:
      description: With O(policy), whether the old image is to be removed after an update (C(freshdock.cleanup)).
      type: bool
      returned: with O(policy)
      sample: false
    notify:
      description: With O(policy), whether events of this container are to be notified (C(freshdock.notify)).
      type: bool
      returned: with O(policy)
      sample: false
    policy_valid:
      description: With O(policy), V(false) when a label has an invalid value; such a container is never updated.
      type: bool
      returned: with O(policy)
      sample: true
    policy_warnings:
      description: With O(policy), what was wrong with or ignored in the labels.
      type: list
      elements: str
      returned: with O(policy)
      sample: []
    compose_project:
      description: With O(policy), the compose project the container belongs to, if any.
      type: str
      returned: with O(policy)
      sample: shop
    depends_on:
      description: With O(policy), containers to update before this one (network namespace owner, compose depends_on).
      type: list
      elements: str
      returned: with O(policy)
      sample: []
    facts:
      description: With O(resolve=false), what the engine knows (local image, image under the tag) for O(resolve_facts).
      type: dict
      returned: with O(resolve=false)
    message:
      description: Why, in a sentence, naming what to fix for the error statuses.
      type: str
      sample: 127.0.0.1:46825/demo/web:stable now points at a different linux/amd64 image
summary:
  description: Number of results per status, plus C(total).
  returned: always
  type: dict
  sample: {"current": 1, "stale": 1, "behind_tag": 0, "pinned": 0, "local": 0, "absent": 0, "auth_required": 0,
           "credentials_rejected": 0, "not_found": 0, "rate_limited": 0, "unreachable": 0, "unsupported": 0,
           "error": 0, "total": 2}
rate_limits:
  description:
    - Pull rate limits per registry, when the registry sent C(RateLimit-*) headers (Docker Hub does).
    - The sample is Docker Hub's documented answer; the test registries send no such headers.
  returned: always
  type: dict
  sample: {"docker.io": {"limit": 100, "remaining": 76, "window": 21600}}
engine:
  description: The engine that was asked (V(null) with O(resolve_facts)).
  returned: always
  type: dict
  contains:
    id:
      description: The engine's ID (C(docker info)).
      type: str
      sample: ICY5:Z6JD:I5QO:ASC4:M2ZE:O6BY:GBB3:DXGP:NSCI:CITV:3AGA:X2NZ
    platform:
      description: The engine's platform.
      type: str
      sample: linux/amd64
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.freshdock.core.plugins.module_utils.digest_run import DIGEST_ARGS, run_digest
from ansible_collections.freshdock.core.plugins.module_utils.engine import DOCKER_IMPORT_ERROR
from ansible_collections.freshdock.core.plugins.module_utils.module_main import run_logic
from ansible_collections.freshdock.core.plugins.module_utils.options import ENGINE_ARGS, REGISTRY_ARGS
from ansible_collections.freshdock.core.plugins.module_utils.transport import REQUESTS_IMPORT_ERROR


def main() -> None:
    module = AnsibleModule(argument_spec=dict(DIGEST_ARGS, **ENGINE_ARGS, **REGISTRY_ARGS), supports_check_mode=True)
    # The controller-side fleet resolution (resolve_facts) talks to registries only: no Docker SDK needed there.
    libraries = {"requests": REQUESTS_IMPORT_ERROR}
    if module.params["resolve_facts"] is None:
        libraries["docker"] = DOCKER_IMPORT_ERROR
    module.exit_json(**run_logic(module, run_digest, libraries))


if __name__ == "__main__":
    main()
