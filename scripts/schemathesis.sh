#!/usr/bin/env bash
# Schemathesis against a running Kairos, driven by openapi.yaml: generated requests for every
# operation (examples, boundary cases, fuzzing, stateful sequences), checking that nothing
# answers 5xx and that every status, content type, header and body conforms to the spec, that
# invalid input is refused and that the token is enforced. Bounded by
# KAIROS_SCHEMATHESIS_SECONDS (default 150).
#
#   scripts/schemathesis.sh        (after a build: it uses .build/debug/kairos)
set -euo pipefail
source "$(dirname "$0")/common.sh"
venv=$("$KAIROS_ROOT/scripts/python-tools.sh")
seconds=${KAIROS_SCHEMATHESIS_SECONDS:-150}
say "schemathesis for ${seconds}s"
# One worker: with two threads, hypothesis parses lambda sources concurrently and CPython 3.11
# intermittently fails with "AST constructor recursion depth mismatch" (seen in CI).
# Waiting claims answer within a second: an empty board would otherwise hold each generated
# claim with a `wait` for up to a minute, and the run's time would go to waiting.
export KAIROS_CLAIM_WAIT_LIMIT=1s
# A minute per request, not schemathesis's 10 s: CI hosts have frozen for ten seconds at a time.
# shellcheck disable=SC2016
exec "$KAIROS_ROOT/scripts/with-kairos.sh" schemathesis bash -c '
  exec "$0/bin/schemathesis" run "$KAIROS_ROOT/openapi.yaml" --url "$KAIROS_URL" --header "auth-token: $KAIROS_TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth,unsupported_method \
    --max-time "$1" --request-timeout 60 --workers 1 --suppress-health-check all --seed 20261127' "$venv" "$seconds"
