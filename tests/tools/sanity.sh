#!/usr/bin/env bash
# Run `ansible-test sanity` offline on a clean copy of the collection.
#
#   tests/tools/sanity.sh [extra ansible-test sanity args]
#   e.g. tests/tools/sanity.sh --test pep8 --test validate-modules -v
#
# Needs the main venv (tests/tools/bootstrap.sh). What it does:
#   1. copies what a clean clone would hold (git-tracked plus untracked files
#      that are not ignored) into TMP/ansible_collections/freshdock/core and
#      `git init`s it, so ansible-test lists files as in a checkout and skips
#      its own output (tests/output/ is in .gitignore);
#   2. installs an offline stand-in for pip's get-pip.py where ansible-test
#      caches it (~/.ansible/test/cache/get_pip_<version>.py); ansible-test
#      would otherwise download it from a host that is not reachable here;
#   3. runs `ansible-test sanity --local --python 3.11 --junit` with the
#      default test set minus SKIP_TESTS below, then prints which tests
#      passed / were skipped / failed. Exit status: ansible-test's.
#
# Per-test venvs are cached by ansible-test under ~/.ansible/test/venv (keyed
# on their pinned requirements), so only the first run pays for them.
#
# Environment:
#   FD_SANITY_SRC=DIR   collection tree to test (default: the repository)
#   FD_SANITY_KEEP=1    keep the temporary copy (and its tests/output/) afterwards
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Default tests excluded here, and why:
SKIP_TESTS=(
    # PowerShell linting needs `pwsh` (PSScriptAnalyzer), which neither Debian
    # nor PyPI provides; the collection ships no PowerShell.
    pslint
)

SRC="${FD_SANITY_SRC:-$REPO}"
ANSIBLE_TEST="$VENV/bin/ansible-test"
PYTHON_VERSION=3.11

