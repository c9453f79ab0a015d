#!/usr/bin/env bash
# A throw-away S3 server for tests and local development: a single-node Ceph cluster (one monitor,
# one RAM-backed memstore OSD, no manager, no cephx) plus radosgw (beast frontend), all bound to
# 127.0.0.1 on free ports and kept entirely under one state directory.
#
#   scripts/s3-local.sh start   start a cluster, create an S3 user with random keys and a bucket,
#                               print the settings as KEY=value lines (see below)
#   scripts/s3-local.sh env     print the settings of the running cluster again
#   scripts/s3-local.sh gc      reclaim the space of deleted objects now (radosgw gc process)
#   scripts/s3-local.sh stop    stop the daemons (TERM, wait, KILL; by recorded PID only) and
#                               delete the state directory
#
# Use from a shell:  set -a; eval "$(scripts/s3-local.sh start)"; set +a
# Printed keys: AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
#               AWS_S3_FORCE_PATH_STYLE WEIR_S3_BUCKET WEIR_S3_DIR   (values never need quoting)
#
# Environment (all optional):
#   WEIR_S3_DIR        state directory (default ${TMPDIR:-/tmp}/weir-s3-local-$UID); must be missing
#                      or empty on start. Give each concurrent cluster its own (tests use fresh ones).
#   WEIR_S3_BUCKET     bucket to create (default weir)
#   WEIR_S3_MEM_BYTES  memstore capacity in bytes, RAM used only as objects are written (default 4 GiB)
#   WEIR_S3_OWNER_PID  stop the cluster by itself once this process has exited (tests pass their own
#                      PID, so a killed test run leaves no daemons behind)
#
# Needs: apt-get install --no-install-recommends radosgw ceph-mon ceph-osd (Debian 12: Ceph 16.2), curl.
# The settings that matter, and why, are in ../shared/notes/ceph-rgw.md: no cephx plus
# "ms mon client mode = crc" (else radosgw cannot reach the monitor), fast paxos (start in ~1 s),
# memstore object name limits raised for radosgw; beast's tcp_nodelay (else ~40 ms per GET); quick
# garbage collection of deleted objects (memstore is RAM). Start takes about 1-2 s.
# Progress and errors go to stderr, only the settings to stdout. A failed start is retried with new
# ports (3 tries); each failure prints the tail of the daemons' logs, and with WEIR_S3_KEEP_FAILED=1
# the logs are kept in $WEIR_S3_DIR-failed-log.
set -euo pipefail

DIR=${WEIR_S3_DIR:-${TMPDIR:-/tmp}/weir-s3-local-$(id -u)}
BUCKET=${WEIR_S3_BUCKET:-weir}
MEM_BYTES=${WEIR_S3_MEM_BYTES:-4294967296}
REGION=us-east-1

