"""Helpers for the autoupdate role tests: a 3-host inventory over the sandbox engines, ansible-playbook runs,
their PLAY RECAP, the fleet report, engine snapshots, a task-recording callback and a webhook receiver."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdcheck import image_ids, registry_entry
from fdupdate import publish_app, start_app

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
PLAYBOOKS = REPO / "playbooks"
HOSTS = ("host0", "host1", "host2")
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
                   r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
                   re.MULTILINE)

# A callback that writes one JSON line per task result (and per loop item): host, task, module, status.
# Loaded from a temp dir through ANSIBLE_CALLBACK_PLUGINS, so that module invocations can be counted exactly.
RECORDER = '''
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: fd_recorder
type: aggregate
short_description: record every task result as a JSON line (freshdock tests)
description: [record every task result as a JSON line]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fd_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status, item=False):
        record = {"host": result._host.get_name(), "task": result._task.get_name(), "action": result._task.action,
                  "resolved": getattr(result._task, "resolved_action", None) or result._task.action,
                  "status": status, "item": item, "changed": bool(result._result.get("changed")), "time": time.time()}
        with open(os.environ["FD_RECORD"], "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        self._write(result, "ok", True)

    def v2_runner_item_on_failed(self, result):
        self._write(result, "failed", True)
'''


def run_id() -> str:
    return uuid.uuid4().hex[:8]


def env(record: Path | None = None, **extra: str) -> dict:
    out = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "DOCKER_")) and key not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    out.update(
        ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build" / "collections")),
        ANSIBLE_DEBUG="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_KEEP_REMOTE_FILES="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_FORKS="5",
    )
    if record is not None:
        plugins = record.parent / "callback_plugins"
        plugins.mkdir(exist_ok=True)
        (plugins / "fd_recorder.py").write_text(RECORDER)
        out.update(ANSIBLE_CALLBACK_PLUGINS=str(plugins), ANSIBLE_CALLBACKS_ENABLED="fd_recorder", FD_RECORD=str(record))
    out.update(extra)
    return out


@dataclass
class Run:
    proc: subprocess.CompletedProcess
    report_dir: Path
    record: Path
    seconds: float = 0.0
    saved: dict | None = None  # the report as this run left it (a later run rewrites the file)

    @property
    def output(self) -> str:
        return self.proc.stdout + self.proc.stderr

    @property
    def rc(self) -> int:
        return self.proc.returncode

    @property
    def recap(self) -> dict:
        """host -> {ok, changed, failed, ...} from the PLAY RECAP."""
        return {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(self.proc.stdout)}

    def report(self) -> dict:
        assert self.saved is not None, f"this run wrote no report\n{self}"
        return self.saved

    def rows(self) -> dict:
        """(host, container) -> report row."""
        return {(row["host"], row["container"]): row for row in self.report()["rows"]}

    def records(self) -> list:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def __str__(self) -> str:  # what an assertion message shows
        return f"rc={self.rc}\n{self.proc.stdout[-15000:]}\n{self.proc.stderr[-5000:]}"


@dataclass
class Fleet:
    """Inventory host0..hostN-1, each managing its own sandbox engine; per-test state and report dirs."""

    sandbox: Any
    workdir: Path
    label: str  # fd.role=<run>: container_filters select only this test's containers
    hosts: tuple = HOSTS
    common: dict = field(default_factory=dict)
    host_vars: dict = field(default_factory=dict)
    runs: int = 0

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.report_dir = self.workdir / "report"

    @property
    def clients(self) -> dict:
        if not hasattr(self, "_clients"):
            self._clients = {host: self.sandbox.client(index) for index, host in enumerate(self.hosts)}
        return self._clients

    def close(self) -> None:
        for client in getattr(self, "_clients", {}).values():
            client.close()

    def inventory(self, common: dict, host_vars: dict) -> Path:
        hosts = {}
        for index, host in enumerate(self.hosts):
            hosts[host] = dict({
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "freshdock_docker_host": self.sandbox.engine(index).docker_host,
                "freshdock_state_dir": str(self.workdir / "state" / host),
            }, **host_vars.get(host, {}))
        group_vars = dict({
            "freshdock_registries": [registry_entry(r) for r in self.sandbox.registries.values()],
            "freshdock_docker_config_path": "/nonexistent/config.json",
            "freshdock_container_filters": {"label": [self.label]},
            "freshdock_report_dir": str(self.report_dir),
            "freshdock_report_html": False,
            "freshdock_health_timeout": 10,
            "freshdock_grace_period": 1,
        }, **common)
        path = self.workdir / f"inventory-{self.runs}.json"  # the yaml inventory plugin reads .json
        path.write_text(json.dumps({"all": {"hosts": hosts, "vars": group_vars}}, indent=2))
        path.chmod(0o600)  # it holds the registry passwords
        return path

    def play(self, playbook: str, *args: str, common: dict | None = None, host_vars: dict | None = None,
             timeout: float = 300, **env_extra: str) -> Run:
        """Run playbooks/<playbook> (or a path) over the fleet; vars from the inventory (overridable per run)."""
        self.runs += 1
        inventory = self.inventory(dict(self.common, **(common or {})),
                                   {h: dict(self.host_vars.get(h, {}), **(host_vars or {}).get(h, {})) for h in self.hosts})
        record = self.workdir / f"record-{self.runs}.jsonl"
        book = playbook if os.sep in playbook else str(PLAYBOOKS / playbook)
        argv = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), book, *args]
        report = self.report_dir / "freshdock-report.json"
        if report.exists():
            report.unlink()
        start = time.monotonic()
        proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=timeout, cwd=self.workdir,
                              env=env(record, **env_extra))
        elapsed = time.monotonic() - start
        print(f"{Path(book).name} {' '.join(args)}: rc={proc.returncode} in {elapsed:.1f}s")  # shown with -s / on failure
        return Run(proc, self.report_dir, record, elapsed, json.loads(report.read_text()) if report.exists() else None)

    # -- the engines ---------------------------------------------------------------------------------

    def start(self, host: str, registry: Any, repo: str, name: str, labels: dict | None = None, **kwargs: Any) -> Any:
        labels = dict(labels or {}, **dict([self.label.split("=", 1)]))
        return start_app(self.sandbox, self.clients[host], registry, repo, name, labels=labels, **kwargs)

    def start_many(self, specs: list) -> list:
        """start() for each (host, registry, repo, name, labels), a few at a time (the engines are independent)."""
        with ThreadPoolExecutor(max_workers=6) as pool:
            return list(pool.map(lambda spec: self.start(*spec), specs))

    def snapshot(self) -> dict:
        """Per host: every container (ID, name, image, state) and every image of its engine."""
        out = {}
        for host, client in self.clients.items():
            containers = sorted((c["Id"], c["Names"][0], c["ImageID"], c["State"]) for c in client.api.containers(all=True))
            out[host] = {"containers": containers, "images": image_ids(client)}
        return out

    def ids(self) -> dict:
        """(host, name) -> container ID for this test's containers."""
        return {(host, c.name): c.id for host, client in self.clients.items()
                for c in client.containers.list(all=True, filters={"label": self.label})}

    def container(self, host: str, name: str) -> Any:
        return self.clients[host].containers.get(name)

    def cleanup(self) -> None:
        leftovers = [c for client in self.clients.values() for c in client.containers.list(all=True, filters={"label": self.label})]
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda container: container.remove(force=True), leftovers))
        self.close()


