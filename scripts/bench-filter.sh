#!/usr/bin/env bash
# The $filter benchmarks, with a release build, on the private PostgreSQL:
#   compile   - fabric8's largest example, parsed, checked and compiled to SQL on one thread,
#               for 3 s. Target: >= 100,000 compiles per second.
#   expansion - a filter matching 10,000 rows (three tables joined): the expansion alone, and a
#               whole firing that posts one flow per row.
#
#   scripts/bench-filter.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
setup_release_build kairos-bench >/dev/null
.build/release/kairos-bench filter
