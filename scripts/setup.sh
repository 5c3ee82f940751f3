#!/usr/bin/env bash
# Set up ganlab on a fresh machine: a virtualenv in .venv, torch's CPU wheel, ganlab itself, MNIST.
# Idempotent: a second call only checks. Usage: bash scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
pip_q() { python -m pip install -q --disable-pip-version-check "$@"; }
python -c "import torch" 2>/dev/null || pip_q "torch==2.13.0"
extras=""
[ "${1:-}" = "--test" ] && extras="[test,sweep]"
pip_q -e ".${extras}"
ganlab data fetch
