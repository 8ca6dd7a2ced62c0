#!/usr/bin/env bash
# The schedule benchmarks, with a release build, pure (no database): a preview of 1,000 times of
# `0 9 * * MON#5` in Europe/Prague, next-slot computations per second for five hard
# expressions beside an interval, and the misfire decision after ten years down.
#
#   scripts/bench-cron.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_release_build kairos-bench >/dev/null
.build/release/kairos-bench cron
