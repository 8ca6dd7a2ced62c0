#!/usr/bin/env bash
# The operator's dashboard in a real browser: headless Chromium (Debian's) against a running, seeded
# Kairos (see scripts/dashboard-browser-check.py). Screenshots land in .build/dashboard-*.png.
#
#   scripts/dashboard-browser-check.sh        (after a build: it uses .build/debug/kairos)
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_packages chromium
venv=$("$KAIROS_ROOT/scripts/python-tools.sh")
mkdir -p "$KAIROS_ROOT/.build"
# shellcheck disable=SC2016
exec "$KAIROS_ROOT/scripts/with-kairos.sh" dashboard_check bash -c \
  'exec "$0/bin/python" "$KAIROS_ROOT/scripts/dashboard-browser-check.py" "$(command -v chromium)" "$1"' \
  "$venv" "$KAIROS_ROOT/.build"