log() { printf 's3-local: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- stop -----------------------------------------------------------------------------------------

# Whether PID runs (a zombie, exited but not yet reaped by its parent, does not count).
alive() {
  local state
  state=$(sed -n 's/^.*) \([A-Za-z]\).*$/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# wait_gone TENTHS PID...: wait up to TENTHS x 0.1 s for every PID to be gone.
wait_gone() {
  local tenths=$1 pid any
  shift
  for _ in $(seq 1 "$tenths"); do
    any=0
    for pid in "$@"; do if alive "$pid"; then any=1; fi; done
    [ "$any" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

# The PIDs listed in FILE (if it exists) other than ours and our parent's (a watchdog stopping).
others() {
  if [ -f "$1" ]; then grep -vxF -e "$$" -e "$PPID" "$1" || true; fi
}

stop_cluster() {
  local dir=$1 pids pid rgw osd mon
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pids" ]; then
    pids=$(others "$dir/pids")
    rgw=$(others "$dir/pid.rgw") osd=$(others "$dir/pid.osd") mon=$(others "$dir/pid.mon")
    # radosgw first (it hangs on TERM once the OSD is gone), then the OSD, which ignores TERM and
    # holds RAM only (KILL), then the monitor; whatever still runs after its grace time is KILLed.
    for pid in $(others "$dir/pid.watchdog") $rgw; do kill -TERM "$pid" 2>/dev/null || true; done
    # shellcheck disable=SC2086
    [ -z "$rgw" ] || wait_gone 20 $rgw || true
    for pid in $osd; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in $mon; do kill -TERM "$pid" 2>/dev/null || true; done
    # shellcheck disable=SC2086
    if ! wait_gone 20 $pids; then
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
      # shellcheck disable=SC2086
      wait_gone 30 $pids || log "some daemons did not exit: $pids"
    fi
  fi
  rm -rf "$dir"
}

# --- start ----------------------------------------------------------------------------------------

# A TCP port nobody listens on, below Linux's ephemeral range (32768+) so outgoing connections
# cannot be holding it. Checked by connecting; a race with another starter is caught later (the
# daemon dies or never answers) and start retries with new ports.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % 22000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free TCP port found"
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# record ROLE PID: remember a process to stop (all in $DIR/pids, each role in $DIR/pid.ROLE).
record() {
  echo "$2" >>"$DIR/pids"
  echo "$2" >"$DIR/pid.$1"
}

# wait_for TRIES CMD...: retry CMD every 0.1 s while every recorded daemon is alive.
wait_for() {
  local tries=$1 pid
  shift
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    while read -r pid; do
      alive "$pid" || { log "a daemon (pid $pid) exited during start"; return 1; }
    done <"$DIR/pids"
    sleep 0.1
  done
  log "timed out waiting for: $*"
  return 1
}

write_conf() {
  cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
auth allow insecure global id reclaim = false
keyring = /dev/null
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
mon cluster log file = $DIR/log/cluster.log
crash dir = $DIR/crash
mon data = $DIR/\$name
osd data = $DIR/\$name
log to stderr = false
err to stderr = true
debug ms = 0
paxos propose interval = 0.01
paxos min wait = 0.001
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = $MEM_BYTES
osd max object name len = 460
osd max object namespace len = 64
osd op num shards = 1
osd op num threads per shard = 2
ms async op threads = 1

[client.rgw.a]
# tcp_nodelay: without it every GET answer waits ~40 ms (Nagle vs. the client's delayed ACK).
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $DIR/rgw.a
rgw thread pool size = 64
rgw dns name = localhost
# Deleted objects' data is garbage-collected after 2 h by default; memstore is RAM, so reclaim it
# within seconds (else large uploads fill the OSD, which then blocks every write).
rgw gc obj min wait = 0
rgw gc processor period = 5
EOF
}

# One attempt; returns non-zero (leaving daemons to the caller's cleanup) on any failure.
start_once() {
  local c="$DIR/ceph.conf" osd_uuid osd_id
  MON_PORT=$(free_port)
  RGW_PORT=$(free_port)
  [ "$MON_PORT" != "$RGW_PORT" ] || RGW_PORT=$(free_port)
  FSID=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$DIR"/{mon.a,rgw.a,run,log,crash}
  : >"$DIR/pids"
  write_conf

  monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$c" --mkfs -i a --monmap "$DIR/monmap" >"$DIR/log/mkfs-mon.out" 2>&1
  ceph-mon -c "$c" -i a -f >"$DIR/log/mon.a.out" 2>&1 </dev/null &
  record mon $!
  wait_for 100 ceph -c "$c" --connect-timeout 5 mon stat || return 1

  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(ceph -c "$c" --connect-timeout 10 osd new "$osd_uuid")
  mkdir -p "$DIR/osd.$osd_id"
  ceph-osd -c "$c" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/mkfs-osd.out" 2>&1
  ceph-osd -c "$c" -i "$osd_id" -f >"$DIR/log/osd.$osd_id.out" 2>&1 </dev/null &
  record osd $!
  osd_up() { ceph -c "$c" --connect-timeout 5 osd stat -f json | grep -q '"num_up_osds":1'; }
  wait_for 300 osd_up || return 1

  radosgw -c "$c" -n client.rgw.a -f >"$DIR/log/rgw.a.out" 2>&1 </dev/null &
  record rgw $!
  wait_for 600 curl -sf -m 2 -o /dev/null "http://127.0.0.1:$RGW_PORT/" || return 1

  ACCESS_KEY="WEIR$(random_hex 8 | tr 'a-f' 'A-F')"
  SECRET_KEY=$(random_hex 20)
  radosgw-admin -c "$c" user create --uid=weir --display-name=weir \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null 2>"$DIR/log/user-create.err" || return 1
  # Bucket creation is an S3 call; curl signs it (SigV4) itself. Secrets go through a file, never argv.
  (umask 077 && printf 'user = "%s:%s"\n' "$ACCESS_KEY" "$SECRET_KEY" >"$DIR/curl-auth")
  # SigV4 for S3 needs x-amz-content-sha256, which curl 7.88 does not add (here: SHA-256 of "").
  curl -sS -f -m 10 -K "$DIR/curl-auth" --aws-sigv4 "aws:amz:$REGION:s3" -X PUT \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "http://127.0.0.1:$RGW_PORT/$BUCKET" >/dev/null 2>"$DIR/log/bucket-create.err" ||
    { log "creating bucket $BUCKET failed"; return 1; }
  rm -f "$DIR/curl-auth"

  (umask 077 && print_settings >"$DIR/env")
}

print_settings() {
  cat <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:$RGW_PORT
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
AWS_REGION=$REGION
AWS_S3_FORCE_PATH_STYLE=true
WEIR_S3_BUCKET=$BUCKET
WEIR_S3_DIR=$DIR
EOF
}

# Stops the cluster once $1 has exited. Runs detached from our stdout so callers reading the
# settings through a pipe see EOF when start returns.
start_watchdog() {
  local owner=$1 self
  self=$(readlink -f "$0")
  (
    trap '' HUP
    while alive "$owner" && [ -d "$DIR" ]; do sleep 1; done
    if [ -d "$DIR" ]; then WEIR_S3_DIR=$DIR "$self" stop; fi
  ) >/dev/null 2>&1 </dev/null &
  record watchdog $!
}

cmd_start() {
  local attempt t0=$SECONDS
  for bin in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
    command -v "$bin" >/dev/null ||
      die "$bin not found; install: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd curl"
  done
  [ ! -e "$DIR" ] || [ -z "$(ls -A "$DIR")" ] ||
    die "$DIR exists and is not empty (a cluster may be running there: WEIR_S3_DIR=$DIR $0 stop)"
  for attempt in 1 2 3; do
    if start_once; then
      if [ -n "${WEIR_S3_OWNER_PID:-}" ]; then start_watchdog "$WEIR_S3_OWNER_PID"; fi
      log "ready in $((SECONDS - t0)) s: radosgw on 127.0.0.1:$RGW_PORT, state in $DIR"
      print_settings
      return 0
    fi
    log "start attempt $attempt failed; last log lines:"
    tail -n 5 "$DIR"/log/*.out "$DIR"/log/*.err 2>/dev/null | sed 's/^/  /' >&2 || true
    if [ "${WEIR_S3_KEEP_FAILED:-}" = 1 ]; then
      rm -rf "$DIR-failed-log" && cp -r "$DIR/log" "$DIR-failed-log" && log "logs kept in $DIR-failed-log"
    fi
    stop_cluster "$DIR"
  done
  die "could not start the cluster"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) stop_cluster "$DIR" ;;
  env)
    [ -f "$DIR/env" ] || die "no cluster running under $DIR"
    cat "$DIR/env"
    ;;
  gc)
    [ -f "$DIR/env" ] || die "no cluster running under $DIR"
    radosgw-admin -c "$DIR/ceph.conf" gc process --include-all >/dev/null 2>"$DIR/log/gc.err"
    ;;
  *)
    echo "usage: $0 start|stop|env|gc   (state directory: \$WEIR_S3_DIR, default $DIR)" >&2
    exit 2
    ;;
esac
