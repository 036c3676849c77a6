"""resolve_on: controller at module level: hosts export facts, the controller asks each registry once per tag."""

from __future__ import annotations

import uuid

from fdcheck import registry_entry
from test_request_count import settle

from ansible_collections.freshdock.core.plugins.module_utils.digest_run import DIGEST_ARGS, run_digest
from ansible_collections.freshdock.core.plugins.module_utils.options import ENGINE_ARGS, REGISTRY_ARGS, default_params
from sandbox.images import publish
from sandbox.registry import access_entries
from sandbox.sandbox import pull_image
from sandbox.tokenserver import read_token_log

ARGS = dict(DIGEST_ARGS, **ENGINE_ARGS, **REGISTRY_ARGS)


def test_three_hosts_five_images_cost_five_heads(sandbox, tmp_path):
    assert len(sandbox.engines) >= 3
    registry = sandbox.registries["bearer"]
    run = uuid.uuid4().hex[:6]
    repos = [f"fleet-{run}/svc{index}" for index in range(5)]
    for index, repo in enumerate(repos):
        publish(registry, repo, "v1", kind="oci-index" if index % 2 else "docker")
    made = []
    try:
        for host in range(3):
            client = sandbox.client(host)
            for repo in repos:
                pull_image(client, registry, repo, "v1")
                container = client.containers.create(f"{registry.host}/{repo}:v1", ["sleep", "600"],
                                                     network_mode="none", labels={"fd.fleet": run})
                made.append((host, container))
        host_entries = []
        for host in range(3):
            params = default_params(ARGS, docker_host=sandbox.engine(host).docker_host, resolve=False, include_stopped=True,
                                    container_filters={"label": [f"fd.fleet={run}"]}, registries=[],
                                    docker_config_path="/nonexistent/config.json", state_dir=str(tmp_path))
            result, _warnings = run_digest(params)
            assert {entry["status"] for entry in result["results"]} == {"unresolved"}
            host_entries += [dict(entry, host=f"host{host}") for entry in result["results"]]
        before_heads = len(access_entries(registry.log))
        before_tokens = len(read_token_log(registry.token_log))
        controller = default_params(ARGS, resolve_facts=host_entries, registries=[registry_entry(registry)],
                                    docker_config_path="/nonexistent/config.json")
        result, warnings = run_digest(controller)
        assert warnings == []
        assert result["engine"] is None
        assert len(result["results"]) == 15
        assert {entry["status"] for entry in result["results"]} == {"current"}
        assert sorted({entry["host"] for entry in result["results"]}) == ["host0", "host1", "host2"]
        heads = [e for e in settle(registry.log, before_heads) if e.method == "HEAD" and "/manifests/" in e.path]
        assert len(heads) == 5
        assert len(read_token_log(registry.token_log)[before_tokens:]) == 1
        # a moved tag is stale on every host that runs it
        publish(registry, repos[0], "v1", version="v2")
        result, _warnings = run_digest(controller)
        stale = sorted(entry["host"] for entry in result["results"] if entry["status"] == "stale")
        assert stale == ["host0", "host1", "host2"]
    finally:
        for _client, container in made:
            container.remove(force=True)
