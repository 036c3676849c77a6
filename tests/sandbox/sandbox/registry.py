"""Registries: Debian `docker-registry serve CONFIG` (distribution 2.8.2) on 127.0.0.1, four variants.

  anon    plain HTTP, no auth
  basic   plain HTTP, htpasswd (bcrypt) user fduser
  bearer  plain HTTP, auth.token -> our token server
  tls     HTTPS (cert for 127.0.0.1/localhost signed by the sandbox CA), no auth

Each has its own storage dir, config (never Debian's default, whose htpasswd path is broken) and a
log (JSON records + access lines); `access_entries` turns it into (method, path, status) triples so tests can count requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import requests

from . import procs

VARIANTS = ("anon", "basic", "bearer", "tls")
USERNAME = "fduser"
SERVICE = "fd-test"
ISSUER = "fd-sandbox-token-issuer"


@dataclass
class Registry:
    name: str
    dir: Path
    port: int
    scheme: str = "http"
    username: str | None = None
    password: str | None = None
    token_url: str | None = None
    token_log: str | None = None
    ca_path: str | None = None
    cert_dir: str | None = None  # holds only ca.crt: the layout skopeo/containers --cert-dir expect

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def log(self) -> Path:
        return self.dir / "registry.log"

    @property
    def config_path(self) -> Path:
        return self.dir / "config.yml"

    @property
    def pid_path(self) -> Path:
        return self.dir / "registry.pid"

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.username and self.password else None

    @property
    def verify(self) -> str | bool:
        """What to hand requests' `verify=` for this registry."""
        return self.ca_path or True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.host, "url": self.url, "log": str(self.log), "dir": str(self.dir),
                               "pid": procs.read_pid(self.pid_path)}
        for key in ("username", "password", "token_url", "token_log", "ca_path", "cert_dir"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Registry:
        return cls(name=name, dir=Path(data["dir"]), port=int(data["host"].rsplit(":", 1)[1]),
                   scheme=data["url"].split(":", 1)[0], username=data.get("username"),
                   password=data.get("password"), token_url=data.get("token_url"),
                   token_log=data.get("token_log"), ca_path=data.get("ca_path"),
                   cert_dir=data.get("cert_dir"))


@dataclass(frozen=True)
class AccessEntry:
    method: str
    path: str
    status: int
    user: str | None = field(default=None, compare=False)


# gorilla's combined-format access line, one per request, including the 401 challenges that the JSON
# "response completed" entries of distribution 2.8.2 leave out.
_ACCESS = re.compile(r'^\S+ \S+ (?P<user>\S+) \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) ')


def access_entries(log: str | Path) -> list[AccessEntry]:
    """Every HTTP request the registry answered, in order, as (method, path, status)."""
    path = Path(log)
    entries = []
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        match = _ACCESS.match(line)
        if match:
            user = match["user"] if match["user"] != "-" else None
            entries.append(AccessEntry(match["method"], match["path"], int(match["status"]), user))
    return entries


def json_entries(log: str | Path) -> list[dict[str, Any]]:
    """The registry's JSON log records (details such as err.code, auth.user.name, vars.reference)."""
    path = Path(log)
    out = []
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def _config(reg: Registry, auth: dict[str, Any] | None, tls: dict[str, str] | None) -> dict[str, Any]:
    http: dict[str, Any] = {"addr": reg.host, "secret": "fd-sandbox-not-secret", "headers": {}}
    if tls:
        http["tls"] = tls
    config: dict[str, Any] = {
        "version": 0.1,
        # JSON for the detail records; the access log stays on because it is the only place where
        # requests refused by auth (401) appear with their status.
        "log": {"level": "info", "formatter": "json", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(reg.dir / "storage")}, "delete": {"enabled": True},
                    "cache": {"blobdescriptor": "inmemory"}},
        "http": http,
        "health": {"storagedriver": {"enabled": False}},
    }
    if auth:
        config["auth"] = auth
    return config


def write_htpasswd(path: Path, username: str, password: str) -> None:
    # Low cost: distribution checks the hash on every request and the suite makes many.
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    path.write_text(f"{username}:{hashed}\n")


def start_registry(reg: Registry, auth: dict[str, Any] | None = None, tls: dict[str, str] | None = None) -> None:
    reg.dir.mkdir(parents=True, exist_ok=True)
    (reg.dir / "storage").mkdir(exist_ok=True)
    # YAML is a superset of JSON, so the config needs no YAML library.
    reg.config_path.write_text(json.dumps(_config(reg, auth, tls), indent=1))
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    # Clear REGISTRY_* from our env: distribution would apply them as config overrides.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    procs.spawn([binary, "serve", str(reg.config_path)], reg.log, reg.pid_path, env=env)


def wait_registry(reg: Registry, timeout: float = 15.0) -> None:
    def ready() -> bool:
        pid = procs.read_pid(reg.pid_path)
        if pid is None or not procs.alive(pid):
            raise procs.fail_with_log(f"registry {reg.name}", reg.log, "process exited")
        try:
            status = requests.get(f"{reg.url}/v2/", verify=reg.verify, timeout=1.0).status_code
        except requests.RequestException:
            return False
        return status in (200, 401)

    if not procs.wait_until(ready, timeout, interval=0.05):
        raise procs.fail_with_log(f"registry {reg.name}", reg.log, f"no /v2/ answer on {reg.url} in {timeout:.0f}s")


def stop_registry(reg_dir: Path) -> None:
    pid = procs.read_pid(reg_dir / "registry.pid")
    if pid is not None:
        procs.terminate(pid, str(reg_dir / "config.yml"), timeout=5.0)
