#!/usr/bin/env bash
# Check that the code that runs on managed nodes is valid Python 3.9 syntax.
#
#   tests/tools/compile39.sh [PATH...]    (default: plugins/modules plugins/module_utils)
#
# With a Python 3.9 interpreter (pyenv 3.9.x, or FD_PY39=/path/to/python3.9)
# every file is byte-compiled by it (in memory; nothing is written to the tree).
# Without one, it falls back to ast.parse(..., feature_version=(3, 9)) under the
# main Python, and says so: that catches most newer syntax (match, except*,
# parenthesized context managers, ...) but is best-effort, not a real 3.9 compile.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf '[compile39] %s\n' "$*" >&2; }

cd "$REPO"
if (($# > 0)); then
    paths=("$@")
else
    paths=(plugins/modules plugins/module_utils)
fi

files=()
for path in "${paths[@]}"; do
    if [[ -d "$path" ]]; then
        while IFS= read -r -d '' file; do
            files+=("$file")
        done < <(find "$path" -name '*.py' -type f -print0 | sort -z)
    elif [[ -f "$path" ]]; then
        files+=("$path")
    else
        log "skipping $path: not found"
    fi
done

if ((${#files[@]} == 0)); then
    log "no Python files under: ${paths[*]}"
    echo "compile39: 0 passed, 0 failed"
    exit 0
fi

if [[ -n "$FD_PY39" ]]; then
    python="$FD_PY39"
    mode=compile
    log "byte-compiling ${#files[@]} file(s) with $("$python" -V 2>&1) ($python)"
else
    python="$VENV/bin/python"
    [[ -x "$python" ]] || python="$FD_PY311"
    [[ -n "$python" ]] || { log "ERROR: no Python found"; exit 1; }
    mode=ast
    log "NOTICE: no Python 3.9 found (pyenv 3.9.x / python3.9 / FD_PY39)."
    log "NOTICE: falling back to ast.parse(feature_version=(3, 9)) under $("$python" -V 2>&1): best-effort, not a real 3.9 compile."
fi

"$python" - "$mode" "${files[@]}" <<'PYTHON'
import ast
import sys

mode, files = sys.argv[1], sys.argv[2:]
failed = 0
for path in files:
    with open(path, "rb") as handle:
        source = handle.read()
    try:
        if mode == "compile":
            compile(source, path, "exec", dont_inherit=True)
        else:
            ast.parse(source, filename=path, feature_version=(3, 9))
    except SyntaxError as exc:
        failed += 1
        print("%s:%s:%s: SyntaxError: %s" % (path, exc.lineno, exc.offset, exc.msg))
    except ValueError as exc:  # e.g. null bytes
        failed += 1
        print("%s: %s" % (path, exc))
print("compile39: %d passed, %d failed" % (len(files) - failed, failed))
sys.exit(1 if failed else 0)
PYTHON
