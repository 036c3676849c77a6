#!/usr/bin/env bash
# Run the freshdock_digest integration target, including the module's EXAMPLES, against a sandbox.
#
#     tests/integration/run.sh SANDBOX_DIR [ansible-playbook args...]
#
# SANDBOX_DIR is the --dir of a running `python -m sandbox up` (it holds sandbox.json). The rendered
# examples, inventory, a docker config holding the bearer registry's login, and ansible's temp files go to tests/output/integration/freshdock_digest/ (gitignored).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 SANDBOX_DIR [ansible-playbook args...]" >&2
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

OUT="$REPO/tests/output/integration/freshdock_digest"
rm -rf "$OUT"
mkdir -p "$OUT/tmp"

"$VENV/bin/python" "$HERE/render_examples.py" "$REPO/plugins/modules/freshdock_digest.py" \
    "$SANDBOX_DIR/sandbox.json" "$OUT/examples.yml" "$OUT/examples_vars.yml"

# Examples 1 and 4 read credentials from the docker config, as after `docker login` to the bearer registry;
# give them a private one (never the user's ~/.docker).
mkdir -p "$OUT/docker-config"
( umask 077 && "$VENV/bin/python" - "$SANDBOX_DIR/sandbox.json" >"$OUT/docker-config/config.json" <<'PY'
import base64, json, sys
bearer = json.load(open(sys.argv[1]))["registries"]["bearer"]
auth = base64.b64encode(f"{bearer['username']}:{bearer['password']}".encode()).decode()
print(json.dumps({"auths": {bearer["host"]: {"auth": auth}}}))
PY
)
export DOCKER_CONFIG="$OUT/docker-config"

cat >"$OUT/inventory.ini" <<INVENTORY
localhost ansible_connection=local ansible_python_interpreter=$VENV/bin/python
INVENTORY

export ANSIBLE_ROLES_PATH="$HERE/targets"
export ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_LOCAL_TEMP="$OUT/tmp"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export ANSIBLE_DEPRECATION_WARNINGS=true
unset DOCKER_HOST  # the target and the examples name the sandbox engine explicitly

started=$SECONDS
"$VENV/bin/ansible-playbook" -i "$OUT/inventory.ini" "$HERE/site.yml" \
    -e "fd_sandbox_dir=$SANDBOX_DIR" -e "fd_examples_file=$OUT/examples.yml" -e "@$OUT/examples_vars.yml" \
    "$@"
echo "freshdock_digest integration target passed in $((SECONDS - started))s (rendered examples: $OUT/examples.yml)"
