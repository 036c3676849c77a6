# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registry credentials: module options > config.json credHelpers > credsStore > auths.

Mirrors the docker CLI's selection, plus skopeo's Docker Hub key so that either tool's login works.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Callable

from ansible_collections.freshdock.core.plugins.module_utils.errors import CredentialError
from ansible_collections.freshdock.core.plugins.module_utils.reference import DOCKER_HUB, DOCKER_HUB_CREDENTIAL_KEYS

HELPER_TIMEOUT = 10.0
_NOT_FOUND_MARKERS = ("credentials not found", "no credentials server url")
# Credential helpers need little: a PATH to find themselves and what desktop keyrings read.
_HELPER_ENV_KEYS = (
    "PATH", "HOME", "USER", "LOGNAME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS",
    "GNUPGHOME", "PASSWORD_STORE_DIR", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "CLOUDSDK_CONFIG", "GOOGLE_APPLICATION_CREDENTIALS",
)
IDENTITY_TOKEN_USER = "<token>"


@dataclass(frozen=True)
class Credential:
    """A username/secret pair. ``kind`` says how the secret is used; repr never shows it."""

    username: str
    secret: str = field(repr=False)
    kind: str = "basic"  # basic | identitytoken | registrytoken
    source: str = ""

    @property
    def identity(self) -> str:
        """Stable, secret-free key for token caching."""
        return f"{self.source}:{self.username}"


def registry_keys(registry: str) -> tuple[str, ...]:
    """config.json keys that may hold this registry's credentials, most specific first."""
    if registry in (DOCKER_HUB, "index.docker.io", "registry-1.docker.io"):
        return DOCKER_HUB_CREDENTIAL_KEYS
    return (registry, f"https://{registry}", f"http://{registry}")


def _key_hostname(key: str) -> str:
    """docker/cli's ConvertToHostname: strip the scheme and anything after the first '/'."""
    for prefix in ("http://", "https://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    return key.split("/", 1)[0]


def decode_auth(value: str, where: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CredentialError(f"{where}: 'auth' is not base64 of 'user:password' ({exc.__class__.__name__})") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise CredentialError(f"{where}: 'auth' must decode to 'user:password' with a non-empty user")
    return username, password.strip("\x00")


def default_config_path() -> str:
    config_dir = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(config_dir, "config.json")


def load_docker_config(path: str) -> dict:
    """Read config.json; a missing file means "no credentials", a broken one is an error naming it."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialError(f"cannot read docker config {path}: {exc}; fix the file or set docker_config_path") from None
    if not isinstance(data, dict):
        raise CredentialError(f"docker config {path} is not a JSON object; fix the file or set docker_config_path")
    return data


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def run_helper(helper: str, server: str, timeout: float = HELPER_TIMEOUT, runner: Runner = subprocess.run) -> Credential | None:
    """``docker-credential-<helper> get`` with the server URL on stdin; None when it has nothing for it."""
    program = f"docker-credential-{helper}"
    env = {key: os.environ[key] for key in _HELPER_ENV_KEYS if key in os.environ}
    try:
        proc = runner(
            [program, "get"], input=server, capture_output=True, text=True, timeout=timeout, env=env, check=False,
        )
    except FileNotFoundError:
        raise CredentialError(
            f"credential helper {program} (configured for {server}) is not installed or not on PATH; "
            "install it or remove it from the docker config"
        ) from None
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"credential helper {program} did not answer for {server} within {timeout:g}s "
            "(it may be waiting for a keyring unlock or a GUI prompt)"
        ) from None
    except OSError as exc:
        raise CredentialError(f"credential helper {program} could not run for {server}: {exc.strerror}") from None
    if proc.returncode != 0:
        # Helpers report errors on stdout; never echo more than their first line (it is not a secret).
        first_line = (proc.stdout or proc.stderr or "").strip().splitlines()[:1]
        message = first_line[0][:200] if first_line else f"exit code {proc.returncode}"
        if any(marker in message.lower() for marker in _NOT_FOUND_MARKERS):
            return None
        raise CredentialError(f"credential helper {program} failed for {server}: {message}")
    try:
        answer = json.loads(proc.stdout)
        username, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise CredentialError(f"credential helper {program} gave an unreadable answer for {server}") from None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        return None
    if username == IDENTITY_TOKEN_USER:
        return Credential(username="", secret=secret, kind="identitytoken", source=f"helper:{helper}")
    return Credential(username=username, secret=secret, source=f"helper:{helper}")


class CredentialStore:
    """Resolves the credential for a registry host once per run, from the highest-priority source."""

    def __init__(
        self,
        explicit: dict | None = None,
        config_path: str | None = None,
        helper_timeout: float = HELPER_TIMEOUT,
        runner: Runner = subprocess.run,
    ) -> None:
        self._explicit = explicit or {}
        self._config_path = config_path or default_config_path()
        self._config: dict | None = None
        self._timeout = helper_timeout
        self._runner = runner
        self._cache: dict[str, Credential | None] = {}
        self._lock = threading.Lock()

    @property
    def config(self) -> dict:
        if self._config is None:
            self._config = load_docker_config(self._config_path)
        return self._config

    def lookup(self, registry: str) -> Credential | None:
        with self._lock:
            if registry not in self._cache:
                self._cache[registry] = self._resolve(registry)
            return self._cache[registry]

    def _resolve(self, registry: str) -> Credential | None:
        keys = registry_keys(registry)
        for key in keys:
            if key in self._explicit:
                return self._explicit[key]
        config = self.config
        helpers = config.get("credHelpers")
        if isinstance(helpers, dict):
            for key in keys:
                if isinstance(helpers.get(key), str) and helpers[key]:
                    return run_helper(helpers[key], key, self._timeout, self._runner)
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            # docker/cli uses the store for every registry and never falls back to 'auths' values.
            return run_helper(store, keys[0], self._timeout, self._runner)
        return self._from_auths(config.get("auths"), keys)

    def _from_auths(self, auths: object, keys: tuple[str, ...]) -> Credential | None:
        if not isinstance(auths, dict):
            return None
        entry_key = next((key for key in keys if key in auths), None)
        if entry_key is None:
            hostnames = {_key_hostname(key) for key in keys}
            entry_key = next((key for key in auths if _key_hostname(key) in hostnames), None)
        if entry_key is None or not isinstance(auths[entry_key], dict):
            return None
        entry = auths[entry_key]
        where = f"docker config {self._config_path} auths[{entry_key!r}]"
        source = f"config:{entry_key}"
        if entry.get("registrytoken"):
            return Credential(username="", secret=str(entry["registrytoken"]), kind="registrytoken", source=source)
        if entry.get("identitytoken"):
            return Credential(username="", secret=str(entry["identitytoken"]), kind="identitytoken", source=source)
        if entry.get("auth"):
            username, password = decode_auth(str(entry["auth"]), where)
            return Credential(username=username, secret=password, source=source)
        if entry.get("username") and entry.get("password"):
            return Credential(username=str(entry["username"]), secret=str(entry["password"]), source=source)
        return None
