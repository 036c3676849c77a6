#!/usr/bin/env bash
# VENV, VENV_OLDEST, VENV_NEWEST, REPO and FD_PY39 come from tests/tools/env.sh.
# shellcheck disable=SC2153
# The whole freshdock.core test suite, from a fresh Debian/Ubuntu machine (as root) or a warm checkout:
#
#   bash tests/run-tests.sh
#
# Installs what it needs (tests/tools/bootstrap.sh: apt packages, pinned venvs), then runs lint, unit tests on
# the oldest and newest supported ansible-core, a Python 3.9 compile check of the module code, ansible-test
# sanity, and the functional + integration tests against a private Docker engine and real registries on
# 127.0.0.1 (started and torn down by the tests themselves). Exits non-zero when anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
bash "$here/tools/bootstrap.sh"
# shellcheck source=tools/env.sh
source "$here/tools/env.sh"
cd "$REPO"

results="$REPO/tests/output/junit"
rm -rf "$results" && mkdir -p "$results"
failed=()
suite_start=$SECONDS

stage() {
    local name="$1" start=$SECONDS
    shift
    printf '\n=== %s ===\n' "$name"
    if "$@"; then
        printf '=== %s: ok (%ss) ===\n' "$name" "$((SECONDS - start))"
    else
        printf '=== %s: FAILED (%ss) ===\n' "$name" "$((SECONDS - start))"
        failed+=("$name")
    fi
}

unit() {
    local venv="$1" tag="$2"
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit --junitxml="$results/unit-$tag.xml"
}

stage "ruff" "$VENV/bin/ruff" check plugins tests demo
stage "ansible-lint (production profile)" "$VENV/bin/ansible-lint" --offline roles playbooks
stage "unit (ansible-core 2.19, Python 3.11)" unit "$VENV" main
stage "unit (ansible-core 2.17, oldest)" unit "$VENV_OLDEST" oldest
if [[ -x "$VENV_NEWEST/bin/python" ]]; then
    stage "unit (ansible-core 2.21, newest Python)" unit "$VENV_NEWEST" newest
fi
stage "module code compiles on Python 3.9" bash tests/tools/compile39.sh
if [[ -n "${FD_PY39:-}" ]]; then
    stage "module_utils run on Python 3.9" "$FD_PY39" tests/tools/py39_smoke.py
elif [[ "${CI:-}" == true ]]; then
    failed+=("Python 3.9 runtime check (no Python 3.9 interpreter found)")
else
    echo "NOTICE: no Python 3.9 interpreter here; the 3.9 runtime check ran only as a compile check"
fi
stage "ansible-test sanity" bash tests/tools/sanity.sh
stage "functional + integration (private engine, real registries)" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/functional --junitxml="$results/functional.xml"

"$VENV/bin/python" - "$results" "$((SECONDS - suite_start))" "${#failed[@]}" <<'PY'
import pathlib, sys
import xml.etree.ElementTree as ET
tests = failures = skipped = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.xml")):
    for suite in ET.parse(path).getroot().iter("testsuite"):
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
print(f"\npytest totals over all stages ({sys.argv[2]} s, {sys.argv[3]} failed stage(s)):")
print(f"suite: {tests - failures - skipped} passed, {failures} failed, {skipped} skipped")
PY
if ((${#failed[@]})); then
    printf 'FAILED stages: %s\n' "${failed[*]}"
    exit 1
fi
