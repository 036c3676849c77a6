"""freshdock_update against the real engine and registry: updates, the rollback matrix, check mode, state."""

from __future__ import annotations

import threading

import docker
import pytest
from fdupdate import containers_named, publish_app, start_app, unique, update

from ansible_collections.freshdock.core.plugins.module_utils.errors import FreshdockError


@pytest.fixture
def app(sandbox, docker_client, tmp_path):
    """A running service on v1 (healthy image) with data in a named volume; removed afterwards."""
    registry = sandbox.registries["anon"]
    repo, name = unique("upd/app"), unique("app")
    publish_app(registry, repo, "v1")
    volume = docker_client.volumes.create(unique("data"))
    container = start_app(sandbox, docker_client, registry, repo, name, volumes={volume.name: {"bind": "/data", "mode": "rw"}},
                          restart_policy={"Name": "always"})
    container.exec_run(["sh", "-c", "echo precious > /data/file"])
    state = tmp_path / "state"
    yield {"registry": registry, "repo": repo, "name": name, "id": container.id, "state": state, "volume": volume}
    for leftover in docker_client.containers.list(all=True, filters={"name": name}):
        leftover.remove(force=True)
    volume.remove(force=True)


def _assert_original_back(docker_client, app):
    [name] = containers_named(docker_client, app["name"])
    container = docker_client.containers.get(app["name"])
    assert container.id == app["id"]
    assert container.status == "running"
    assert container.exec_run(["cat", "/data/file"]).output == b"precious\n"
    return name


def test_update_then_idempotent(sandbox, docker_client, app):
    new = publish_app(app["registry"], app["repo"], "v2")
    result, warnings = update(sandbox, app["name"], app["state"])
    assert result["action"] == "updated", result["msg"]
    assert result["changed"] is True and result["failed"] is False
    container = docker_client.containers.get(app["name"])
    assert container.id != app["id"] and container.status == "running"
    assert container.exec_run(["cat", "/data/file"]).output == b"precious\n"
    assert result["current"]["digest"] == new.digest
    assert result["previous"]["id"] == app["id"] and result["current"]["id"] == container.id
    assert set(result["timings"]) >= {"pull", "create", "stop", "start", "health", "downtime"}
    assert 0 < result["timings"]["downtime"] < 5
    assert containers_named(docker_client, app["name"]) == [app["name"]]  # archive removed
    again = update(sandbox, app["name"], app["state"])[0]
    assert (again["action"], again["changed"]) == ("current", False)
    assert warnings == []


def test_check_mode_changes_nothing_and_predicts(sandbox, docker_client, app):
    images_before = sorted(i.id for i in docker_client.images.list(all=True))
    result = update(sandbox, app["name"], app["state"], check_mode=True)[0]
    assert (result["action"], result["changed"]) == ("current", False)
    publish_app(app["registry"], app["repo"], "v2")
    result = update(sandbox, app["name"], app["state"], check_mode=True)[0]
    assert (result["action"], result["changed"]) == ("updated", True)
    assert result["diff"]["before"]["id"] == app["id"]
    assert result["diff"]["after"]["id"] == "(new container)"
    assert sorted(i.id for i in docker_client.images.list(all=True)) == images_before  # no pull
    _assert_original_back(docker_client, app)
    assert not app["state"].exists()  # check mode writes no state either


ROLLBACKS = [
    ("unhealthy", "unhealthy"),
    ("exits", "exited"),
    ("restart-loop", "restart"),
    ("bad-user", "did not start"),
    ("never-ready", "timeout"),
]


