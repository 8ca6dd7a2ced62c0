#!/usr/bin/env bash
# The run command: sets up what is missing (packages, the private PostgreSQL), builds in release
# mode and serves on port 34000 (KAIROS_PORT to change it) until Ctrl-C. Extra arguments go to
# `kairos serve`.
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_release_build
say "serving; stop with Ctrl-C (the PostgreSQL keeps running: scripts/postgres.sh stop)"
exec "$KAIROS_ROOT/.build/release/kairos" serve "$@"
