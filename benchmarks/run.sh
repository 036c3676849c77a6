#!/usr/bin/env bash
# freshdock.core benchmarks — one command, not part of CI:
#
#     bash benchmarks/run.sh [bench.py options]      e.g.  --runs 7   --parts registry   --profile
#
# Starts its own sandbox (private dockerd on its own socket, registries and token server on 127.0.0.1)
# in a temp dir, runs benchmarks/bench.py against it (registry check vs skopeo / naive loop / docker pull at
# 0 and 100 ms RTT through benchmarks/delayproxy.py; role check mode; update downtime and gate latency;
# module peak RSS), prints the table, writes benchmarks/RESULTS.md (+ results.json), and tears the sandbox
# down on exit (trap). Never touches the host's Docker daemon.
#
# Installs what it needs first (tests/tools/bootstrap.sh: apt packages incl. skopeo and time, the pinned
# venv incl. pyinstrument for --profile).
# Takes ~35 minutes with the defaults: the N=100 / 100 ms cell alone is ~25 min (per run: skopeo loop ~85 s,
# naive loop ~65 s, docker pull loop ~145 s). Quicker: --parts update,role, or --max-cell-seconds 300 (a slow
# peer stops after 3 runs; RESULTS.md then shows its run count). Re-render RESULTS.md after editing
# benchmarks/analysis.md: $VENV/bin/python benchmarks/bench.py --render-only benchmarks/results.json
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
bash "$here/../tests/tools/bootstrap.sh"
# shellcheck source=/dev/null
source "$here/../tests/tools/env.sh"
cd "$REPO"
[[ -x "$VENV/bin/python" ]] || { echo "no test venv at $VENV: run bash tests/run-tests.sh once" >&2; exit 1; }
for tool in dockerd docker-registry skopeo; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install docker.io docker-registry skopeo)" >&2; exit 1; }
done
sandbox_dir="$(mktemp -d /var/tmp/fd-bench-sandbox.XXXXXX)"
cleanup() {
    PYTHONPATH="$REPO/tests/sandbox:$PYTHONPATH" "$VENV/bin/python" -m sandbox down --dir "$sandbox_dir" || true
    rm -rf "$sandbox_dir"
}
trap cleanup EXIT INT TERM
echo "starting the sandbox in $sandbox_dir" >&2
PYTHONPATH="$REPO/tests/sandbox:$PYTHONPATH" "$VENV/bin/python" -m sandbox up --dir "$sandbox_dir" --engines 1 >/dev/null
"$VENV/bin/python" "$here/bench.py" --sandbox "$sandbox_dir" --command "bash benchmarks/run.sh${*:+ $*}" "$@"