@pytest.mark.parametrize(("behaviour", "reason"), ROLLBACKS)
def test_rollback_restores_the_original(sandbox, docker_client, app, behaviour, reason):
    new = publish_app(app["registry"], app["repo"], "v2", behaviour)
    result = update(sandbox, app["name"], app["state"], health_timeout=3.0)[0]
    assert result["action"] == "rolled_back", result["msg"]
    assert result["failed"] is True and result["changed"] is True
    assert reason in result["rollback"]["reason"]
    assert result["rollback"]["restored_id"] == app["id"]
    if behaviour in ("exits", "restart-loop"):
        assert any("bye" in line or "crashing" in line for line in result["rollback"]["logs"])
    _assert_original_back(docker_client, app)
    # the failed digest is remembered: not retried until the registry moves
    again = update(sandbox, app["name"], app["state"], health_timeout=3.0)[0]
    assert (again["action"], again["changed"]) == ("skipped", False)
    assert new.digest in again["msg"]
    _assert_original_back(docker_client, app)


def test_rollback_can_be_reported_without_failing(sandbox, docker_client, app):
    publish_app(app["registry"], app["repo"], "v2", "unhealthy")
    result = update(sandbox, app["name"], app["state"], fail_on_rollback=False)[0]
    assert (result["action"], result["failed"]) == ("rolled_back", False)
    _assert_original_back(docker_client, app)


def test_create_rejected_by_the_engine(sandbox, docker_client, tmp_path):
    """The host directory of a bind mount vanished: the engine refuses the new container, the old one stays."""
    registry = sandbox.registries["anon"]
    repo, name = unique("upd/reject"), unique("reject")
    publish_app(registry, repo, "v1")
    source = tmp_path / "config-dir"
    source.mkdir()
    container = start_app(sandbox, docker_client, registry, repo, name,
                          mounts=[docker.types.Mount("/config", str(source), type="bind")])
    try:
        publish_app(registry, repo, "v2")
        source.rmdir()
        result = update(sandbox, name, tmp_path / "state")[0]
        assert result["action"] == "rolled_back" and result["failed"] is True
        assert "rejected the new container" in result["rollback"]["reason"]
        assert "bind source path does not exist" in result["rollback"]["reason"]
        assert result["changed"] is False
        current = docker_client.containers.get(name)
        assert (current.id, current.status) == (container.id, "running")
        assert containers_named(docker_client, name) == [name]
    finally:
        container.remove(force=True)


def test_a_foreign_container_under_the_temp_name_is_never_touched(sandbox, docker_client, app):
    publish_app(app["registry"], app["repo"], "v2")
    blocker = docker_client.containers.create(f"{app['registry'].host}/{app['repo']}:stable", ["true"],
                                              name=f"{app['name']}-freshdock-new", network_mode="none")
    try:
        with pytest.raises(FreshdockError, match="was not made by this run"):
            update(sandbox, app["name"], app["state"])
        assert docker_client.containers.get(blocker.id).name == f"{app['name']}-freshdock-new"
        container = docker_client.containers.get(app["name"])
        assert (container.id, container.status) == (app["id"], "running")
    finally:
        blocker.remove(force=True)


def test_pre_update_hook_failure_skips_and_touches_nothing(sandbox, docker_client, app):
    publish_app(app["registry"], app["repo"], "v2")
    hooks = {"pre_update": "echo not now; exit 1", "pre_update_timeout": 10, "post_update": None, "post_update_timeout": 10}
    result = update(sandbox, app["name"], app["state"], hooks=hooks)[0]
    assert (result["action"], result["changed"]) == ("skipped", False)
    assert "exit code 1" in result["msg"]
    _assert_original_back(docker_client, app)
    deferred = update(sandbox, app["name"], app["state"], hooks=dict(hooks, pre_update="exit 75"))[0]
    assert (deferred["action"], deferred["changed"]) == ("deferred", False)
    _assert_original_back(docker_client, app)


def _delete_blobs(registry, keep: set) -> None:
    for data in (registry.dir / "storage").rglob("blobs/sha256/*/*/data"):
        if data.parent.name not in keep:
            data.unlink()


