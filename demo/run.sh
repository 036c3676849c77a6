#!/usr/bin/env bash
# freshdock.core demo: spot containers whose image tag moved in the registry, without pulling anything.
#
#   bash demo/run.sh [--keep] [--dir DIR]
#
#   --keep     leave the sandbox running at the end (default: torn down, even on failure)
#   --dir DIR  sandbox directory (default /var/tmp/freshdock-demo)
#
# Steps: install the tooling (tests/tools/bootstrap.sh), start a private sandbox (its own dockerd with
# its own socket and no network, plus registries on 127.0.0.1), publish v1 of demo/web and demo/api
# and run one container on each, publish v2 of demo/web only (and republish demo/api changing only
# another platform's image), then run playbooks/demo.yml, which calls freshdock.core.freshdock_digest
# in check mode and asserts: demo-web stale, demo-api current.
# Never touches the host's docker daemon. Run as root (or with sudo available) on Debian/Ubuntu.
# Running it again is fine: an earlier sandbox in DIR is torn down first.
set -euo pipefail

KEEP=false
DEMO_DIR=/var/tmp/freshdock-demo

usage() { sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while (($#)); do
    case "$1" in
        --keep) KEEP=true ;;
        --dir)
            (($# >= 2)) || { usage >&2; exit 2; }
            DEMO_DIR="$2"
            shift
            ;;
        --dir=*) DEMO_DIR="${1#--dir=}" ;;
        -h | --help) usage; exit 0 ;;
        *) printf 'unknown argument: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

START=$SECONDS
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
info() { printf '    %s\n' "$*"; }

SANDBOX_STARTED=false
cleanup() {
    local rc=$?
    set +e
    if [[ "$SANDBOX_STARTED" == true ]]; then
        if [[ "$KEEP" == true ]]; then
            step "Keeping the sandbox (--keep). Re-run the check, or tear it down, with:"
            info "source tests/tools/env.sh"
            info "ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \$VENV/bin/ansible-playbook --check -i $DEMO_DIR/inventory.ini -e @$DEMO_DIR/demo-vars.yml playbooks/demo.yml"
            info "PYTHONPATH=\$REPO/tests/sandbox \$VENV/bin/python -m sandbox down --dir $DEMO_DIR"
        else
            step "Tearing down the sandbox in $DEMO_DIR"
            PYTHONPATH="$REPO/tests/sandbox" "$VENV/bin/python" -m sandbox down --dir "$DEMO_DIR" ||
                info "WARNING: teardown reported problems (see above)"
            rm -f "$DEMO_DIR/demo-vars.yml" "$DEMO_DIR/inventory.ini"
        fi
    fi
    if ((rc == 0)); then
        printf '\nDemo finished OK in %d s.\n' "$((SECONDS - START))"
    else
        printf '\nDemo FAILED (exit %d) after %d s.\n' "$rc" "$((SECONDS - START))" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step "Installing the tooling (apt packages + Python venvs; quick when already done)"
bash tests/tools/bootstrap.sh
# shellcheck source-path=SCRIPTDIR source=../tests/tools/env.sh
source tests/tools/env.sh
PY="$VENV/bin/python"

step "Starting a private sandbox in $DEMO_DIR (own dockerd, no network; registries on 127.0.0.1)"
mkdir -p "$DEMO_DIR"
chmod 700 "$DEMO_DIR"  # sandbox.json holds the registry password
SANDBOX_STARTED=true
# `up` prints the sandbox state, passwords included: keep it off the screen.
PYTHONPATH="$REPO/tests/sandbox" "$PY" -m sandbox up --dir "$DEMO_DIR" >/dev/null
DOCKER_HOST_URL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["engines"][0]["docker_host"])' \
    "$DEMO_DIR/sandbox.json")"
info "engine: $DOCKER_HOST_URL (the host's /var/run/docker.sock is never used)"

step "Publishing v1 of two images and running one container on each"
"$PY" demo/images.py start --dir "$DEMO_DIR"

step "Publishing a new demo/web:stable (v2); republishing demo/api:stable for another platform only"
"$PY" demo/images.py update --dir "$DEMO_DIR"

step "Writing the inventory and the playbook's vars"
printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$PY" >"$DEMO_DIR/inventory.ini"
"$PY" demo/images.py vars --dir "$DEMO_DIR" --out "$DEMO_DIR/demo-vars.yml"

step "Running playbooks/demo.yml in check mode: freshdock_digest reports, nothing is pulled or restarted"
ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_RETRY_FILES_ENABLED=false \
    "$VENV/bin/ansible-playbook" --check -i "$DEMO_DIR/inventory.ini" -e "@$DEMO_DIR/demo-vars.yml" \
    playbooks/demo.yml
