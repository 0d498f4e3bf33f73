#!/usr/bin/env bash
# Real services for local development and tests: a project-owned PostgreSQL cluster and a
# single-node KRaft Kafka broker assembled from Maven Central (ARCHITECTURE.md §5).
#
#   deploy/local/services.sh up       install what is missing, start both, wait until ready
#   deploy/local/services.sh down     stop both
#   deploy/local/services.sh status   report both (exit 0 only if both are up)
#   deploy/local/services.sh env      print `export ...` lines; use: eval "$(deploy/local/services.sh env)"
#
# State lives in <repo>/.services (git-ignored). Nothing here touches the system's default
# PostgreSQL cluster. Works as root on a fresh Debian 12 (installs postgresql, a JRE and maven
# with apt when they are missing); as a non-root user the tools must already be installed.
#
# Environment overrides:
#   SENTINEL_PG_PORT               PostgreSQL port                 (default 55432)
#   SENTINEL_KAFKA_PORT            Kafka PLAINTEXT listener port   (default 59092)
#   SENTINEL_KAFKA_CONTROLLER_PORT Kafka KRaft controller port     (default 59093)
#   SENTINEL_SERVICES_DIR          state directory                 (default <repo>/.services)
#   SENTINEL_PG_DIR                PostgreSQL state directory      (default $SENTINEL_SERVICES_DIR/pg)
#   SENTINEL_PG_START_TIMEOUT      seconds to wait for PostgreSQL  (default 60)
#   SENTINEL_KAFKA_START_TIMEOUT   seconds to wait for Kafka       (default 120)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVICES_DIR="${SENTINEL_SERVICES_DIR:-$ROOT/.services}"

PG_PORT="${SENTINEL_PG_PORT:-55432}"
PG_DB="sentinel"
PG_USER="sentinel"
PG_PASSWORD="sentinel"
PG_START_TIMEOUT="${SENTINEL_PG_START_TIMEOUT:-60}"

KAFKA_PORT="${SENTINEL_KAFKA_PORT:-59092}"
KAFKA_CTL_PORT="${SENTINEL_KAFKA_CONTROLLER_PORT:-59093}"
KAFKA_START_TIMEOUT="${SENTINEL_KAFKA_START_TIMEOUT:-120}"
KAFKA_POM="$ROOT/deploy/local/kafka/pom.xml"
KAFKA_LOG4J="$ROOT/deploy/local/kafka/log4j.properties"
KAFKA_DIR="$SERVICES_DIR/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_LOG="$KAFKA_DIR/server.log"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# True if the process exists and is not a zombie (a crashed daemon is re-parented to PID 1, which
# in a container may not reap it promptly, so `kill -0` alone would still succeed).
pid_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != "Z" ] && [ "$state" != "X" ]
}

# ---------------------------------------------------------------------------------------------
# apt (only as root, `apt-get update` at most once per run)
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  is_root || die "missing $* and not running as root; install it (apt-get install -y $*) and retry"
  command -v apt-get >/dev/null 2>&1 || die "missing $* and apt-get is not available"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
PG_BIN=""
find_pg_bin() {
  local p
  PG_BIN=""
  # Highest installed major version that has the server binaries.
  for p in $(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V); do
    PG_BIN="$(dirname "$p")"
  done
  [ -n "$PG_BIN" ]
}

# Runs a command as the OS user that owns the cluster (postgres refuses to run as root).
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The data directory must be reachable by the `postgres` OS user. <repo>/.services/pg is used
# unless a parent directory is closed to other users (e.g. a checkout under /root); then the
# cluster lives under the postgres user's home instead, keyed by the state directory's path.
PG_BASE=""
resolve_pg_base() {
  if [ -n "${SENTINEL_PG_DIR:-}" ]; then
    PG_BASE="$SENTINEL_PG_DIR"
    return
  fi
  PG_BASE="$SERVICES_DIR/pg"
  if is_root && id postgres >/dev/null 2>&1; then
    local probe="$SERVICES_DIR"
    [ -d "$probe" ] || probe="$(dirname "$SERVICES_DIR")"
    if ! runuser -u postgres -- test -x "$probe" 2>/dev/null; then
      local key
      key="$(printf '%s' "$SERVICES_DIR" | cksum | cut -d' ' -f1)"
      PG_BASE="/var/lib/postgresql/sentinel-$key"
    fi
  fi
}

