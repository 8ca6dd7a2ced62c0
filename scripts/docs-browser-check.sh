#!/usr/bin/env bash
# The docs page in a real browser: headless Chromium (Debian's) loads /api/v1/ui/ from a running
# Kairos, submits the flow-scheduling form with the API token, and must show 201 and a matching
# curl command. The screenshot lands in .build/docs-page.png.
#
#   scripts/docs-browser-check.sh        (after a build: it uses .build/debug/kairos)
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_packages chromium
venv=$("$KAIROS_ROOT/scripts/python-tools.sh")
mkdir -p "$KAIROS_ROOT/.build"
# shellcheck disable=SC2016
exec "$KAIROS_ROOT/scripts/with-kairos.sh" docs_check bash -c \
  'exec "$0/bin/python" "$KAIROS_ROOT/scripts/docs-browser-check.py" "$(command -v chromium)" "$KAIROS_URL" "$KAIROS_TOKEN" "$1"' \
  "$venv" "$KAIROS_ROOT/.build/docs-page.png"
