#!/usr/bin/env bash
# Install everything the freshdock.core test suite needs. Idempotent; a second
# run with nothing to do takes well under a second.
#
#   tests/tools/bootstrap.sh
#
# 1. Debian packages (apt-get update + install only when one is missing).
# 2. Virtual environments, each rebuilt only when its requirements file or its
#    interpreter changed (stamp file .fd-stamp inside the venv):
#      .venv         Python 3.11, tests/requirements/test.txt   (main)
#      .venv-oldest  Python 3.11, tests/requirements/oldest.txt (ansible-core 2.17)
#      .venv-newest  Python 3.12+, tests/requirements/newest.txt (ansible-core 2.21);
#                    skipped with a notice when no 3.12+ interpreter exists,
#                    an error when CI=true.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

APT_PACKAGES=(
    docker.io        # dockerd + docker CLI for the integration tests
    docker-registry  # CNCF distribution registry for registry tests
    busybox-static   # /bin/busybox to build images without a registry
    skopeo           # independent digest cross-checks
    apache2-utils    # htpasswd -B
    python3-venv     # ensurepip for Debian's python3.11 (venv creation)
    python3-pip
    rsync            # tests/tools/sanity.sh copies the collection with it
    shellcheck       # ansible-test's shellcheck sanity test (skipped without it)
    time             # /usr/bin/time: peak memory figures in benchmarks/
    git
    ca-certificates
)

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

ensure_apt_packages() {
    local missing=() pkg status
    for pkg in "${APT_PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == ii* ]] || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# pip_install PYTHON ARGS...: quiet pip install into PYTHON's venv. Drops the
# "Location 'file:///…' is ignored" warnings that a pip.conf pointing at absent
# local indexes produces once per package; everything else is shown.
pip_install() {
    local python="$1"
    shift
    "$python" -m pip install --require-virtualenv --disable-pip-version-check -q "$@" 2>&1 |
        { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory" || true; }
    return "${PIPESTATUS[0]}"
}

# stamp_for PYTHON REQFILE: what a venv's .fd-stamp must contain to be current.
stamp_for() {
    local python="$1" req="$2"
    printf 'python=%s %s\nrequirements=%s %s\n' \
        "$python" "$("$python" -c 'import sys; print(sys.version.split()[0])')" \
        "${req#"$REPO"/}" "$(sha256sum <"$req" | cut -d' ' -f1)"
}

# ensure_venv DIR PYTHON REQFILE
ensure_venv() {
    local dir="$1" python="$2" req="$3" want
    local name="${dir#"$REPO"/}"
    want="$(stamp_for "$python" "$req")"
    if [[ -x "$dir/bin/python" && -f "$dir/.fd-stamp" && "$(cat "$dir/.fd-stamp")" == "$want" ]] &&
        "$dir/bin/python" -c '' 2>/dev/null; then
        log "$name is up to date"
        return 0
    fi
    # Rebuild from scratch: pinned requirements in a clean venv leave no stale
    # packages behind that could hide a missing pin. The stamp is written last,
    # so an interrupted run is redone next time.
    log "creating $name with $python from ${req#"$REPO"/}"
    local start=$SECONDS
    rm -rf "$dir"
    "$python" -m venv "$dir" || die "cannot create $name (for Debian's python3: apt-get install python3-venv)"
    pip_install "$dir/bin/python" -r "$req"
    "$dir/bin/python" -m pip check >/dev/null || die "$name: pip check failed"
    printf '%s\n' "$want" >"$dir/.fd-stamp"
    log "$name ready ($((SECONDS - start)) s)"
}

main() {
    ensure_apt_packages

    [[ -n "$FD_PY311" ]] || die "no Python 3.11 found (PATH, pyenv, /usr/bin/python3.11)"
    ensure_venv "$VENV" "$FD_PY311" "$REPO/tests/requirements/test.txt"
    ensure_venv "$VENV_OLDEST" "$FD_PY311" "$REPO/tests/requirements/oldest.txt"

    if [[ -n "$FD_PY_NEWEST" ]]; then
        ensure_venv "$VENV_NEWEST" "$FD_PY_NEWEST" "$REPO/tests/requirements/newest.txt"
    elif [[ "${CI:-}" == "true" ]]; then
        die "CI=true but no Python >= 3.12 found (pyenv 3.13/3.12, python3.13/python3.12 on PATH): cannot build .venv-newest for ansible-core 2.21"
    else
        log "NOTICE: no Python >= 3.12 found; skipping .venv-newest (ansible-core 2.21 tests will not run)."
        log "NOTICE: install one with pyenv (e.g. 'pyenv install 3.13') or set FD_PY_NEWEST=/path/to/python3.13."
    fi
}

main "$@"