pg_paths() {
  resolve_pg_base
  PG_DATA="$PG_BASE/data"
  PG_LOG="$PG_BASE/postgres.log"
  PG_ADMIN_PWFILE="$PG_BASE/superuser.pw"
}

pg_ensure_installed() {
  if ! find_pg_bin; then
    apt_install postgresql
    find_pg_bin || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
  fi
  if is_root && ! id postgres >/dev/null 2>&1; then
    die "the postgres OS user does not exist (is the postgresql package installed?)"
  fi
}

# Prints the pid of the running postmaster for our data dir, or nothing. Removes a stale
# postmaster.pid (process gone, or pid reused by something that is not postgres).
pg_running_pid() {
  local pidfile="$PG_DATA/postmaster.pid" pid comm
  [ -f "$pidfile" ] || return 0
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  if pid_alive "$pid"; then
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    if [ "$comm" = "postgres" ] || [ "$comm" = "postmaster" ]; then
      echo "$pid"
      return 0
    fi
  fi
  log "removing stale $pidfile (pid ${pid:-?} is not a running postgres)"
  rm -f "$pidfile"
}

pg_admin_psql() {
  PGPASSWORD="$(cat "$PG_ADMIN_PWFILE")" PGCONNECT_TIMEOUT=5 \
    "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

pg_up() {
  pg_ensure_installed
  pg_paths
  mkdir -p "$PG_BASE"
  if is_root; then chown postgres:postgres "$PG_BASE"; fi
  chmod 700 "$PG_BASE"
  as_pg test -w "$PG_BASE" \
    || die "the postgres OS user cannot write $PG_BASE; set SENTINEL_PG_DIR to a directory it can reach"

  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initdb $PG_DATA"
    rm -rf "$PG_DATA"
    # Superuser password: random, kept next to the cluster, readable by its owner only.
    (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PG_ADMIN_PWFILE")
    if is_root; then chown postgres:postgres "$PG_ADMIN_PWFILE"; fi
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$PG_ADMIN_PWFILE" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
      >"$PG_BASE/initdb.log" 2>&1 \
      || { tail -n 30 "$PG_BASE/initdb.log" >&2; die "initdb failed (log: $PG_BASE/initdb.log)"; }
  fi

  # Settings owned by this script, rewritten on every `up` (port may be overridden).
  local conf="$PG_DATA/sentinel.conf"
  as_pg tee "$conf" >/dev/null <<EOF
# Written by deploy/local/services.sh; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 200
logging_collector = off
EOF
  if ! grep -q "^include_if_exists = 'sentinel.conf'" "$PG_DATA/postgresql.conf"; then
    printf "\ninclude_if_exists = 'sentinel.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi

  local pid starts=0 start=$SECONDS
  pid="$(pg_running_pid)"
  if [ -n "$pid" ]; then
    log "postgres already running (pid $pid)"
  elif "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1; then
    die "another PostgreSQL server already listens on 127.0.0.1:$PG_PORT; stop it or set SENTINEL_PG_PORT"
  fi
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; do
    if [ -z "$(pg_running_pid)" ]; then
      # Not running (or it died while we waited, e.g. it was shutting down): start it, once.
      if [ "$starts" -ge 1 ]; then
        tail -n 30 "$PG_LOG" >&2 || true
        die "postgres exited during start-up (log: $PG_LOG)"
      fi
      starts=$((starts + 1))
      log "starting postgres on 127.0.0.1:$PG_PORT"
      # 9>&-: the server must not inherit the lock taken by take_lock.
      if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" start >/dev/null 9>&-; then
        tail -n 30 "$PG_LOG" >&2 || true
        die "postgres failed to start (log: $PG_LOG)"
      fi
      continue
    fi
    if [ $((SECONDS - start)) -ge "$PG_START_TIMEOUT" ]; then
      tail -n 30 "$PG_LOG" >&2 || true
      die "postgres on 127.0.0.1:$PG_PORT not ready after ${PG_START_TIMEOUT}s (log: $PG_LOG)"
    fi
    sleep 0.5
  done

  # Application role and database (idempotent).
  if [ "$(pg_admin_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    pg_admin_psql -c "CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
  fi
  if [ "$(pg_admin_psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
    pg_admin_psql -c "CREATE DATABASE $PG_DB OWNER $PG_USER"
  fi
  log "postgres ready: 127.0.0.1:$PG_PORT database=$PG_DB user=$PG_USER password=$PG_PASSWORD"
}

pg_down() {
  pg_paths
  if ! find_pg_bin || [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "postgres: not set up"
    return 0
  fi
  local pid
  pid="$(pg_running_pid)"
  if [ -z "$pid" ]; then
    log "postgres: not running"
    return 0
  fi
  log "stopping postgres (pid $pid)"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null \
    || die "postgres did not stop (log: $PG_LOG)"
}

pg_status() {
  pg_paths
  if ! find_pg_bin || [ ! -f "$PG_DATA/PG_VERSION" ]; then
    echo "postgres: not set up ($PG_DATA)"
    return 1
  fi
  local pid
  pid="$(pg_running_pid 2>/dev/null)"
  if [ -n "$pid" ] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; then
    echo "postgres: ready (pid $pid) 127.0.0.1:$PG_PORT db=$PG_DB user=$PG_USER data=$PG_DATA"
    return 0
  elif [ -n "$pid" ]; then
    echo "postgres: running (pid $pid) but not accepting connections on 127.0.0.1:$PG_PORT"
    return 1
  fi
  echo "postgres: stopped (data=$PG_DATA)"
  return 1
}

# ---------------------------------------------------------------------------------------------
# Kafka (single-node KRaft, broker+controller in one JVM)
# ---------------------------------------------------------------------------------------------
kafka_ensure_tools() {
  local need=()
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || need+=(maven)
  if [ "${#need[@]}" -gt 0 ]; then apt_install "${need[@]}"; fi
}

kafka_cp() { printf '%s/*' "$KAFKA_LIBS"; }

kafka_java() {
  java -Dlog4j.configuration="file:$KAFKA_LOG4J" -cp "$(kafka_cp)" "$@"
}

kafka_ensure_libs() {
  local stamp="$KAFKA_LIBS/.pom.sha256" want
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "downloading the Kafka broker from Maven Central (mvn dependency:copy-dependencies)"
  local tmp="$KAFKA_DIR/libs.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Maven's output goes to a file (quiet mode still prints stray colour codes); shown on failure.
  if ! mvn -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" >"$KAFKA_DIR/mvn.log" 2>&1; then
    sed -e 's/\x1b\[[0-9;]*m//g' "$KAFKA_DIR/mvn.log" | grep -E 'ERROR|WARN' | tail -n 30 >&2 || true
    die "mvn dependency:copy-dependencies failed (log: $KAFKA_DIR/mvn.log)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "mvn finished but no kafka_2.13 jar in $tmp"
  echo "$want" >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

kafka_write_props() {
  cat >"$KAFKA_PROPS" <<EOF
# Written by deploy/local/services.sh; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CTL_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CTL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

# Prints the broker's pid if it is running; removes a stale pid file otherwise.
kafka_running_pid() {
  [ -f "$KAFKA_PIDFILE" ] || return 0
  local pid
  pid="$(cat "$KAFKA_PIDFILE" 2>/dev/null || true)"
  if pid_alive "$pid" \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $KAFKA_PROPS"; then
    echo "$pid"
    return 0
  fi
  log "removing stale $KAFKA_PIDFILE (pid ${pid:-?} is not our broker)"
  rm -f "$KAFKA_PIDFILE"
}

kafka_up() {
  kafka_ensure_tools
  mkdir -p "$KAFKA_DIR"
  kafka_ensure_libs
  kafka_write_props

  local pid
  pid="$(kafka_running_pid)"
  if [ -n "$pid" ] && grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null; then
    log "kafka already running (pid $pid)"
    log "kafka ready: 127.0.0.1:$KAFKA_PORT"
    return 0
  fi

  if [ -z "$pid" ]; then
    if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
      local cluster_id_file="$KAFKA_DIR/cluster.id"
      if [ ! -s "$cluster_id_file" ]; then
        kafka_java kafka.tools.StorageTool random-uuid >"$cluster_id_file" \
          || die "kafka.tools.StorageTool random-uuid failed"
      fi
      log "formatting kafka storage $KAFKA_DATA"
      kafka_java kafka.tools.StorageTool format -t "$(cat "$cluster_id_file")" -c "$KAFKA_PROPS" \
        --ignore-formatted >/dev/null || die "kafka.tools.StorageTool format failed"
    fi

    log "starting kafka on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CTL_PORT)"
    [ -f "$KAFKA_LOG" ] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"
    # setsid: the broker must outlive this shell and not get signals meant for the caller's
    # process group (e.g. Ctrl-C on a test run). The inner shell records its own pid, then
    # becomes the JVM.
    KAFKA_PIDFILE="$KAFKA_PIDFILE" KAFKA_LOG4J="$KAFKA_LOG4J" KAFKA_CP="$(kafka_cp)" \
      KAFKA_PROPS="$KAFKA_PROPS" KAFKA_LOGS_DIR="$KAFKA_DIR" \
      nohup setsid bash -c 'echo $$ >"$KAFKA_PIDFILE"; exec java -Xms256m -Xmx512m \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$KAFKA_LOGS_DIR" \
        -cp "$KAFKA_CP" kafka.Kafka "$KAFKA_PROPS"' \
      </dev/null >"$KAFKA_LOG" 2>&1 9>&- &
    local i=0
    while [ ! -s "$KAFKA_PIDFILE" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    pid="$(cat "$KAFKA_PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] || die "kafka did not start (no pid file; log: $KAFKA_LOG)"
  fi

  local start=$SECONDS
  until grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null; do
    if ! pid_alive "$pid"; then
      rm -f "$KAFKA_PIDFILE"
      echo "----- tail of $KAFKA_LOG -----" >&2
      tail -n 40 "$KAFKA_LOG" >&2 || true
      die "kafka exited during start-up (log: $KAFKA_LOG)"
    fi
    if [ $((SECONDS - start)) -ge "$KAFKA_START_TIMEOUT" ]; then
      echo "----- tail of $KAFKA_LOG -----" >&2
      tail -n 40 "$KAFKA_LOG" >&2 || true
      die "kafka not started after ${KAFKA_START_TIMEOUT}s (pid $pid still running; log: $KAFKA_LOG)"
    fi
    sleep 0.25
  done
  log "kafka ready: 127.0.0.1:$KAFKA_PORT (pid $pid)"
}

kafka_down() {
  local pid
  pid="$(kafka_running_pid)"
  if [ -z "$pid" ]; then
    log "kafka: not running"
    return 0
  fi
  log "stopping kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i=0
  while pid_alive "$pid"; do
    if [ "$i" -ge 600 ]; then
      log "kafka did not stop within 60s; killing"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    i=$((i + 1))
  done
  rm -f "$KAFKA_PIDFILE"
}

kafka_status() {
  local pid
  pid="$(kafka_running_pid 2>/dev/null)"
  if [ -z "$pid" ]; then
    echo "kafka: stopped (dir=$KAFKA_DIR)"
    return 1
  fi
  if grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null \
    && (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; then
    echo "kafka: ready (pid $pid) 127.0.0.1:$KAFKA_PORT controller=127.0.0.1:$KAFKA_CTL_PORT"
    return 0
  fi
  echo "kafka: running (pid $pid) but not ready on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_LOG)"
  return 1
}

# ---------------------------------------------------------------------------------------------

# One `up`/`down` at a time per state directory (parallel test runs share the services).
take_lock() {
  mkdir -p "$SERVICES_DIR"
  exec 9>"$SERVICES_DIR/.lock"
  flock -w 600 9 || die "timed out waiting for another services.sh in $SERVICES_DIR"
}

usage() {
  echo "usage: $0 up|down|status|env" >&2
  exit 2
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    up)
      take_lock
      local t0=$SECONDS
      pg_up
      kafka_up
      log "all services ready in $((SECONDS - t0))s"
      log "DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
      log "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
      ;;
    down)
      take_lock
      kafka_down
      pg_down
      ;;
    status)
      local rc=0
      pg_status || rc=1
      kafka_status || rc=1
      return "$rc"
      ;;
    env)
      printf 'export DATABASE_URL=%q\n' "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
      printf 'export KAFKA_BROKERS=%q\n' "127.0.0.1:$KAFKA_PORT"
      printf 'export SENTINEL_KAFKA_LIBS=%q\n' "$KAFKA_LIBS"
      printf 'export SENTINEL_KAFKA_LOG4J=%q\n' "$KAFKA_LOG4J"
      ;;
    *) usage ;;
  esac
}

main "$@"
