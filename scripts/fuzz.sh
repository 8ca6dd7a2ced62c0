#!/usr/bin/env bash
# Fuzzes the HTTP request parser with libFuzzer for the given number of seconds (default 60).
#
#   scripts/fuzz.sh [seconds]
#
# The parser's sources and Fuzz/ParserFuzzer.swift are compiled together with
# -sanitize=fuzzer,address. Seeds come from Fuzz/corpus (committed); new inputs go to
# .fuzz/corpus, crashes to .fuzz/crash-*. Exits non-zero if anything was found.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ensure_swift
seconds=${1:-60}
cd "$KAIROS_ROOT"
mkdir -p .fuzz/corpus
rm -f .fuzz/parser-fuzzer
say "building the parser fuzzer"
# The parser's files and the one type they use from Locking, compiled as one module: their
# `import Locking` lines go, as Locked is then in the same module.
src=.fuzz/src
rm -rf "$src" && mkdir -p "$src"
for file in HTTPHeaders HTTPMethod HTTPStatus HTTPRequest HTTPLimits RequestParser HeadParser RequestTarget RequestCancellation; do
  grep -v '^import Locking$' "Sources/HTTPServer/HTTP1/$file.swift" >"$src/$file.swift"
done
cp Sources/Locking/Locked.swift "$src/"
swiftc -parse-as-library -sanitize=fuzzer,address -O -module-name ParserFuzz \
  "$src"/*.swift Fuzz/ParserFuzzer.swift -o .fuzz/parser-fuzzer 2>&1 | grep -v "Cannot export local symbol" >&2 || true
[ -x .fuzz/parser-fuzzer ] || die "the fuzzer did not build"
say "fuzzing for ${seconds}s"
.fuzz/parser-fuzzer .fuzz/corpus Fuzz/corpus -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix=.fuzz/ -max_len=4096 -timeout=10 -rss_limit_mb=2048 2>&1 | tee .fuzz/last-run.log \
  | grep -E '^(#[0-9]+ +(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|.*Fatal error)' || true
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  die "the fuzzer found a problem (exit $status); see .fuzz/last-run.log and .fuzz/crash-*"
fi
executions=$(grep -oE 'stat::number_of_executed_units: [0-9]+' .fuzz/last-run.log | grep -oE '[0-9]+$' || echo "?")
echo "fuzz: ${executions} executions in ${seconds}s, nothing found"
