#!/usr/bin/env bash
# Schemathesis against a running Kairos, driven by openapi.yaml: generated requests for every
# operation (examples, boundary cases, fuzzing, stateful sequences), checking that nothing
# answers 5xx and that every status, content type, header and body conforms to the spec.
# Uses the kairos the test command just built, a schema of its own on the private PostgreSQL,
# and an API token. Bounded by KAIROS_SCHEMATHESIS_SECONDS (default 150).
#
#   scripts/schemathesis.sh        (after scripts/test.sh has built; needs DATABASE_URL)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$KAIROS_ROOT"
"$KAIROS_ROOT/scripts/python-tools.sh" >/dev/null
eval "$("$KAIROS_ROOT/scripts/postgres.sh" env)"

kairos=${KAIROS_BINARY:-.build/debug/kairos}
[ -x "$kairos" ] || die "no $kairos: build first (swift build)"
seconds=${KAIROS_SCHEMATHESIS_SECONDS:-150}
token="schemathesis-$RANDOM$RANDOM"
work=$(mktemp -d)
"$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS schemathesis CASCADE; CREATE SCHEMA schemathesis" >/dev/null

# A free port, then Kairos on it with the schema as its search path and no default jobs.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PGOPTIONS="-c search_path=schemathesis" KAIROS_API_TOKENS="$token" KAIROS_DEFAULT_JOBS_DIR="$work" \
  "$kairos" serve --port "$port" --log-level warning 2>"$work/kairos.log" &
kairos_pid=$!
cleanup() {
  kill "$kairos_pid" 2>/dev/null || true
  wait "$kairos_pid" 2>/dev/null || true
  "$KAIROS_ROOT/scripts/postgres.sh" psql -qc "DROP SCHEMA IF EXISTS schemathesis CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/api/v1/readiness" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/api/v1/readiness" >/dev/null || { cat "$work/kairos.log" >&2; die "kairos did not become ready"; }

say "schemathesis for ${seconds}s against kairos on port $port"
status=0
"$KAIROS_ROOT/.venv/bin/schemathesis" run openapi.yaml \
  --url "http://127.0.0.1:$port" \
  --header "auth-token: $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth,unsupported_method \
  --max-time "$seconds" --workers 2 \
  --suppress-health-check all \
  --seed 20261127 || status=$?
if grep -q '"level":"\(error\|critical\)"' "$work/kairos.log"; then
  say "kairos logged errors during the run:"
  grep '"level":"\(error\|critical\)"' "$work/kairos.log" | head -20 >&2
  status=1
fi
exit "$status"
