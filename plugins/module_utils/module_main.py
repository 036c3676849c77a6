# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared end of every module's main(): missing libraries, typed errors → fail_json, warnings."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.freshdock.core.plugins.module_utils.errors import FreshdockError


def run_logic(module: AnsibleModule, logic, libraries: dict) -> dict:
    """Call ``logic(params, check_mode) -> (result, warnings)``; fail with a clear message on any known error."""
    for name, import_error in libraries.items():
        if import_error:
            module.fail_json(msg=missing_required_lib(name), exception=import_error)
    try:
        result, warnings = logic(module.params, module.check_mode)
    except FreshdockError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    return result
