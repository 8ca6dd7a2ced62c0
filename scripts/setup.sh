#!/usr/bin/env bash
# Installs what is missing (Debian packages, Swift on PATH) and starts the private PostgreSQL.
# Idempotent: a second run finds everything in place and only makes sure the cluster runs.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_system
"$KAIROS_ROOT/scripts/postgres.sh" start
