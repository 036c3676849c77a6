"""Start/stop the token server subprocess (the server itself is sandbox/tokenserver.py)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from . import procs
from .certs import make_signing_cert
from .tokenserver import write_shape


@dataclass
class TokenServer:
    dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def log(self) -> Path:
        return self.dir / "token.log"

    @property
    def daemon_log(self) -> Path:
        return self.dir / "tokenserver.out"

    @property
    def shape_file(self) -> Path:
        return self.dir / "shape.json"

    @property
    def cert(self) -> Path:
        return self.dir / "signing.pem"

    @property
    def pid_path(self) -> Path:
        return self.dir / "tokenserver.pid"


def start_token_server(directory: Path, users: dict[str, str], issuer: str, service: str) -> TokenServer:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = make_signing_cert(directory)
    users_file = directory / "users.json"
    users_file.write_text(json.dumps(users))
    users_file.chmod(0o600)
    server = TokenServer(directory, procs.free_port())
    write_shape(server.shape_file)
    server.log.touch()
    package_root = str(Path(__file__).resolve().parent.parent)
    argv = [sys.executable, "-m", "sandbox.tokenserver", "--port", str(server.port), "--key", str(key),
            "--cert", str(cert), "--users", str(users_file), "--issuer", issuer, "--service", service,
            "--log", str(server.log), "--shape-file", str(server.shape_file)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    procs.spawn(argv, server.daemon_log, server.pid_path, env=env)
    return server


def wait_token_server(server: TokenServer, timeout: float = 10.0) -> None:
    def ready() -> bool:
        pid = procs.read_pid(server.pid_path)
        if pid is None or not procs.alive(pid):
            raise procs.fail_with_log("token server", server.daemon_log, "process exited")
        try:
            return requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=1.0).status_code == 200
        except requests.RequestException:
            return False

    if not procs.wait_until(ready, timeout, interval=0.05):
        raise procs.fail_with_log("token server", server.daemon_log, f"no answer in {timeout:.0f}s")


def stop_token_server(directory: Path) -> None:
    pid = procs.read_pid(directory / "tokenserver.pid")
    if pid is not None:
        procs.terminate(pid, "sandbox.tokenserver", timeout=5.0)
