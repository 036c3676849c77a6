#!/usr/bin/env bash
# Run the integration targets (each including its module's EXAMPLES) against a sandbox.
#
#     tests/integration/run.sh SANDBOX_DIR [TARGET...] [ansible-playbook args...]
#
# SANDBOX_DIR is the --dir of a running `python -m sandbox up` (it holds sandbox.json). TARGET names a directory
# of tests/integration/targets (freshdock_digest, freshdock_update); without one, every target runs, one after
# the other, and the script fails when any of them failed. The rendered examples, inventory, a docker config
# holding the bearer registry's login, the target's state_dir and ansible's temp files go to
# tests/output/integration/TARGET/ (gitignored).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 SANDBOX_DIR [TARGET...] [ansible-playbook args...]" >&2
    exit 2
fi
SANDBOX_DIR="$(cd "$1" && pwd -P)"
shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../tools/env.sh
source "$HERE/../tools/env.sh"

if [[ ! -f "$SANDBOX_DIR/sandbox.json" ]]; then
    echo "$0: no sandbox.json in $SANDBOX_DIR (start one with: PYTHONPATH=tests/sandbox python -m sandbox up --dir DIR)" >&2
    exit 2
fi
if [[ ! -x "$VENV/bin/ansible-playbook" ]]; then
    echo "$0: $VENV/bin/ansible-playbook missing; run tests/tools/bootstrap.sh" >&2
    exit 2
fi

targets=()
while [[ $# -gt 0 && "$1" != -* ]]; do
    if [[ ! -d "$HERE/targets/$1" ]]; then
        echo "$0: no integration target '$1' in $HERE/targets" >&2
        exit 2
    fi
    targets+=("$1")
    shift
done
if [[ ${#targets[@]} -eq 0 ]]; then
    for dir in "$HERE"/targets/*/; do
        targets+=("$(basename "$dir")")
    done
fi

export ANSIBLE_ROLES_PATH="$HERE/targets"
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export ANSIBLE_DEPRECATION_WARNINGS=true
unset DOCKER_HOST  # the targets and the examples name the sandbox engine explicitly

# run_target TARGET [ansible-playbook args...]
run_target() {
    local target="$1" out="$REPO/tests/output/integration/$1" started=$SECONDS
    shift
    rm -rf "$out"
    mkdir -p "$out/tmp"

    "$VENV/bin/python" "$HERE/render_examples.py" "$REPO/plugins/modules/$target.py" \
        "$SANDBOX_DIR/sandbox.json" "$out/examples.yml" "$out/examples_vars.yml" || return

    # Examples read credentials from the docker config, as after `docker login` to the bearer registry;
    # give them a private one (never the user's ~/.docker).
    mkdir -p "$out/docker-config"
    ( umask 077 && "$VENV/bin/python" - "$SANDBOX_DIR/sandbox.json" >"$out/docker-config/config.json" <<'PY'
import base64, json, sys
bearer = json.load(open(sys.argv[1]))["registries"]["bearer"]
auth = base64.b64encode(f"{bearer['username']}:{bearer['password']}".encode()).decode()
print(json.dumps({"auths": {bearer["host"]: {"auth": auth}}}))
PY
    ) || return

    cat >"$out/inventory.ini" <<INVENTORY
localhost ansible_connection=local ansible_python_interpreter=$VENV/bin/python
INVENTORY

    DOCKER_CONFIG="$out/docker-config" ANSIBLE_LOCAL_TEMP="$out/tmp" \
        "$VENV/bin/ansible-playbook" -i "$out/inventory.ini" "$HERE/site.yml" \
        -e "fd_target=$target" -e "fd_output_dir=$out" \
        -e "fd_sandbox_dir=$SANDBOX_DIR" -e "fd_examples_file=$out/examples.yml" -e "@$out/examples_vars.yml" \
        "$@" || return
    echo "$target integration target passed in $((SECONDS - started))s (rendered examples: $out/examples.yml)"
}

failed=()
for target in "${targets[@]}"; do
    if ! run_target "$target" "$@"; then
        echo "$target integration target FAILED" >&2
        failed+=("$target")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "failed integration targets: ${failed[*]}" >&2
    exit 1
fi