def health(container: Any) -> str | None:
    container.reload()
    return (container.attrs["State"].get("Health") or {}).get("Status")


def republish(registry: Any, repo: str, behaviour: str = "good") -> Any:
    """A new version of repo:stable with its own content (so every engine has to fetch it)."""
    return publish_app(registry, repo, f"v-{run_id()}", behaviour)


def load_fake_server():
    """tests/unit/.../fakeregistry.py's FakeRegistry: a capturing HTTP server on 127.0.0.1 (used as a webhook)."""
    path = REPO / "tests" / "unit" / "plugins" / "module_utils" / "fakeregistry.py"
    spec = importlib.util.spec_from_file_location("fd_fakeregistry", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Webhook:
    """A webhook receiver: answers POST /hook with 204 and keeps every JSON body."""

    def __init__(self) -> None:
        fake = load_fake_server()
        self.bodies: list = []
        self.server = fake.FakeRegistry()

        def capture(handler):
            length = int(handler.headers.get("Content-Length") or 0)
            self.bodies.append(json.loads(handler.rfile.read(length) or b"null"))
            return fake.Reply(204)

        self.server.routes[("POST", "/hook")] = capture
        self.url = f"http://{self.server.host}/hook"

    def __enter__(self) -> Webhook:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.__exit__(*exc)

    def take(self) -> list:
        """The bodies received so far, emptied."""
        out, self.bodies[:] = list(self.bodies), []
        return out
