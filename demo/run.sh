#!/usr/bin/env bash
# freshdock.core demo: the autoupdate role end to end on a private sandbox engine.
#
#   bash demo/run.sh [--keep] [--dir DIR]
#
#   --keep     leave the sandbox running at the end (default: torn down, even on failure)
#   --dir DIR  sandbox directory (default /var/tmp/freshdock-demo)
#
# Steps: install the tooling (tests/tools/bootstrap.sh), start a private sandbox (its own dockerd with
# its own socket and no network, plus registries on 127.0.0.1), publish v1 of four images and run one
# container on each, publish new versions (web: good; worker: broken; api: only another platform's
# image changed; cache: new, but the container is in watch mode), then run the role:
#   1. playbooks/check.yml  - the check-mode report: web and worker would update, nothing changes
#   2. playbooks/update.yml - web is updated, worker's broken image is rolled back, api and cache untouched
# and print the fleet report (Markdown; JSON and HTML beside it) after each.
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
            info "\$VENV/bin/ansible-playbook -i $DEMO_DIR/inventory.ini -e @$DEMO_DIR/demo-vars.yml playbooks/check.yml"
            info "PYTHONPATH=\$REPO/tests/sandbox \$VENV/bin/python -m sandbox down --dir $DEMO_DIR"
        else
            step "Tearing down the sandbox in $DEMO_DIR"
            PYTHONPATH="$REPO/tests/sandbox" "$VENV/bin/python" -m sandbox down --dir "$DEMO_DIR" ||
                info "WARNING: teardown reported problems (see above)"
            rm -rf "$DEMO_DIR/demo-vars.yml" "$DEMO_DIR/inventory.ini" "$DEMO_DIR/state"
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

step "Publishing v1 of four images and running one container on each"
"$PY" demo/images.py start --dir "$DEMO_DIR"

step "Publishing new versions: web (good), worker (broken), api (other platform only), cache (watched)"
"$PY" demo/images.py update --dir "$DEMO_DIR"

step "Writing the inventory and the role's vars"
printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$PY" >"$DEMO_DIR/inventory.ini"
"$PY" demo/images.py vars --dir "$DEMO_DIR" --out "$DEMO_DIR/demo-vars.yml"
export ANSIBLE_RETRY_FILES_ENABLED=false

step "1/2 Check mode (playbooks/check.yml): which containers are stale? Nothing is pulled, created or stopped"
"$VENV/bin/ansible-playbook" -i "$DEMO_DIR/inventory.ini" -e "@$DEMO_DIR/demo-vars.yml" playbooks/check.yml
cat "$DEMO_DIR/report/freshdock-report.md"
"$PY" demo/images.py verify --dir "$DEMO_DIR" --report "$DEMO_DIR/report/freshdock-report.json"

step "2/2 Real run (playbooks/update.yml): update what is due, health-gated, rolled back when not healthy"
"$VENV/bin/ansible-playbook" -i "$DEMO_DIR/inventory.ini" -e "@$DEMO_DIR/demo-vars.yml" playbooks/update.yml
cat "$DEMO_DIR/report/freshdock-report.md"
"$PY" demo/images.py verify --dir "$DEMO_DIR" --report "$DEMO_DIR/report/freshdock-report.json"
info "reports: $DEMO_DIR/report/freshdock-report.{md,json,html}"
