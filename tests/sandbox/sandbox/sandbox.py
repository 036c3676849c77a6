"""The whole bed: N private engines, four registries, one token server; state in `<dir>/sandbox.json`.

`up` always tears down leftovers of an earlier run in the same dir first, and tears down what it
started when anything fails, so a failed run never blocks the next one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import procs
from .certs import make_ca, make_server_cert
from .engine import Engine
from .registry import (
    ISSUER,
    SERVICE,
    USERNAME,
    Registry,
    start_registry,
    stop_registry,
    wait_registry,
    write_htpasswd,
)
from .tokenproc import start_token_server, stop_token_server, wait_token_server
from .tokenserver import write_shape

STATE = "sandbox.json"
_OWNED = ("engines", "registries", "token", "certs", STATE)


def run_dir_for(directory: Path) -> Path:
    # Short and stable per sandbox dir: unix socket paths must stay well below 108 bytes.
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:10]
    return Path("/run") / f"fdsb-{digest}"


@dataclass
class Sandbox:
    dir: Path
    run_dir: Path
    engines: list[Engine]
    registries: dict[str, Registry]
    started_seconds: float = 0.0

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    def up(cls, directory: str | Path, engines: int = 1) -> Sandbox:
        root = Path(directory).resolve()
        teardown(root)
        root.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            sandbox = cls._start(root, engines)
        except BaseException:
            teardown(root)
            raise
        sandbox.started_seconds = round(time.monotonic() - started, 2)
        sandbox.save()
        return sandbox

    @classmethod
    def _start(cls, root: Path, engine_count: int) -> Sandbox:
        run_dir = run_dir_for(root)
        engines = [Engine(f"engine{i}", root / "engines" / f"engine{i}", run_dir / f"e{i}")
                   for i in range(engine_count)]
        for engine in engines:  # dockerd boots in parallel with everything below
            engine.start()
        ca_pem, ca_key = make_ca(root / "certs")
        server_pem, server_key = make_server_cert(root / "certs", ca_pem, ca_key)
        trust = root / "certs" / "trust"
        trust.mkdir()
        shutil.copyfile(ca_pem, trust / "ca.crt")
        password = secrets.token_urlsafe(12)
        token = start_token_server(root / "token", {USERNAME: password}, ISSUER, SERVICE)
        regs = root / "registries"
        registries = {
            "anon": Registry("anon", regs / "anon", procs.free_port()),
            "basic": Registry("basic", regs / "basic", procs.free_port(), username=USERNAME, password=password),
            "bearer": Registry("bearer", regs / "bearer", procs.free_port(), username=USERNAME, password=password,
                               token_url=token.url, token_log=str(token.log)),
            "tls": Registry("tls", regs / "tls", procs.free_port(), scheme="https", ca_path=str(ca_pem),
                            cert_dir=str(trust)),
        }
        htpasswd = regs / "htpasswd"
        regs.mkdir(parents=True, exist_ok=True)
        write_htpasswd(htpasswd, USERNAME, password)
        start_registry(registries["anon"])
        start_registry(registries["basic"], auth={"htpasswd": {"realm": "fd-basic", "path": str(htpasswd)}})
        start_registry(registries["bearer"], auth={"token": {
            "realm": token.url, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": str(token.cert)}})
        start_registry(registries["tls"], tls={"certificate": str(server_pem), "key": str(server_key)})
        wait_token_server(token)
        for reg in registries.values():
            wait_registry(reg)
        for engine in engines:
            engine.wait_ready()
        return cls(root, run_dir, engines, registries)

    @classmethod
    def load(cls, directory: str | Path) -> Sandbox:
        root = Path(directory).resolve()
        state = json.loads((root / STATE).read_text())
        engines = [Engine.load(root / "engines" / e["name"]) for e in state["engines"]]
        registries = {name: Registry.from_dict(name, data) for name, data in state["registries"].items()}
        return cls(root, Path(state["run_dir"]), engines, registries, state.get("started_seconds", 0.0))

    def down(self) -> None:
        problems = teardown(self.dir)
        if problems:
            raise procs.SandboxError("sandbox teardown left things behind:\n" + "\n".join(problems))

    def save(self) -> None:
        (self.dir / STATE).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dir": str(self.dir),
            "run_dir": str(self.run_dir),
            "started_seconds": self.started_seconds,
            "engines": [e.to_dict() for e in self.engines],
            "registries": {name: reg.to_dict() for name, reg in self.registries.items()},
        }

    # ----------------------------------------------------------------- queries
    def running(self) -> dict[str, bool]:
        """Liveness per component (engine name / registry name / 'token')."""
        status = {e.name: bool(e.pid and procs.alive(e.pid)) for e in self.engines}
        for name, reg in self.registries.items():
            pid = procs.read_pid(reg.pid_path)
            status[name] = bool(pid and procs.alive(pid))
        pid = procs.read_pid(self.dir / "token" / "tokenserver.pid")
        status["token"] = bool(pid and procs.alive(pid))
        return status

    def is_running(self) -> bool:
        return all(self.running().values())

    def engine(self, index: int = 0) -> Engine:
        return self.engines[index]

    def client(self, index: int = 0) -> Any:
        import docker

        return docker.DockerClient(base_url=self.engines[index].docker_host, version="auto", timeout=60)

    def set_token_shape(self, shape: str = "access_token", ttl: int = 300, expires_in: int | None = None) -> None:
        """Change what the token server's JSON body looks like (see tokenserver.SHAPES)."""
        write_shape(self.dir / "token" / "shape.json", shape, ttl, expires_in)


def teardown(directory: Path) -> list[str]:
    """Stop whatever a (possibly half-started, possibly other-process) sandbox left in directory."""
    problems: list[str] = []
    for state in sorted((directory / "engines").glob("*/engine.json")):
        problems += Engine.load(state.parent).stop()
    for reg_dir in sorted((directory / "registries").glob("*/")):
        stop_registry(reg_dir)
    stop_token_server(directory / "token")
    run_dir = run_dir_for(directory)
    if run_dir.exists():
        shutil.rmtree(run_dir, ignore_errors=True)
    for name in _OWNED:
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    return problems


def pull_image(client: Any, registry: Registry, repo: str, tag: str = "latest") -> Any:
    """`docker pull` through the SDK with the registry's credentials (engine does Basic/Bearer itself)."""
    auth = {"username": registry.username, "password": registry.password} if registry.auth else None
    return client.images.pull(f"{registry.host}/{repo}", tag=tag, auth_config=auth)