log() { printf '[sanity] %s\n' "$*" >&2; }
die() { printf '[sanity] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x "$ANSIBLE_TEST" ]] || die "$ANSIBLE_TEST missing: run tests/tools/bootstrap.sh first"
command -v rsync >/dev/null || die "rsync missing: run tests/tools/bootstrap.sh first"
if ! command -v shellcheck >/dev/null; then
    log "NOTICE: shellcheck not installed; ansible-test will skip its shellcheck test (bootstrap.sh installs it)"
fi

# copy_collection SRC DEST: the files a clean clone of SRC would have.
copy_collection() {
    local src="$1" dest="$2"
    mkdir -p "$dest"
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
        [[ "$(git -C "$src" rev-parse --show-toplevel)" -ef "$src" ]]; then
        # Tracked + untracked-but-not-ignored; deleted-but-tracked files are
        # skipped by --ignore-missing-args. .build/ holds a symlink back to the
        # repository (tests/tools/env.sh) and is never part of the collection.
        git -C "$src" ls-files -z --cached --others --exclude-standard |
            { grep -zv -e '^\.build/' -e '^\.venv' || true; } |
            rsync -a --from0 --files-from=- --ignore-missing-args "$src/" "$dest/"
    else
        log "NOTICE: $src is not the top of a git work tree; copying it whole minus build/venv/cache dirs"
        rsync -a --exclude=.git --exclude='/.build' --exclude='/.venv*' --exclude='/tests/output' \
            --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache --exclude=.ruff_cache \
            --exclude=.hypothesis "$src/" "$dest/"
    fi
}

# install_get_pip_shims: one shim per pip version this ansible-test asks for.
install_get_pip_shims() {
    local site requirements_py cache versions version shim
    site="$("$VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
    requirements_py="$site/_internal/python_requirements.py"
    # get_venv_packages() holds `pip='24.2'` (and per-Python overrides, if any);
    # _util/target/setup/requirements.py turns that into get_pip_24_2.py.
    mapfile -t versions < <(grep -oE "pip='[0-9][0-9.]*'" "$requirements_py" | grep -oE '[0-9][0-9.]*' | sort -u)
    ((${#versions[@]} > 0)) || die "cannot find the pip version in $requirements_py"
    grep -q "get_pip_%s.py" "$site/_util/target/setup/requirements.py" ||
        die "ansible-test no longer uses ~/.ansible/test/cache/get_pip_<version>.py; update install_get_pip_shims"

    cache="$HOME/.ansible/test/cache"
    mkdir -p "$cache"
    for version in "${versions[@]}"; do
        shim="$cache/get_pip_${version//./_}.py"
        write_get_pip_shim >"$shim.tmp"
        mv -f "$shim.tmp" "$shim"
    done
    log "get-pip shim(s): ${versions[*]/#/pip } in $cache"
}

write_get_pip_shim() {
    cat <<'PYTHON'
"""Offline stand-in for get-pip.py, written by freshdock.core's tests/tools/sanity.sh.

ansible-test runs this inside a fresh `venv --without-pip` with the arguments
it would give get-pip.py (e.g. `--disable-pip-version-check pip==24.2
--no-setuptools --no-wheel`). Bootstrap pip from the interpreter's bundled
wheel (ensurepip), then let that pip install the requested packages from the
configured package index. ansible-test drops PIP_* variables, so the system
CA bundle is passed explicitly and recorded in the venv's own pip.conf for the
installs that follow.
"""
import ensurepip
import os
import subprocess
import sys

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
DROPPED = {"--no-setuptools", "--no-wheel"}  # get-pip.py options that pip install lacks


def main():
    ensurepip.bootstrap()
    cert = []
    if os.path.exists(CA_BUNDLE):
        cert = ["--cert", CA_BUNDLE]
        conf = os.path.join(sys.prefix, "pip.conf")
        if sys.prefix != sys.base_prefix and not os.path.exists(conf):
            with open(conf, "w") as handle:
                handle.write("[global]\ncert = %s\n" % CA_BUNDLE)
    args = [arg for arg in sys.argv[1:] if arg not in DROPPED]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + cert + args))


if __name__ == "__main__":
    main()
PYTHON
}

# prune_broken_sanity_venvs: ansible-test reuses ~/.ansible/test/venv/<test>/<X.Y>/<hash>
# as long as its marker file exists, even when the interpreter it was made from
# is gone (e.g. another pyenv 3.11 patch release); drop such venvs so they are rebuilt.
prune_broken_sanity_venvs() {
    local py
    for py in "$HOME"/.ansible/test/venv/*/*/*/bin/python; do
        [[ -e "$py" || -L "$py" ]] || continue
        if ! "$py" -c '' >/dev/null 2>&1; then
            log "removing broken cached ansible-test venv ${py%/bin/python}"
            rm -rf "${py%/bin/python}"
        fi
    done
}

# summarize JUNIT_DIR: one line per test, then "N passed, N failed, N skipped".
summarize() {
    "$VENV/bin/python" - "$1" <<'PYTHON'
import glob
import os
import sys
import xml.etree.ElementTree as ET

results = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.xml"))):
    for case in ET.parse(path).iter("testcase"):
        name = case.get("name") or case.get("classname")
        if case.find("failure") is not None or case.find("error") is not None:
            state, why = "FAILED", ""
        elif case.find("skipped") is not None:
            skipped = case.find("skipped")
            state, why = "skipped", (skipped.get("message") or skipped.text or "").strip()
        else:
            state, why = "passed", ""
        results[name] = (state, why)

print("[sanity] results:")
for name, (state, why) in sorted(results.items()):
    print("  %-24s %-8s %s" % (name, state, why))
count = lambda s: sum(1 for state, _ in results.values() if state == s)
print("sanity: %d passed, %d failed, %d skipped" % (count("passed"), count("FAILED"), count("skipped")))
PYTHON
}

main() {
    local tmp dest rc start
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/fd-sanity.XXXXXX")"
    if [[ "${FD_SANITY_KEEP:-}" == 1 ]]; then
        log "keeping $tmp"
    else
        # shellcheck disable=SC2064 # expand $tmp now
        trap "rm -rf '$tmp'" EXIT
    fi
    dest="$tmp/ansible_collections/freshdock/core"

    copy_collection "$SRC" "$dest"
    git -C "$dest" init -q
    install_get_pip_shims
    prune_broken_sanity_venvs

    local args=(sanity --local --python "$PYTHON_VERSION" --junit --color no)
    local skip
    for skip in "${SKIP_TESTS[@]}"; do
        args+=(--skip-test "$skip")
    done
    args+=("$@")

    log "ansible-test ${args[*]}  (in $dest)"
    start=$SECONDS
    # The filter drops pip's "Location 'file:///…' is ignored" warnings, which a
    # pip.conf naming absent local indexes prints once per package.
    # env.sh points PYTHONPATH / ANSIBLE_COLLECTIONS_PATH at the repository's own
    # tree; ansible-test must see only the copy, so both are dropped for it.
    set +e
    (cd "$dest" && env -u PYTHONPATH -u ANSIBLE_COLLECTIONS_PATH "$ANSIBLE_TEST" "${args[@]}") 2>&1 |
        grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory"
    rc=${PIPESTATUS[0]}
    set -e
    log "ansible-test finished in $((SECONDS - start)) s with exit status $rc"
    log "excluded: ${SKIP_TESTS[*]}"

    if compgen -G "$dest/tests/output/junit/*.xml" >/dev/null; then
        summarize "$dest/tests/output/junit"
    elif ((rc == 0)); then
        log "no results were written"
    fi
    return "$rc"
}

main "$@"
