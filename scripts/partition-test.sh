#!/usr/bin/env bash
# Kairos through a network partition: PostgreSQL runs in a network namespace behind a veth
# pair, and for PARTITION_SECONDS (default 120) every packet between the two is dropped with
# iptables (no reset, as a real partition). scripts/partition-check.py drives kairos through it
# and checks the goals: API calls answer within 2 s, readiness says 503 within 3 s, firing
# resumes within 2 s of the network's return, no job stays locked much past 15 s, and no slot is
# lost or fired twice.
#
#   scripts/partition-test.sh [kairos-binary]     (default .build/debug/kairos; needs root)
#
# Everything it makes (namespace, veth, cluster in .pg/partition) is removed on exit.
set -euo pipefail
source "$(dirname "$0")/common.sh"

[ "$(id -u)" -eq 0 ] || die "the partition test makes a network namespace and needs root"
ensure_packages iproute2 iptables postgresql
BINARY=${1:-$KAIROS_ROOT/.build/debug/kairos}
[ -x "$BINARY" ] || die "no kairos binary at $BINARY; build first (swift build)"

NS=kairos-partition-$$
HOST_IF=kph$$
NS_IF=kpn$$
HOST_IP=10.213.7.1
DB_IP=10.213.7.2
DATA=$KAIROS_ROOT/.pg/partition/data
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

cleanup() {
  ip netns exec "$NS" runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
  ip link delete "$HOST_IF" >/dev/null 2>&1 || true
  ip netns delete "$NS" >/dev/null 2>&1 || true
  rm -rf "$KAIROS_ROOT/.pg/partition"
}
trap cleanup EXIT

say "a PostgreSQL in network namespace $NS at $DB_IP"
ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$NS_IF"
ip link set "$NS_IF" netns "$NS"
ip addr add "$HOST_IP/24" dev "$HOST_IF"
ip link set "$HOST_IF" up
ip netns exec "$NS" ip addr add "$DB_IP/24" dev "$NS_IF"
ip netns exec "$NS" ip link set "$NS_IF" up
ip netns exec "$NS" ip link set lo up

rm -rf "$KAIROS_ROOT/.pg/partition"
mkdir -p "$DATA"
chown -R postgres: "$KAIROS_ROOT/.pg/partition"
chmod 700 "$DATA"
# A throwaway cluster reachable only inside the namespace and over the veth: trust is enough.
(cd / && runuser -u postgres -- "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null)
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '$DB_IP,127.0.0.1'
port = 5432
unix_socket_directories = ''
max_connections = 100
log_min_messages = warning
CONF
echo "host all all $HOST_IP/32 trust" >>"$DATA/pg_hba.conf"
(cd / && ip netns exec "$NS" runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null)
ip netns exec "$NS" "$BIN/psql" -X -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE kairos"

say "kairos through a ${PARTITION_SECONDS:-120} s partition"
python3 "$KAIROS_ROOT/scripts/partition-check.py" \
  --kairos "$BINARY" --database-url "postgresql://postgres@$DB_IP:5432/kairos" \
  --namespace "$NS" --namespace-interface "$NS_IF" --psql "$BIN/psql" \
  --partition-seconds "${PARTITION_SECONDS:-120}"
