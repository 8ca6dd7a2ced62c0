#!/usr/bin/env bash
# The test command: sets up what is missing (packages, the private PostgreSQL), then builds once
# and runs every test against that PostgreSQL. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$KAIROS_ROOT/scripts/setup.sh"
# libfaketime: a test runs kairos with its process clock skewed, to show it decides by the database's.
ensure_packages faketime
eval "$("$KAIROS_ROOT/scripts/postgres.sh" env)"
cd "$KAIROS_ROOT"

say "checking the dependency graph"
"$KAIROS_ROOT/scripts/check-dependencies.sh"

say "building (debug, with tests)"
swift build --build-tests

venv=$("$KAIROS_ROOT/scripts/python-tools.sh")
say "generating expected cron fire times with cronsim (the reference for POST /schedules/preview in Tests/APITests/ScheduleRoutesTests)"
"$venv/bin/python" "$KAIROS_ROOT/scripts/cron-reference.py" >"$KAIROS_ROOT/.build/cron-reference.json"
export KAIROS_CRON_REFERENCE="$KAIROS_ROOT/.build/cron-reference.json"

say "running the tests against $(sed -E 's|//([^:]*):[^@]*@|//\1:***@|' <<<"$DATABASE_URL")"
swift test --skip-build

say "a network partition between kairos and PostgreSQL (network namespace + iptables, about 2.5 minutes)"
as_root "$KAIROS_ROOT/scripts/partition-test.sh" "$KAIROS_ROOT/.build/debug/kairos"

say "validating openapi.yaml (OpenAPI 3.1)"
"$venv/bin/openapi-spec-validator" openapi.yaml

say "linting the Dockerfile (hadolint)"
"$venv/bin/hadolint" Dockerfile

say "schemathesis against a running kairos"
"$KAIROS_ROOT/scripts/schemathesis.sh"

say "examples/worker.py: real workers drain, take over from a killed one, give back on SIGTERM, retry"
"$KAIROS_ROOT/scripts/with-kairos.sh" worker_check python3 "$KAIROS_ROOT/scripts/worker-check.py"

say "webhooks: signatures checked by the Standard Webhooks reference, retries, self-signed TLS refused, kill -9 mid-call, slow targets beside 100 jobs"
ensure_packages openssl
(eval "$("$KAIROS_ROOT/scripts/postgres.sh" env)" && "$venv/bin/python" "$KAIROS_ROOT/scripts/webhook-check.py" "$KAIROS_ROOT/.build/debug/kairos")

say "the docs page in headless Chromium"
"$KAIROS_ROOT/scripts/docs-browser-check.sh"

say "the dashboard in headless Chromium: seeded jobs, strips, time line, flow board, buttons, 400 px, 100,000 jobs"
"$KAIROS_ROOT/scripts/dashboard-browser-check.sh"

say "fuzzing the HTTP request parser"
"$KAIROS_ROOT/scripts/fuzz.sh" "${KAIROS_FUZZ_SECONDS:-45}"
