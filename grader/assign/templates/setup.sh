#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# It makes a virtual environment with Python >= 3.11 and installs the kit in it, editable:
# the grader then hides its own folder (and so its hidden checks) from the students' code.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="$ROOT/venv"
# The CPU build of PyTorch (the grader's reference) is far smaller than the default one.
TORCH_INDEX_URL="${TORCH_INDEX_URL:-${torch_index}}"

PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHON="$(command -v "$candidate")"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
    PYTHON="$(command -v python3.11)"
fi
if ! "$PYTHON" -m venv "$VENV"; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$(basename "$PYTHON")-venv" || \
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} -e "$ROOT/source"
chmod -R go-rwx "$ROOT/source/grader/hidden" "$ROOT/source/solutions"
# The worker runs the student's code as a user of its own; where the container refuses it a
# private mount namespace, the libraries it may not import are hidden from it this way too.
"$VENV/bin/python" -c "from grader.worker.sandbox import forbidden_locations; print('\n'.join(forbidden_locations()))" |
    while IFS= read -r path; do chmod -R go-rwx "$path"; done
"$VENV/bin/python" -c "import grader.runner, grader.hidden; print('grader installed')"
