#!/usr/bin/env bash
# Regenerates docs/screenshots/ (the dashboard's main pages, desktop and phone, and the
# folder's README.md) with the browser tests' set-up: the binary from SWITCHBOARD_BIN (default
# target/debug/switchboard, built when missing) in sandbox mode on a free port, Debian's
# chromium through chromedriver (apt-get install chromium chromium-driver), and selenium in
# the Python environment PYTHON (default .venv/bin/python; made, or completed from
# tests/browser/requirements.txt, when it lacks them). See tests/browser/screenshots.py.
set -euo pipefail
cd "$(dirname "$0")/.."

export SWITCHBOARD_BIN="${SWITCHBOARD_BIN:-$PWD/target/debug/switchboard}"
python="${PYTHON:-.venv/bin/python}"

if [ ! -x "$SWITCHBOARD_BIN" ]; then
  cargo build --bin switchboard
fi
if [ ! -x "$python" ]; then
  python3 -m venv .venv
  python=.venv/bin/python
fi
if ! "$python" -c 'import selenium, retell' 2>/dev/null; then
  "$python" -m pip install --quiet --disable-pip-version-check -r tests/browser/requirements.txt
fi
"$python" tests/browser/screenshots.py docs/screenshots
ls -l docs/screenshots