def test_pull_failure_touches_nothing(sandbox, docker_client, app):
    registry = sandbox.registries["basic"]
    repo, name = unique("upd/pullfail"), unique("pullfail")
    publish_app(registry, repo, "v1")
    container = start_app(sandbox, docker_client, registry, repo, name)
    try:
        new = publish_app(registry, repo, unique("v2"))  # a layer no other test has, so the engine must fetch it
        # the manifest stays (so the tag reads as stale), the layers it needs are gone: the pull must fail
        _delete_blobs(registry, keep={new.digest.split(":")[1]})
        with pytest.raises(FreshdockError, match="could not pull"):
            update(sandbox, name, app["state"])
        current = docker_client.containers.get(name)
        assert (current.id, current.status) == (container.id, "running")
        assert containers_named(docker_client, name) == [name]
    finally:
        container.remove(force=True)


def test_two_concurrent_updates_recreate_once(sandbox, docker_client, app):
    publish_app(app["registry"], app["repo"], "v2", "slow-healthy")
    results = []

    def run():
        results.append(update(sandbox, app["name"], app["state"])[0])
    threads = [threading.Thread(target=run) for _thread in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r["action"] for r in results) == ["current", "updated"]
    assert containers_named(docker_client, app["name"]) == [app["name"]]


def test_unknown_container_is_a_clear_error(sandbox, tmp_path):
    with pytest.raises(FreshdockError, match="no container named 'no-such-app-fd'"):
        update(sandbox, "no-such-app-fd", tmp_path / "state")


def test_a_rolled_back_digest_is_retried_once_the_registry_moves(sandbox, docker_client, app):
    publish_app(app["registry"], app["repo"], "v2", "unhealthy")
    assert update(sandbox, app["name"], app["state"])[0]["action"] == "rolled_back"
    assert update(sandbox, app["name"], app["state"])[0]["action"] == "skipped"
    forced = update(sandbox, app["name"], app["state"], force=True)[0]
    assert forced["action"] == "rolled_back"  # force retries it (and it fails again)
    publish_app(app["registry"], app["repo"], "v3")
    result = update(sandbox, app["name"], app["state"])[0]
    assert result["action"] == "updated", result["msg"]


def test_cleanup_removes_the_old_image_only_when_unused(sandbox, docker_client, app):
    old_image = docker_client.containers.get(app["name"]).image.id
    sibling = docker_client.containers.create(old_image, ["true"], name=unique("sibling"), network_mode="none")
    try:
        publish_app(app["registry"], app["repo"], unique("v2"))
        result, warnings = update(sandbox, app["name"], app["state"], cleanup=True)
        assert result["action"] == "updated"
        assert any("still use it" in warning for warning in warnings)
        assert docker_client.images.get(old_image).id == old_image
    finally:
        sibling.remove(force=True)
    publish_app(app["registry"], app["repo"], unique("v3"))
    previous = docker_client.containers.get(app["name"]).image.id
    result, warnings = update(sandbox, app["name"], app["state"], cleanup=True)
    assert result["action"] == "updated" and warnings == []
    assert previous not in [image.id for image in docker_client.images.list(all=True)]


def test_dependents_follow_after_rollback(sandbox, docker_client, app):
    dependent = docker_client.containers.run(f"{app['registry'].host}/{app['repo']}:stable", ["sleep", "600"], detach=True,
                                             name=unique("dep"), network_mode=f"container:{app['name']}", init=True)
    try:
        publish_app(app["registry"], app["repo"], "v2", "unhealthy")
        result = update(sandbox, app["name"], app["state"])[0]
        assert result["action"] == "rolled_back"
        [report] = result["dependents"]
        assert report["result"] == "recreated", report
        rebuilt = docker_client.containers.get(dependent.name)
        assert rebuilt.status == "running"
        netns = ["busybox", "readlink", "/proc/self/ns/net"]
        assert rebuilt.exec_run(netns).output == docker_client.containers.get(app["name"]).exec_run(netns).output
    finally:
        for leftover in docker_client.containers.list(all=True, filters={"name": dependent.name}):
            leftover.remove(force=True)
