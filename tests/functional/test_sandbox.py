"""Tests of the test bed itself: engines, registries, token server, image publishing, teardown."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import procs
from sandbox.engine import Engine, engine_info
from sandbox.images import KINDS, build_local_image, publish
from sandbox.mounts import mounts_under
from sandbox.registry import Registry, access_entries
from sandbox.sandbox import Sandbox, pull_image, run_dir_for
from sandbox.tokenserver import read_token_log

REGISTRIES = ("anon", "basic", "bearer", "tls")
ACCEPT_ALL = (
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
SANDBOX_PKG = str(Path(__file__).resolve().parents[1] / "sandbox")


def _repo(prefix: str) -> str:
    # Unique per test so a reused (FD_SANDBOX_DIR) sandbox never sees collisions.
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify= on this machine
    return session


def _skopeo_raw(reg: Registry, ref: str, *extra: str) -> bytes:
    args = ["skopeo", "inspect", "--raw", *extra]
    args += ["--cert-dir", reg.cert_dir] if reg.cert_dir else ["--tls-verify=false"]
    if reg.auth:
        args += ["--creds", f"{reg.username}:{reg.password}"]
    done = subprocess.run([*args, f"docker://{ref}"], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _get_manifest(reg: Registry, repo: str, ref: str) -> requests.Response:
    """GET through the registry's own auth flow (Basic, or Bearer via the token server)."""
    session = _session()
    headers = {"Accept": ACCEPT_ALL}
    url = f"{reg.url}/v2/{repo}/manifests/{ref}"
    if reg.token_url:
        token = session.get(reg.token_url, params={"service": "fd-test", "scope": f"repository:{repo}:pull"},
                            auth=reg.auth, timeout=10).json()["access_token"]
        headers["Authorization"] = f"Bearer {token}"
    resp = session.get(url, headers=headers, auth=None if reg.token_url else reg.auth, verify=reg.verify, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp


def _our_processes(*markers: str) -> list[str]:
    return [procs.cmdline(pid) for marker in markers for pid in procs.pids_mentioning(marker) if procs.alive(pid)]


# ---------------------------------------------------------------------------------------------- engine
def test_engine_is_private(sandbox: Sandbox, docker_client: Any) -> None:
    engine = sandbox.engine(0)
    info = engine_info(engine)
    assert info["DockerRootDir"] == str(engine.data_root)
    assert info["Driver"] == "overlay2"
    assert len(str(engine.socket)) < 100
    assert engine.docker_host != "unix:///var/run/docker.sock"
    names = {net.name for net in docker_client.networks.list()}
    assert "bridge" not in names  # --bridge=none
    assert docker_client.ping()
    assert engine.pidfile.exists() and procs.read_pid(engine.pidfile) == engine.pid


def test_sandbox_json_round_trip(sandbox: Sandbox) -> None:
    state = json.loads((sandbox.dir / "sandbox.json").read_text())
    assert state["dir"] == str(sandbox.dir)
    assert state["engines"][0]["docker_host"].startswith("unix:///run/fdsb-")
    assert set(state["registries"]) == set(REGISTRIES)
    assert state["registries"]["basic"]["username"] == "fduser" and state["registries"]["basic"]["password"]
    assert state["registries"]["bearer"]["token_url"].startswith("http://127.0.0.1:")
    assert state["registries"]["tls"]["url"].startswith("https://127.0.0.1:")
    assert Path(state["registries"]["tls"]["ca_path"]).is_file()
    for reg in state["registries"].values():
        assert reg["host"].startswith("127.0.0.1:")
    assert Sandbox.load(sandbox.dir).to_dict()["registries"] == state["registries"]
    status = subprocess.run([sys.executable, "-m", "sandbox", "status", "--dir", str(sandbox.dir)],
                            capture_output=True, text=True, cwd=SANDBOX_PKG, check=False)
    assert status.returncode == 0 and all(json.loads(status.stdout).values()), status.stderr


# ---------------------------------------------------------------------------------------------- registries
def test_registry_challenges(sandbox: Sandbox) -> None:
    regs = sandbox.registries
    session = _session()
    assert session.get(f"{regs['anon'].url}/v2/", timeout=5).status_code == 200
    basic = session.get(f"{regs['basic'].url}/v2/", timeout=5)
    assert basic.status_code == 401 and basic.headers["WWW-Authenticate"].startswith("Basic ")
    assert session.get(f"{regs['basic'].url}/v2/", auth=regs["basic"].auth, timeout=5).status_code == 200
    bearer = session.get(f"{regs['bearer'].url}/v2/", timeout=5)
    assert bearer.status_code == 401
    challenge = bearer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and f'realm="{regs["bearer"].token_url}"' in challenge
    assert 'service="fd-test"' in challenge


def test_tls_registry_needs_the_ca(sandbox: Sandbox) -> None:
    tls = sandbox.registries["tls"]
    session = _session()
    assert session.get(f"{tls.url}/v2/", verify=tls.ca_path, timeout=5).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{tls.url}/v2/", verify=True, timeout=5)
    localhost = tls.url.replace("127.0.0.1", "localhost")
    assert session.get(f"{localhost}/v2/", verify=tls.ca_path, timeout=5).status_code == 200


def test_access_log_counts_requests(sandbox: Sandbox) -> None:
    reg = sandbox.registries["basic"]
    repo = _repo("log")
    result = publish(reg, repo, "v1")
    before = len(access_entries(reg.log))
    session = _session()
    url = f"{reg.url}/v2/{repo}/manifests/v1"
    assert session.head(url, headers={"Accept": ACCEPT_ALL}, timeout=5).status_code == 401
    ok = session.head(url, headers={"Accept": ACCEPT_ALL}, auth=reg.auth, timeout=5)
    assert ok.headers["Docker-Content-Digest"] == result.digest
    new = access_entries(reg.log)[before:]
    assert [(e.method, e.path, e.status) for e in new] == [
        ("HEAD", f"/v2/{repo}/manifests/v1", 401), ("HEAD", f"/v2/{repo}/manifests/v1", 200)]


# ---------------------------------------------------------------------------------------------- publishing
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", REGISTRIES)
def test_publish_matches_skopeo_and_pulls(sandbox: Sandbox, docker_client: Any, name: str, kind: str) -> None:
    reg = sandbox.registries[name]
    repo = _repo(f"pub/{kind}")
    result = publish(reg, repo, "latest", kind)
    raw = _skopeo_raw(reg, result.ref)
    assert raw == result.raw
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == result.digest
    assert result.digest == _get_manifest(reg, repo, "latest").headers["Docker-Content-Digest"]
    image = pull_image(docker_client, reg, repo, "latest")
    assert result.pinned in image.attrs["RepoDigests"]
    # Classic image store: the image ID is the selected platform's config digest.
    assert image.id == result.configs["linux/amd64"]
    docker_client.images.remove(image.id, force=True)


@pytest.mark.parametrize("kind", ["docker-list", "oci-index"])
def test_attestation_entry(sandbox: Sandbox, kind: str) -> None:
    reg = sandbox.registries["anon"]
    repo = _repo("att")
    result = publish(reg, repo, "latest", kind, attestation=True)
    index = json.loads(_get_manifest(reg, repo, "latest").content)
    unknown = [m for m in index["manifests"] if m["platform"] == {"architecture": "unknown", "os": "unknown"}]
    assert len(unknown) == 1 and unknown[0]["digest"] == result.attestation
    assert unknown[0]["annotations"] == {"vnd.docker.reference.type": "attestation-manifest",
                                         "vnd.docker.reference.digest": result.manifests["linux/amd64"]}
    assert len(index["manifests"]) == 4
    plain = publish(reg, _repo("att"), "latest", kind)
    assert plain.manifests == result.manifests and plain.digest != result.digest


def test_platform_versions_keep_amd64_identical(sandbox: Sandbox) -> None:
    reg = sandbox.registries["bearer"]
    repo = _repo("plat")
    first = publish(reg, repo, "latest", "oci-index")
    again = publish(reg, repo, "latest", "oci-index")
    assert again.digest == first.digest  # deterministic
    second = publish(reg, repo, "latest", "oci-index", platform_versions={"linux/arm64/v8": "v2"})
    assert second.digest != first.digest
    assert second.manifests["linux/amd64"] == first.manifests["linux/amd64"]
    assert second.configs["linux/amd64"] == first.configs["linux/amd64"]
    assert second.manifests["linux/arm64/v8"] != first.manifests["linux/arm64/v8"]
    stored = _get_manifest(reg, repo, first.manifests["linux/amd64"]).content
    assert "sha256:" + hashlib.sha256(stored).hexdigest() == first.manifests["linux/amd64"]
    arm = _skopeo_raw(reg, f"{reg.host}/{repo}:latest", "--override-arch", "arm64", "--override-variant", "v8")
    assert arm == second.raw  # --raw without --config returns the index itself
    bumped = publish(reg, repo, "latest", "oci-index", version="v3")
    assert bumped.manifests["linux/amd64"] != first.manifests["linux/amd64"]


def test_image_config_is_settable_and_runs(sandbox: Sandbox, docker_client: Any) -> None:
    reg = sandbox.registries["anon"]
    repo = _repo("cfg")
    config = {"Env": ["PATH=/bin", "MODE=blue"], "Cmd": ["cat", "/etc/fd-version"], "WorkingDir": "/tmp",
              "User": "0", "Labels": {"com.example.tier": "web"}, "ExposedPorts": {"8080/tcp": {}},
              "Volumes": {"/data": {}}, "StopSignal": "SIGINT",
              "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 1_000_000_000, "Retries": 2}}
    publish(reg, repo, "v7", "docker", version="v7", config=config)
    image = pull_image(docker_client, reg, repo, "v7")
    got = image.attrs["Config"]
    for key, value in config.items():
        assert got[key] == value, key
    out = docker_client.containers.run(f"{reg.host}/{repo}:v7", remove=True, network_mode="none")
    assert out == b"v7\n"
    docker_client.images.remove(image.id, force=True)


def test_local_image_has_no_repo_digests(docker_client: Any) -> None:
    tag = f"local/{_repo('built')}:v1"
    image = build_local_image(docker_client, tag, version="v5", config={
        "Healthcheck": {"Test": ["CMD-SHELL", "test -f /etc/fd-version"], "Interval": 500_000_000},
        "Labels": {"a": "b"}})
    assert image.attrs["RepoDigests"] == []
    assert image.attrs["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "test -f /etc/fd-version"]
    assert image.attrs["Config"]["Labels"] == {"a": "b"}
    out = docker_client.containers.run(tag, ["sh", "-c", "cat /etc/fd-version; ls /bin/sleep"], remove=True,
                                       network_mode="none")
    assert out == b"v5\n/bin/sleep\n"
    docker_client.images.remove(image.id, force=True)


# ---------------------------------------------------------------------------------------------- token server
def test_token_server(sandbox: Sandbox) -> None:
    reg = sandbox.registries["bearer"]
    assert reg.token_url and reg.token_log
    session = _session()
    repo = _repo("tok")
    publish(reg, repo, "latest")
    before = len(read_token_log(reg.token_log))
    scopes = [f"repository:{repo}:pull", "repository:other:pull,push"]
    good = session.get(reg.token_url, params={"service": "fd-test", "scope": scopes}, auth=reg.auth, timeout=5)
    assert good.status_code == 200 and set(good.json()) == {"access_token"}  # no token, no expires_in
    bad = session.get(reg.token_url, params={"scope": scopes[0]}, auth=(reg.username, "wrong"), timeout=5)
    assert bad.status_code == 401
    anon = session.get(reg.token_url, params={"service": "fd-test", "scope": scopes[0]}, timeout=5)
    assert anon.status_code == 200
    denied = session.get(f"{reg.url}/v2/{repo}/manifests/latest", headers={
        "Authorization": f"Bearer {anon.json()['access_token']}", "Accept": ACCEPT_ALL}, timeout=5)
    assert denied.status_code == 401 and 'error="insufficient_scope"' in denied.headers["WWW-Authenticate"]
    allowed = session.get(f"{reg.url}/v2/{repo}/manifests/latest", headers={
        "Authorization": f"Bearer {good.json()['access_token']}", "Accept": ACCEPT_ALL}, timeout=5)
    assert allowed.status_code == 200
    new = read_token_log(reg.token_log)[before:]
    assert [(e.username, e.status) for e in new] == [("fduser", 200), ("fduser", 401), (None, 200)]
    assert new[0].scopes == scopes
    sandbox.set_token_shape("full", expires_in=60)
    try:
        full = session.get(reg.token_url, params={"scope": scopes[0]}, auth=reg.auth, timeout=5).json()
        assert full["expires_in"] == 60 and full["token"] == full["access_token"]
    finally:
        sandbox.set_token_shape()


# ---------------------------------------------------------------------------------------------- lifecycle
class _BrokenEngine(Engine):
    def _config_file(self) -> Path:
        path = self.dir / "daemon.json"
        path.write_text("{not json")
        return path


def test_broken_engine_reports_its_log(tmp_path: Path) -> None:
    engine = _BrokenEngine("broken", tmp_path / "broken", run_dir_for(tmp_path) / "b")
    try:
        engine.start()
        with pytest.raises(procs.SandboxError, match=r"dockerd broken did not come up[\s\S]*daemon.json"):
            engine.wait_ready(timeout=20)
    finally:
        assert engine.stop() == []
        run_dir_for(tmp_path).rmdir()


def _pids_in_cgroups_of(container_ids: list[str]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cgroups = (entry / "cgroup").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if any(cid in cgroups for cid in container_ids) and procs.alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_second_sandbox_with_two_engines_tears_down_clean(tmp_path: Path) -> None:
    directory = tmp_path / "bed"
    Sandbox.up(directory, engines=1)
    bed = Sandbox.up(directory, engines=2)  # replaces the leftovers of the first
    run_dir = run_dir_for(directory)
    assert [e.name for e in bed.engines] == ["engine0", "engine1"]
    # Distinct daemon IDs: each engine must look like its own host.
    assert engine_info(bed.engines[0])["ID"] != engine_info(bed.engines[1])["ID"]
    reg = bed.registries["bearer"]
    result = publish(reg, "two/engines", "latest", "docker-list")
    ids = []
    for index in (0, 1):
        client = bed.client(index)
        image = pull_image(client, reg, "two/engines", "latest")
        assert result.pinned in image.attrs["RepoDigests"]
        container = client.containers.run(image.id, ["sleep", "300"], detach=True, init=bool(index),
                                          network_mode="none")
        ids.append(container.id)
        client.close()
    assert len(_pids_in_cgroups_of(ids)) >= 2
    assert mounts_under(directory, run_dir)  # overlay + shm mounts exist while containers run
    # A crashed dockerd leaves containerd-shims, containers and mounts behind; down must still clean up.
    procs.kill_now(bed.engines[0].pid or 0)
    down = subprocess.run([sys.executable, "-m", "sandbox", "down", "--dir", str(directory)], capture_output=True,
                          text=True, cwd=SANDBOX_PKG, timeout=120, check=False)
    assert down.returncode == 0, down.stderr
    assert _our_processes(str(directory), str(run_dir)) == []
    assert _pids_in_cgroups_of(ids) == []
    assert mounts_under(directory, run_dir) == []
    assert not run_dir.exists() and not (directory / "sandbox.json").exists()
    assert not (directory / "engines").exists()
