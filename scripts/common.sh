# Shared by the scripts: paths, logging, running as the cluster owner, installing packages.
# Source it; it defines functions and variables only.

KAIROS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export KAIROS_ROOT

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command with root rights: directly as root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root rights to run: $* (run as root or install sudo)"
  fi
}

# Installs the Debian packages given whose status is not "installed"; apt-get update only then.
ensure_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Puts the Swift toolchain on PATH (the machine image keeps it in /opt/swift).
ensure_swift() {
  if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  fi
  command -v swift >/dev/null 2>&1 || die "no Swift toolchain on PATH; install Swift 6 from swift.org"
}

# The system packages Kairos builds and runs with.
ensure_system() {
  ensure_packages pkg-config libpq-dev libyaml-dev libcurl4-openssl-dev libssl-dev postgresql curl ca-certificates tzdata
  ensure_swift
}

# Sets everything up (packages, the private PostgreSQL with DATABASE_URL exported), moves to the
# checkout and builds a product (default kairos; the benchmarks are kairos-bench) in release
# mode: what the run and benchmark commands share. The Swift runtime and Foundation are linked
# in, as the Docker image has them: no shared libraries to relocate at start, so less memory
# (idle RSS 36.5 -> 30.0 MB on the development machine) and no indirection on runtime calls.
setup_release_build() {
  local product=${1:-kairos}
  "$KAIROS_ROOT/scripts/setup.sh"
  eval "$("$KAIROS_ROOT/scripts/postgres.sh" env)"
  cd "$KAIROS_ROOT"
  say "building $product (release)"
  swift build -c release --static-swift-stdlib --product "$product" >&2
}

# One figure for the table scripts/bench.sh prints at the end (`make bench`): the figure, Kairos's
# value, the reference measured in the same run ("-" for none), the ratio, and the goal with its
# verdict. Nothing happens when a benchmark runs on its own (KAIROS_BENCH_TABLE unset).
bench_row() {
  [ -n "${KAIROS_BENCH_TABLE:-}" ] || return 0
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$KAIROS_BENCH_TABLE"
}
