#!/usr/bin/env bash
# Set up (venv, install with the test and sweep extras, MNIST, headless Chromium for the browser test) and run
# the test suite. What CI runs (.ci/run calls this).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  # the report's browser test needs Debian's chromium and chromium-driver
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if [ -n "$SUDO" ] && ! sudo -n true 2>/dev/null; then
    echo "test.sh: the browser test needs chromium and chromium-driver (apt-get install chromium chromium-driver); install them as root, then rerun" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
      || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }
  fi
fi
bash scripts/setup.sh --test
. .venv/bin/activate
# pytest exits 5 when it collects no test: that is a failure here too.
python -m pytest -q "$@"
