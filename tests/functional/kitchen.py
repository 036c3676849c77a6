"""The kitchen-sink container: every kind of user setting a faithful re-create must keep (shared by tests)."""

from __future__ import annotations

import random
import subprocess
import tempfile
import uuid
from pathlib import Path

import docker

from sandbox.images import DEFAULT_PATH

SECOND = 1_000_000_000
TMPFS = {"/run/t": "size=1m,mode=1777"}
V1 = {
    "Env": [DEFAULT_PATH, "A=1", "B=2"],
    "Cmd": ["sh", "-c", "echo v1 > /run/t/cmd; exec sleep 3600"],
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": SECOND, "Timeout": SECOND, "Retries": 3},
    "Labels": {"org.opencontainers.image.version": "v1", "app.label": "one", "app.same": "same"},
    "WorkingDir": "/srv",
    "Volumes": {"/data": {}},
    "ExposedPorts": {"8080/tcp": {}},
}
V2 = {
    "Env": [DEFAULT_PATH, "A=10", "B=20", "C=3"],
    "Cmd": ["sh", "-c", "echo v2 > /run/t/cmd; exec sleep 3600"],
    "Healthcheck": {"Test": ["CMD-SHELL", "test -d /"], "Interval": 2 * SECOND, "Timeout": 2 * SECOND, "Retries": 4},
    "Labels": {"org.opencontainers.image.version": "v2", "app.label": "two", "app.same": "same", "app.new": "yes"},
    "WorkingDir": "/srv2",
    "Volumes": {"/data": {}},
    "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}},
}
COMPOSE_LABELS = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web",
                  "com.docker.compose.config-hash": "abc123", "com.docker.compose.depends_on": "db:service_started:false"}


class Made:
    """Everything a test creates, removed in reverse order whatever happened."""

    def __init__(self, api) -> None:
        self.api = api
        self.containers: list = []
        self.volumes: list = []
        self.networks: list = []

    def cleanup(self) -> None:
        for container in reversed(self.containers):
            try:
                self.api.remove_container(container, v=True, force=True)
            except docker.errors.NotFound:
                pass
        for name in self.volumes:
            try:
                self.api.remove_volume(name, force=True)
            except docker.errors.NotFound:
                pass
        for network in self.networks:
            self.api.remove_network(network)


def free_subnets(count: int) -> list:
    """Private /24s no route uses (for --internal networks only: no traffic ever leaves them)."""
    routes = subprocess.run(["ip", "-o", "route"], capture_output=True, text=True, check=False).stdout
    found: list = []
    while len(found) < count:
        subnet = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24"
        if subnet.rsplit(".", 2)[0] + "." not in routes and subnet not in found:
            found.append(subnet)
    return found


def exec_ok(api, container: str, command: str, user: str = "root") -> str:
    exec_id = api.exec_create(container, ["sh", "-c", command], user=user)["Id"]
    output = api.exec_start(exec_id).decode()
    assert api.exec_inspect(exec_id)["ExitCode"] == 0, output
    return output.strip()


def make_kitchen_sink(api, made, image: str, labels: dict | None = None) -> dict:
    """Start it (two --internal networks, named/bind/anonymous volumes, a netns dependent, …); return its parts."""
    labels = labels or {}
    tag = uuid.uuid4().hex[:6]
    net_a, net_b = f"fdc-a-{tag}", f"fdc-b-{tag}"
    subnet_a, subnet_b = free_subnets(2)
    ip_a, ip_b = subnet_a.replace(".0/24", ".10"), subnet_b.replace(".0/24", ".10")
    for net, subnet in ((net_a, subnet_a), (net_b, subnet_b)):
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        api.create_network(net, internal=True, ipam=ipam)
        made.networks.append(net)
    named = f"fdc-named-{tag}"
    api.create_volume(named)
    made.volumes.append(named)
    bind_dir = tempfile.mkdtemp(prefix="fdc-bind-")
    Path(bind_dir, "host-file").write_text("from host\n")

    host_config = api.create_host_config(
        binds=[f"{bind_dir}:/bind:ro", f"{named}:/named"], tmpfs=TMPFS,
        mounts=[docker.types.Mount("/mounted", None, type="volume")],  # `--mount type=volume,dst=...`: no name
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3}, cap_add=["NET_ADMIN"], cap_drop=["MKNOD"],
        ulimits=[docker.types.Ulimit(name="nofile", soft=1024, hard=2048)], mem_limit="64m",
        extra_hosts={"db.example": "10.9.9.9"}, init=True, network_mode=net_a,
        log_config=docker.types.LogConfig(type="json-file", config={"max-size": "1m"}),
    )
    networking = api.create_networking_config({net_a: api.create_endpoint_config(aliases=["web"], ipv4_address=ip_a)})
    main_name = f"fdc-main-{tag}"
    main = api.create_container(
        image, name=main_name, environment=["B=user", "EXTRA=x=y"], labels=dict({"user.l": "u", "app.label": "mine"}, **labels),
        command=["sh", "-c", "echo main > /run/t/cmd; exec sleep 3600"], user="1000:1000", working_dir="/work",
        healthcheck={"Test": ["CMD-SHELL", "test -f /run/t/cmd"], "Interval": SECOND // 2, "Retries": 5},
        volumes=["/scratch"], host_config=host_config, networking_config=networking)["Id"]
    made.containers.append(main)
    api.connect_container_to_network(main, net_b, aliases=["web-b"], ipv4_address=ip_b)
    made.containers.append(main)
    api.start(main)
    exec_ok(api, main, "echo keep > /data/file; echo scratch > /scratch/file; echo mounted > /mounted/file")
    dep_name = f"fdc-dep-{tag}"
    dep = api.create_container(image, name=dep_name, command=["sleep", "3600"],
                               host_config=api.create_host_config(network_mode=f"container:{main_name}", init=True))["Id"]
    made.containers.append(dep)
    api.start(dep)

    return {"main": main, "main_name": main_name, "dep": dep, "dep_name": dep_name, "net_a": net_a, "net_b": net_b,
            "ip_a": ip_a, "ip_b": ip_b, "bind_dir": bind_dir, "named": named}
