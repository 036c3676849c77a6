"""Running ansible-playbook against the sandbox from tests: paths, a clean environment, secret patterns."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
RUN_SH = REPO / "tests" / "integration" / "run.sh"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")


def ansible_env(**extra: str) -> dict:
    """The caller's environment minus ANSIBLE_*/DOCKER_* settings that would change what is tested."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "DOCKER_")) and key not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build" / "collections")),
        ANSIBLE_DEBUG="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_KEEP_REMOTE_FILES="0",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
    )
    env.update(extra)
    return env
