"""Cost of a check, counted at the real registry and token server: one HEAD per unique tag, one token."""

from __future__ import annotations

import time
import uuid

from fdcheck import check, registry_entry

from sandbox.images import publish
from sandbox.registry import access_entries
from sandbox.sandbox import pull_image
from sandbox.tokenserver import read_token_log


def settle(log, count_before: int) -> list:
    """The registry writes its access log asynchronously; wait until it stops growing."""
    entries, previous = access_entries(log), -1
    for _attempt in range(20):
        if len(entries) == previous:
            break
        previous = len(entries)
        time.sleep(0.1)
        entries = access_entries(log)
    return entries[count_before:]


def test_twenty_containers_over_ten_repositories_cost_ten_heads_and_one_token(sandbox, docker_client):
    registry = sandbox.registries["bearer"]
    run = uuid.uuid4().hex[:6]
    label = {"fd.count": run}
    containers = []
    try:
        for index in range(10):
            repo = f"count-{run}/app{index}"
            publish(registry, repo, "v1", kind="docker-list" if index % 2 else "oci")
            pull_image(docker_client, registry, repo, "v1")
            for copy in range(2):
                containers.append(docker_client.containers.create(
                    f"{registry.host}/{repo}:v1", ["sleep", "600"], network_mode="none", labels=label,
                    name=f"fd-count-{run}-{index}-{copy}"))
        requests_before = len(access_entries(registry.log))
        tokens_before = len(read_token_log(registry.token_log))
        result, warnings = check(sandbox, container_filters={"label": [f"fd.count={run}"]}, include_stopped=True,
                                 registries=[registry_entry(registry)])
        assert warnings == []
        assert result["summary"]["total"] == 20
        assert result["summary"]["current"] == 20
        requests = settle(registry.log, requests_before)
        heads = [entry for entry in requests if entry.method == "HEAD" and "/manifests/" in entry.path]
        assert len(heads) == 10
        assert {entry.status for entry in heads} == {200}
        assert not [entry for entry in requests if entry.method == "GET" and "/manifests/" in entry.path]
        tokens = read_token_log(registry.token_log)[tokens_before:]
        assert len(tokens) == 1
        assert len(tokens[0].scopes) == 10
    finally:
        for container in containers:
            container.remove(force=True)
