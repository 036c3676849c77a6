"""Running ansible-playbook against the sandbox from tests: paths, a clean environment, secret patterns."""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path

import requests

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


def token_header(registry) -> str:
    """The first (header) segment of this token server's JWTs: the same for every token it signs (x5c)."""
    session = requests.Session()
    session.trust_env = False
    answer = session.get(registry.token_url, params={"service": "fd-test", "scope": "repository:probe/x:pull"},
                         auth=(registry.username, registry.password), timeout=30)
    answer.raise_for_status()
    body = answer.json()
    token = body.get("access_token") or body["token"]
    return token.split(".")[0]


def assert_no_secrets(output: str, saved: str, registry, password: str) -> None:
    """Neither the -vvvv output nor the saved result may hold the password, its Basic form or any token."""
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # -vvvv did print the module invocation
    secrets = {
        "password": password,
        "basic auth header": base64.b64encode(f"{registry.username}:{password}".encode()).decode(),
        "token header segment": token_header(registry),
    }
    for what, secret in secrets.items():
        assert secret not in output, f"{what} appears in the -vvvv output"
    assert not JWT.search(output), f"a JWT appears in the -vvvv output: {JWT.search(output).group(0)[:20]}..."
    assert password not in saved and not JWT.search(saved)
