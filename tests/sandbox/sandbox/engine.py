"""A private dockerd: own socket, data root, exec root and pid file; never the host's daemon.

Layout: the data root lives in the sandbox dir; socket, exec root and pid file live under a short
/run/fdsb-<id>/ dir because unix socket paths (containerd's included) must stay below ~100 chars.
Everything needed to tear the engine down is written to `<dir>/engine.json` before dockerd starts, so
a crashed or half-started run can always be cleaned up from another process.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

from . import procs
from .mounts import unmount_under
from .unixhttp import unix_get


@dataclass
class Engine:
    name: str
    dir: Path  # in the sandbox dir: engine.json, dockerd.log, data/
    run_dir: Path  # short path: docker.sock, exec/, docker.pid

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def data_root(self) -> Path:
        return self.dir / "data"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "docker.pid"

    @property
    def spawn_pidfile(self) -> Path:
        # Our own record of the pid (dockerd's --pidfile only appears once it is well under way).
        return self.dir / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.dir / "dockerd.log"

    @property
    def pid(self) -> int | None:
        return procs.read_pid(self.spawn_pidfile) or procs.read_pid(self.pidfile)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "docker_host": self.docker_host, "pid": self.pid,
                "data_root": str(self.data_root), "exec_root": str(self.exec_root), "log": str(self.log)}

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        state = {"name": self.name, "dir": str(self.dir), "run_dir": str(self.run_dir)}
        (self.dir / "engine.json").write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, engine_dir: Path) -> Engine:
        state = json.loads((engine_dir / "engine.json").read_text())
        return cls(name=state["name"], dir=Path(state["dir"]), run_dir=Path(state["run_dir"]))

    def start(self) -> None:
        """Launch dockerd; call wait_ready() afterwards (lets N engines boot in parallel)."""
        self.save()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_root.mkdir(parents=True, exist_ok=True)
        argv = [
            shutil.which("dockerd") or "/usr/sbin/dockerd",
            "--host", self.docker_host,
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.pidfile),
            "--bridge=none", "--iptables=false", "--ip6tables=false",
            # Host-wide side effects we do not want from a test daemon.
            "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false",
            "--storage-driver=overlay2",
            # No daemon.json of the host must leak in.
            "--config-file", str(self._config_file()),
            "--shutdown-timeout=3",
        ]
        procs.spawn(argv, self.log, self.spawn_pidfile)

    def _config_file(self) -> Path:
        path = self.dir / "daemon.json"
        # dockerd 20.10 otherwise shares /etc/docker/key.json between all engines, and so the daemon ID
        # that `docker info` reports: several "hosts" would look like one.
        settings = {"deprecated-key-path": str(self.dir / "key.json")} if _dockerd_major() < 23 else {}
        path.write_text(json.dumps(settings) + "\n")
        return path

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ping() -> bool:
            pid = self.pid
            if pid is None or not procs.alive(pid):
                raise procs.fail_with_log(f"dockerd {self.name}", self.log, "process exited")
            try:
                return unix_get(self.socket, "/_ping", timeout=1.0) == (200, b"OK")
            except OSError:
                return False

        if not procs.wait_until(ping, timeout, interval=0.1):
            raise procs.fail_with_log(f"dockerd {self.name}", self.log, f"no /_ping answer in {timeout:.0f}s")

    def stop(self) -> list[str]:
        """Stop containers, dockerd, its containerd and shims; unmount; remove dirs. Returns problems."""
        problems: list[str] = []
        if self.socket.exists():
            self._remove_containers()
        pid = self.pid
        if pid is not None:
            procs.terminate(pid, str(self.run_dir), timeout=15.0)
        # A killed dockerd leaves containers running; their processes are found by the container ids in
        # their cgroup paths, which survives losing the shim (the container's parent) as well.
        for pid in container_pids(self.data_root):
            procs.kill_now(pid)
        # containerd and containerd-shim-runc-v2 are started by dockerd but outlive a killed one; all of
        # them carry our exec root in their command line.
        for stray in procs.pids_mentioning(str(self.exec_root)):
            procs.terminate(stray, str(self.exec_root), timeout=5.0)
        left = unmount_under(self.data_root, self.exec_root)
        if left:
            problems.append(f"{self.name}: still mounted: {left}")
        for path in (self.run_dir, self.dir):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.run_dir, self.dir):
            if path.exists():
                problems.append(f"{self.name}: could not remove {path}")
        return problems

    def _remove_containers(self) -> None:
        # Kill rather than stop: busybox PID 1 ignores SIGTERM and would cost the stop timeout each.
        try:
            import docker

            client = docker.DockerClient(base_url=self.docker_host, version="auto", timeout=20)
            for container in client.containers.list(all=True):
                container.remove(force=True)
            client.close()
        except (docker.errors.DockerException, requests.RequestException, OSError):
            pass


@functools.lru_cache(maxsize=1)
def _dockerd_major() -> int:
    # Newer dockerd dropped the trust key (and would reject the unknown daemon.json key).
    out = subprocess.run([shutil.which("dockerd") or "/usr/sbin/dockerd", "--version"], capture_output=True,
                         text=True, check=False).stdout
    match = re.search(r"version (\d+)\.", out)
    return int(match.group(1)) if match else 0


def container_pids(data_root: Path) -> list[int]:
    """Pids of processes in the cgroup of any container this engine created (running or not)."""
    ids = [d.name for d in (data_root / "containers").glob("*") if len(d.name) == 64]
    if not ids:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cgroups = (entry / "cgroup").read_text()
        except OSError:
            continue
        if any(cid in cgroups for cid in ids):
            found.append(int(entry.name))
    return found


def engine_info(engine: Engine) -> dict[str, object]:
    status, body = unix_get(engine.socket, "/info", timeout=5.0)
    if status != 200:
        raise procs.SandboxError(f"{engine.name}: /info answered {status}")
    return json.loads(body)


def docker_cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """The docker CLI pointed at this engine (handy in tests and demos)."""
    return subprocess.run(["docker", "--host", engine.docker_host, *args], capture_output=True, text=True,
                          check=False)
