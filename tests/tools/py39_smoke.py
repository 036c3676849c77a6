"""Import every module_utils file and exercise the pure parts on the oldest managed-node Python (3.9).

Byte-compiling proves the syntax; this proves the runtime (annotations, dataclasses, stdlib calls) too.
Runs without requests/docker installed: those imports are optional until a module needs them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import ansible_collections.freshdock.core.plugins.module_utils as package

# module_main imports ansible.module_utils.basic, which ansible-core ships to the node with the module itself.
NEEDS_ANSIBLE = {"module_main"}
names = [info.name for info in pkgutil.iter_modules(package.__path__) if info.name not in NEEDS_ANSIBLE]
for name in names:
    importlib.import_module(f"{package.__name__}.{name}")

from ansible_collections.freshdock.core.plugins.module_utils.auth import TokenCache, parse_www_authenticate  # noqa: E402
from ansible_collections.freshdock.core.plugins.module_utils.platform import normalize_platform, select_entry  # noqa: E402
from ansible_collections.freshdock.core.plugins.module_utils.reference import parse_reference  # noqa: E402
from ansible_collections.freshdock.core.plugins.module_utils.verdict import Verdict, compare  # noqa: E402

checks = {
    "reference": parse_reference("[::1]:5000/app:v1").registry == "[::1]:5000",
    "challenge": parse_www_authenticate(['Bearer realm="https://a/t",scope="repository:a:pull,push"'])[0].scopes
    == ["repository:a:pull,push"],
    "token cache": TokenCache().put(("r", "s", "u"), "t", {"x"}, None).value == "t",
    "platform": str(normalize_platform("linux", "aarch64", "v8")) == "linux/arm64",
    "index": select_entry({"manifests": []}, normalize_platform("linux", "amd64")) is None,
    "verdict": compare(parse_reference("a/b:c"), "sha256:" + "1" * 64, []).status == "local"
    and Verdict("stale", "m").update_available is True,
}
failed = [name for name, ok in checks.items() if not ok]
print(f"py39-smoke on Python {sys.version.split()[0]}: imported {len(names)} module_utils files")
print(f"py39-smoke: {len(checks) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
