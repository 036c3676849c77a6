"""Turn the EXAMPLES of freshdock_digest into a tasks file that runs against the sandbox.

python render_examples.py MODULE_PY SANDBOX_JSON OUT_TASKS OUT_VARS

* EXAMPLES is read with ast (the module is never imported).
* SUBSTITUTIONS below is the complete, explicit list of placeholder -> sandbox value. The variables the
  examples use (SUPPLIED_VARS) are set by the playbook (tests/integration/site.yml), not substituted.
* After substitution the examples must contain no placeholder: no example.com-style host, no absolute
  path that does not exist, no literal registry/credential/path option that is not a substitution result,
  and no Jinja variable that is neither supplied nor registered by an earlier example. Anything else
  exits 2 with what to add to the list.
* Every freshdock_digest example without `register` gets `register: fd_example_<N>` (N = 1-based task
  index) so that the target can assert on its result; OUT_VARS lists those register names as
  fd_example_registers.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from typing import Any

import jinja2
import jinja2.meta
import yaml

MODULE = "freshdock.core.freshdock_digest"
# Variables the examples use; the playbook defines them from sandbox.json.
SUPPLIED_VARS = {"vault_registry_token", "engine_url"}
ANSIBLE_MAGIC = {"item", "inventory_hostname", "hostvars", "groups", "group_names", "ansible_check_mode",
                 "omit", "role_path", "playbook_dir"}
CONDITIONAL_KEYS = {"that", "when", "failed_when", "changed_when", "until"}
# Option keys whose literal values are placeholders unless a substitution produced them.
SENSITIVE_KEYS = {"registry", "username", "password", "ca_path", "docker_host", "docker_url", "docker_config_path",
                  "tls_ca_path", "tls_client_cert", "tls_client_key"}
PLACEHOLDER_HOST = re.compile(r"(?i)(^|[^\w.-])[\w.-]*\b(example\.(com|org|net)|[\w-]+\.(example|invalid|localdomain))\b")


def substitutions(state: dict) -> list:
    """(kind, placeholder, replacement): 'sub' replaces inside any string, 'exact' whole strings only."""
    bearer = state["registries"]["bearer"]
    return [
        ("sub", "registry.example.com", bearer["host"]),
        ("exact", "/etc/pki/private-ca.pem", state["registries"]["tls"]["ca_path"]),
        ("exact", "ci", bearer["username"]),  # `username: ci` of the private-registry example
    ]


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
    state = json.load(open(state_path, encoding="utf-8"))
    tasks = yaml.safe_load(read_examples(module_path))
    if not isinstance(tasks, list) or not tasks:
        raise SystemExit("EXAMPLES is not a non-empty list of tasks")
    renderer = Renderer(substitutions(state))
    known = SUPPLIED_VARS | ANSIBLE_MAGIC
    registers: list = []
    rendered = []
    for number, example in enumerate(tasks, start=1):
        task = renderer.substitute(example)
        renderer.check(f"example task {number} ({task.get('name', '?')})", task, None, known)
        if MODULE in task:
            task.setdefault("register", f"fd_example_{number}")
            registers.append(task["register"])
        if "register" in task:
            known = known | {task["register"]}
        rendered.append(task)
    unused = [sub[1] for sub in renderer.subs if sub[1] not in renderer.used]
    if unused:
        renderer.problems.append(f"substitutions no example uses any more (drop them): {unused}")
    if not registers:
        renderer.problems.append(f"no example calls {MODULE}")
    if renderer.problems:
        print("EXAMPLES of the module have placeholders the substitution list in "
              f"{os.path.basename(__file__)} does not cover:", file=sys.stderr)
        for problem in renderer.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    header = f"# Generated by tests/integration/{os.path.basename(__file__)} from {MODULE} EXAMPLES; do not edit.\n"
    with open(out_tasks, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump(rendered, sort_keys=False, width=120))
    with open(out_vars, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump({"fd_example_registers": registers,
                                              "fd_example_count": len(rendered)}, sort_keys=False))
    print(f"{len(rendered)} example tasks, {len(registers)} {MODULE} calls -> {out_tasks}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
