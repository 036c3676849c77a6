"""Engine and registry chores for the freshdock_update integration target, always on the sandbox engine.

python fd_update_engine.py --dir SANDBOX_DIR publish --registry bearer --repo team/app --tag stable --version V
                           [--behaviour good|unhealthy] [--volume /data ...]
python fd_update_engine.py --dir SANDBOX_DIR setup --registry bearer --spec JSON
python fd_update_engine.py --dir SANDBOX_DIR inspect --name NAME [--name NAME ...]
python fd_update_engine.py --dir SANDBOX_DIR exec --name NAME --command 'sh -c script'
python fd_update_engine.py --dir SANDBOX_DIR rm --label k=v
python fd_update_engine.py --dir SANDBOX_DIR snapshot

`python -m sandbox publish` cannot give an image a healthcheck, so `publish` pushes through sandbox.images.publish
with an image config (what `docker build` would record): `good` has a healthcheck that passes at once,
`unhealthy` one that never does. Both log "<version> starting" and then sleep.

`setup` does in one call (ansible's per-task overhead adds up) what the target needs per service: publish
KEY-v1 (healthy), pull it, run it, wait until its `ready` command passes inside it, publish KEY-v2 (healthy).
JSON spec: [{"key", "name", "repo", "volumes": [...], "network": "none"|"host", "command": "", "ready": "",
"labels": {...}}]; prints {KEY: {"container": <inspect>, "v1": <publish>, "v2": <publish>}}.
`inspect` prints {NAME: {"id", "image_id", "running", "health", "containers_under_name", ...}}.

Needs PYTHONPATH=tests/sandbox (the sandbox package) and the docker SDK. Prints JSON.
The engine is the one in SANDBOX_DIR/sandbox.json, never DOCKER_HOST or the host's daemon.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from sandbox.images import publish
from sandbox.sandbox import Sandbox, pull_image

MS = 1_000_000
CHECK = {"Interval": 200 * MS, "Timeout": 1000 * MS, "Retries": 1}
BEHAVIOURS = {
    "good": {"Test": ["CMD", "true"], **CHECK},
    "unhealthy": {"Test": ["CMD", "false"], **CHECK},
}


def _container(client, name: str) -> dict:
    data = client.api.inspect_container(name)
    state = data["State"]
    prefix = f"{name}-"
    same_name = sorted(c["Names"][0].lstrip("/") for c in client.api.containers(all=True)
                       if c["Names"][0].lstrip("/") == name or c["Names"][0].lstrip("/").startswith(prefix))
    return {"changed": False, "id": data["Id"], "name": data["Name"].lstrip("/"), "image": data["Config"]["Image"],
            "image_id": data["Image"], "status": state["Status"], "running": state["Running"],
            "health": (state.get("Health") or {}).get("Status"), "restart_count": data.get("RestartCount", 0),
            "containers_under_name": same_name}


def _publish(sandbox, registry: str, repo: str, version: str, behaviour: str = "good", volumes: list = (),
             tag: str = "stable") -> dict:
    config = {"Cmd": ["sh", "-c", f"echo {version} starting; exec sleep 600"], "Healthcheck": BEHAVIOURS[behaviour]}
    if volumes:
        config["Volumes"] = {path: {} for path in volumes}
    result = publish(sandbox.registries[registry], repo, tag, kind="docker", version=version, config=config)
    return {"changed": True, "ref": result.ref, "digest": result.digest, "image_id": result.configs["linux/amd64"]}


def _run(client, image: str, name: str, labels: dict, network: str = "none", script: str = "") -> dict:
    command = ["sh", "-c", script] if script else None
    container = client.containers.run(image, command, name=name, detach=True, init=True, network_mode=network, labels=labels)
    return dict(_container(client, container.id), changed=True)


def _setup(sandbox, client, registry: str, spec: list) -> dict:
    out = {}
    for app in spec:
        v1 = _publish(sandbox, registry, app["repo"], f"{app['key']}-v1", volumes=app.get("volumes") or ())
        pull_image(client, sandbox.registries[registry], app["repo"], "stable")
        image = f"{sandbox.registries[registry].host}/{app['repo']}:stable"
        _run(client, image, app["name"], app.get("labels") or {}, app.get("network") or "none", app.get("command") or "")
        if app.get("ready"):
            deadline = time.monotonic() + 20
            while client.containers.get(app["name"]).exec_run(["sh", "-c", app["ready"]]).exit_code != 0:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{app['name']}: {app['ready']!r} did not pass within 20 s")
                time.sleep(0.2)
        v2 = _publish(sandbox, registry, app["repo"], f"{app['key']}-v2", volumes=app.get("volumes") or ())
        out[app["key"]] = {"container": _container(client, app["name"]), "v1": v1, "v2": v2}
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    sub = parser.add_subparsers(dest="action", required=True)
    push = sub.add_parser("publish")
    push.add_argument("--registry", required=True)
    push.add_argument("--repo", required=True)
    push.add_argument("--tag", required=True)
    push.add_argument("--version", required=True)
    push.add_argument("--behaviour", choices=sorted(BEHAVIOURS), default="good")
    push.add_argument("--volume", action="append", default=[], help="a VOLUME of the image")
    setup = sub.add_parser("setup")
    setup.add_argument("--registry", required=True)
    setup.add_argument("--spec", required=True, type=json.loads)
    inspect = sub.add_parser("inspect")
    inspect.add_argument("--name", required=True, action="append")
    execute = sub.add_parser("exec")
    execute.add_argument("--name", required=True)
    execute.add_argument("--command", dest="script", required=True)
    remove = sub.add_parser("rm")
    remove.add_argument("--label", required=True)
    sub.add_parser("snapshot")
    args = parser.parse_args()

    sandbox = Sandbox.load(args.dir)
    if args.action == "publish":
        print(json.dumps(_publish(sandbox, args.registry, args.repo, args.version, args.behaviour, args.volume, args.tag)))
        return 0
    client = sandbox.client(0)
    try:
        if args.action == "setup":
            out = _setup(sandbox, client, args.registry, args.spec)
        elif args.action == "inspect":
            out = {name: _container(client, name) for name in args.name}
        elif args.action == "exec":
            code, output = client.containers.get(args.name).exec_run(["sh", "-c", args.script])
            out = {"changed": False, "rc": code, "output": output.decode(errors="replace")}
        elif args.action == "rm":
            removed = []
            for container in client.containers.list(all=True, filters={"label": args.label}):
                container.remove(force=True, v=True)  # v: the anonymous volumes too
                removed.append(container.name)
            out = {"changed": bool(removed), "removed": sorted(removed)}
        else:
            out = {
                "changed": False,
                "containers": sorted(c["Id"] for c in client.api.containers(all=True)),
                "images": sorted(json.dumps([i["Id"], sorted(i.get("RepoTags") or []), sorted(i.get("RepoDigests") or [])])
                                 for i in client.api.images(all=True)),
                "image_ids": sorted(i["Id"] for i in client.api.images(all=True)),
            }
    finally:
        client.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
