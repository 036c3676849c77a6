# shellcheck shell=bash
# Common environment for freshdock.core's test tooling. Source it, don't run it:
#
#     source tests/tools/env.sh
#
# Exports:
#   REPO                  repository root (derived from this file's location)
#   VENV                  main test venv ($REPO/.venv, Python 3.11, tests/requirements/test.txt)
#   VENV_OLDEST           $REPO/.venv-oldest (ansible-core 2.17, tests/requirements/oldest.txt)
#   VENV_NEWEST           $REPO/.venv-newest (ansible-core 2.21, tests/requirements/newest.txt)
#   FD_COLLECTIONS        $REPO/.build/collections, holding
#                         ansible_collections/freshdock/core -> $REPO (symlink, created here)
#   ANSIBLE_COLLECTIONS_PATH  = $FD_COLLECTIONS
#   PYTHONPATH            $FD_COLLECTIONS prepended, so that
#                         `import ansible_collections.freshdock.core...` works in unit tests
#   FD_PY311              a Python 3.11 interpreter (PATH, then pyenv, then Debian's /usr/bin)
#   FD_PY_NEWEST          pyenv (or PATH) Python 3.13 / 3.12, empty when there is none
#   FD_PY39               pyenv (or PATH) Python 3.9, empty when there is none
# Any FD_PY* variable that is already set to a working interpreter of the right
# version is kept, so a developer or CI can point at another one.
#
# This file must not change the caller's shell options: no `set -e` here.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export REPO
export VENV="$REPO/.venv"
export VENV_OLDEST="$REPO/.venv-oldest"
export VENV_NEWEST="$REPO/.venv-newest"
export FD_COLLECTIONS="$REPO/.build/collections"
export ANSIBLE_COLLECTIONS_PATH="$FD_COLLECTIONS"

case ":${PYTHONPATH:-}:" in
    *":$FD_COLLECTIONS:"*) ;;
    *) PYTHONPATH="$FD_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH}" ;;
esac
export PYTHONPATH

# ansible_collections/freshdock/core -> ../../../.. (= $REPO). The link is
# relative so that it survives moving or re-cloning the repository.
_fd_link="$FD_COLLECTIONS/ansible_collections/freshdock/core"
if [[ "$(readlink "$_fd_link" 2>/dev/null || true)" != "../../../.." ]]; then
    mkdir -p "$(dirname "$_fd_link")"
    rm -rf "$_fd_link"
    ln -s "../../../.." "$_fd_link"
fi
unset _fd_link

# _fd_python VERSION CANDIDATE...
# Print the real executable of the first candidate that runs and reports
# Python VERSION (major.minor). Shims (pyenv) are resolved to the real binary.
_fd_python() {
    local want="$1" cand real
    shift
    for cand in "$@"; do
        [[ -n "$cand" ]] || continue
        real="$("$cand" -c "import sys
if '%d.%d' % sys.version_info[:2] == '$want':
    print(sys.executable)" 2>/dev/null)" || continue
        if [[ -n "$real" && -x "$real" ]]; then
            printf '%s\n' "$real"
            return 0
        fi
    done
    return 1
}

# _fd_pyenv_pythons VERSION: pyenv installs of VERSION, newest patch release first.
_fd_pyenv_pythons() {
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    compgen -G "$root/versions/$1.*/bin/python$1" | sort -rV || true
}

_fd_keep_or_find() {
    # _fd_keep_or_find VARNAME VERSION CANDIDATE...
    local var="$1" want="$2"
    shift 2
    local current="${!var:-}"
    if [[ -n "$current" ]] && _fd_python "$want" "$current" >/dev/null; then
        return 0
    fi
    printf -v "$var" '%s' "$(_fd_python "$want" "$@" || true)"
}

_fd_add() {
    # _fd_add VERSION: append PATH's pythonVERSION and pyenv's installs of VERSION to _fd_cands.
    # A pyenv shim on PATH is skipped (slow, and the pyenv installs are listed directly).
    local p
    p="$(command -v "python$1" || true)"
    if [[ -n "$p" && "$p" != */.pyenv/shims/* && "$p" != "${PYENV_ROOT:-/nonexistent}/shims/"* ]]; then
        _fd_cands+=("$p")
    fi
    while IFS= read -r p; do
        _fd_cands+=("$p")
    done < <(_fd_pyenv_pythons "$1")
}

_fd_cands=()
_fd_add 3.11
_fd_cands+=(/usr/bin/python3.11)
_fd_keep_or_find FD_PY311 3.11 "${_fd_cands[@]}"
export FD_PY311

if [[ -z "${FD_PY_NEWEST:-}" ]] ||
    ! "$FD_PY_NEWEST" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    FD_PY_NEWEST=""
    for _fd_v in 3.13 3.12; do
        _fd_cands=()
        _fd_add "$_fd_v"
        FD_PY_NEWEST="$(_fd_python "$_fd_v" "${_fd_cands[@]}" || true)"
        [[ -n "$FD_PY_NEWEST" ]] && break
    done
    unset _fd_v
fi
export FD_PY_NEWEST

_fd_cands=()
_fd_add 3.9
_fd_keep_or_find FD_PY39 3.9 "${_fd_cands[@]}"
export FD_PY39

unset _fd_cands
unset -f _fd_python _fd_pyenv_pythons _fd_keep_or_find _fd_add
