#!/usr/bin/env bash
# Fails if SwiftNIO, or a package built on it, has entered the resolved dependency graph.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_swift
cd "$KAIROS_ROOT"
graph=$(swift package show-dependencies --format json)
forbidden='swift-nio|postgres-nio|async-http-client|vapor|hummingbird|sqlite-nio|grpc-swift'
if found=$(grep -oiE "\"(identity|url)\" *: *\"[^\"]*($forbidden)[^\"]*\"" <<<"$graph"); then
  printf 'error: a SwiftNIO-based package is in the dependency graph (Kairos must stay NIO-free):\n%s\n' "$found" >&2
  exit 1
fi
count=$(grep -c '"identity"' <<<"$graph" || true)
echo "dependency check: no SwiftNIO in the resolved graph ($((count - 1)) packages)"
