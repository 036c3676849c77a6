"""Turn the EXAMPLES of a freshdock module into a tasks file that runs against the sandbox.

python render_examples.py MODULE_PY SANDBOX_JSON OUT_TASKS OUT_VARS

* EXAMPLES is read with ast (the module is never imported); the module's name is the file's name.
* MODULES below holds, per module, the complete, explicit list of placeholder -> sandbox value. The variables
  the examples use (supplied vars) are set by the playbook (tests/integration/site.yml), not substituted.
* After substitution the examples must contain no placeholder: no example.com-style host, no absolute
  path that does not exist, no literal registry/credential/path option that is not a substitution result,
  and no Jinja variable that is neither supplied nor registered by an earlier example. Anything else
  exits 2 with what to add to the list.
* Every call of the module without `register` gets `register: fd_example_<N>` (N = 1-based task
  index) so that the target can assert on its result; OUT_VARS lists those register names as
  fd_example_registers, and the substituted values the target needs (container names, ports) as
  fd_example_values.
"""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import sys
from typing import Any

import jinja2
import jinja2.meta
import yaml

ANSIBLE_MAGIC = {"item", "inventory_hostname", "hostvars", "groups", "group_names", "ansible_check_mode",
                 "omit", "role_path", "playbook_dir"}
CONDITIONAL_KEYS = {"that", "when", "failed_when", "changed_when", "until"}
# Option keys whose literal values are placeholders unless a substitution produced them.
SENSITIVE_KEYS = {"registry", "username", "password", "ca_path", "docker_host", "docker_url", "docker_config_path",
                  "tls_ca_path", "tls_client_cert", "tls_client_key"}
PLACEHOLDER_HOST = re.compile(r"(?i)(^|[^\w.-])[\w.-]*\b(example\.(com|org|net)|[\w-]+\.(example|invalid|localdomain))\b")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def digest_substitutions(state: dict) -> tuple:
    """(kind, placeholder, replacement): 'sub' replaces inside any string, 'exact' whole strings only; values."""
    bearer = state["registries"]["bearer"]
    return [
        ("sub", "registry.example.com", bearer["host"]),
        ("exact", "/etc/pki/private-ca.pem", state["registries"]["tls"]["ca_path"]),
        ("exact", "ci", bearer["username"]),  # `username: ci` of the private-registry example
    ], {}


def update_substitutions(state: dict) -> tuple:
    """The examples' containers get names of their own on the shared sandbox engine; the API's readiness URL
    a free port (the target starts the API's HTTP server on it, on the host network)."""
    port = _free_port()
    names = {"web": "fd-it-upd-web", "api": "fd-it-upd-api", "db": "fd-it-upd-db"}
    subs = [("exact", example, ours) for example, ours in names.items()]
    subs.append(("sub", "127.0.0.1:8080", f"127.0.0.1:{port}"))
    return subs, dict(names, readiness_port=port)


# module -> (variables the examples use, which the playbook defines from sandbox.json; substitutions)
MODULES = {
    "freshdock.core.freshdock_digest": ({"vault_registry_token", "engine_url"}, digest_substitutions),
    "freshdock.core.freshdock_update": (set(), update_substitutions),
}


def read_examples(module_path: str) -> str:
    tree = ast.parse(open(module_path, encoding="utf-8").read(), module_path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "EXAMPLES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{module_path}: no EXAMPLES")


class Renderer:
    def __init__(self, subs: list) -> None:
        self.subs = subs
        self.used: set = set()
        self.outputs = {sub[2] for sub in subs}
        self.problems: list = []
        self.env = jinja2.Environment()

    def substitute(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.substitute(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if isinstance(value, str):
            for kind, old, new in self.subs:
                if (kind == "exact" and value == old) or (kind == "sub" and old in value):
                    self.used.add(old)
                    value = new if kind == "exact" else value.replace(old, new)
        return value

    def check(self, where: str, value: Any, key: str | None, known: set) -> None:
        if isinstance(value, dict):
            for child_key, item in value.items():
                self.check(f"{where}.{child_key}", item, child_key, known)
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.check(f"{where}[{index}]", item, key, known)
            return
        if not isinstance(value, str):
            return
        templated = "{{" in value or "{%" in value or key in CONDITIONAL_KEYS
        if PLACEHOLDER_HOST.search(value):
            self.problems.append(f"{where}: placeholder host in {value!r}")
        if not templated and value.startswith("/") and value not in self.outputs and not os.path.exists(value):
            self.problems.append(f"{where}: path {value!r} does not exist here")
        if not templated and key in SENSITIVE_KEYS and value not in self.outputs:
            self.problems.append(f"{where}: literal {key} {value!r} is not covered by a substitution")
        if templated:
            source = value if "{{" in value or "{%" in value else "{{ " + value + " }}"
            try:
                names = jinja2.meta.find_undeclared_variables(self.env.parse(source))
            except jinja2.TemplateSyntaxError as exc:
                self.problems.append(f"{where}: Jinja syntax error {exc}")
                return
            unknown = {n for n in names if n not in known and not n.startswith("ansible_")}
            if unknown:
                self.problems.append(f"{where}: undefined variable(s) {sorted(unknown)}")


def main(module_path: str, state_path: str, out_tasks: str, out_vars: str) -> int:
    module = "freshdock.core." + os.path.splitext(os.path.basename(module_path))[0]
    if module not in MODULES:
        raise SystemExit(f"{module}: no substitution list in {os.path.basename(__file__)} (add one to MODULES)")
    supplied, make_substitutions = MODULES[module]
    state = json.load(open(state_path, encoding="utf-8"))
    tasks = yaml.safe_load(read_examples(module_path))
    if not isinstance(tasks, list) or not tasks:
        raise SystemExit("EXAMPLES is not a non-empty list of tasks")
    subs, values = make_substitutions(state)
    renderer = Renderer(subs)
    known = supplied | ANSIBLE_MAGIC
    registers: list = []
    rendered = []
    for number, example in enumerate(tasks, start=1):
        task = renderer.substitute(example)
        renderer.check(f"example task {number} ({task.get('name', '?')})", task, None, known)
        if module in task:
            task.setdefault("register", f"fd_example_{number}")
            registers.append(task["register"])
        if "register" in task:
            known = known | {task["register"]}
        rendered.append(task)
    unused = [sub[1] for sub in renderer.subs if sub[1] not in renderer.used]
    if unused:
        renderer.problems.append(f"substitutions no example uses any more (drop them): {unused}")
    if not registers:
        renderer.problems.append(f"no example calls {module}")
    if renderer.problems:
        print("EXAMPLES of the module have placeholders the substitution list in "
              f"{os.path.basename(__file__)} does not cover:", file=sys.stderr)
        for problem in renderer.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    header = f"# Generated by tests/integration/{os.path.basename(__file__)} from {module} EXAMPLES; do not edit.\n"
    with open(out_tasks, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump(rendered, sort_keys=False, width=120))
    with open(out_vars, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump({"fd_example_registers": registers, "fd_example_count": len(rendered),
                                              "fd_example_values": values}, sort_keys=False))
    print(f"{len(rendered)} example tasks, {len(registers)} {module} calls -> {out_tasks}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
