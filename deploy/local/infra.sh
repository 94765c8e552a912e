#!/usr/bin/env bash
# Parley's local infrastructure, on loopback, with everything under .local/ (git-ignored):
#
#   Kafka 3.9.x   single KRaft node (broker + controller), jars from Maven Central
#   Redis         Debian's redis-server
#   PostgreSQL    Debian's PostgreSQL, the storage backend of ...
#   FerretDB v1   a MongoDB wire-protocol server (our small wrapper module, see ferretdb/main.go)
#   Helm          built with Go by helm.sh at install time (the chart's tests need it)
#
# Usage: deploy/local/infra.sh install|up|down|status|env [SERVICE]
#   install  fetch and build what is missing (idempotent; cached in .local/cache)
#   up       install, then start whatever is not running and create Parley's topics
#   down     stop everything `up` started; leaves nothing running
#   status   one line per component; exit 0 when all are running (or external), 3 otherwise
#   env      print the KAFKA_BROKERS / REDIS_URL / MONGO_URL exports for the running set-up;
#            in secure mode also the TLS settings, and with SERVICE (connector, router, storage,
#            push, admin) that principal's credentials
#
# Secure mode (PARLEY_INFRA_SECURE=1 on the first `up` of an instance; remembered in
# $PARLEY_INFRA_DIR/secure until its data is removed): every server refuses anonymous clients.
#   - a throw-away CA and server certificates in $PARLEY_INFRA_DIR/tls (pki.sh);
#   - Kafka: one SASL_SSL listener (SCRAM-SHA-512, users bootstrapped by `kafka-storage format
#     --add-scram`), the controller listener over mutual TLS (the broker's certificate is its
#     principal), the StandardAuthorizer with allow.everyone.if.no.acl.found=false, a super user
#     `admin` for this script and one user per service with the least-privilege ACLs of
#     docs/OPERATIONS.md (for the topic prefix KAFKA_TOPIC_PREFIX);
#   - Redis: TLS port only (port 0), the default user off, one ACL user per service limited to
#     its keys (REDIS_KEY_PREFIX) and commands, and `admin`;
#   - PostgreSQL: scram-sha-256 on TCP (trust only on its Unix socket in run/, for this script);
#     FerretDB: TLS listener only, no credentials in its PostgreSQL URL, so a client must
#     authenticate (PLAIN) as a PostgreSQL role: `storage` (owner of the data) or `admin`;
#   - passwords generated once into $PARLEY_INFRA_DIR/secrets (git-ignored, mode 700), one
#     file per principal: secrets/<service>.env holds its KAFKA_SASL_*, REDIS_USERNAME/PASSWORD
#     and MONGO_USERNAME/PASSWORD (only those it uses).
#   stop|kill NAME, start NAME   one component (kafka, redis, postgres, ferretdb): for failure tests
#
# Existing clusters: when KAFKA_BROKERS, REDIS_URL or MONGO_URL is set, that component is
# treated as external and nothing is installed or started for it.
#
# Settings (environment): PARLEY_PARTITIONS (default 12) partitions per topic;
# PARLEY_INFRA_DIR (default .local) where data, pid files and logs go;
# KAFKA_TOPIC_PREFIX (default "parley."); PARLEY_KAFKA_PORT (19092), PARLEY_REDIS_PORT (16379),
# PARLEY_PG_PORT (15432), PARLEY_MONGO_PORT (27117); REDIS_KEY_PREFIX (default "parley:", secure
# mode's Redis ACLs); PARLEY_INFRA_SECURE (see above).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LOCAL="$ROOT/.local"
CACHE="$LOCAL/cache"
TOOLS="$LOCAL/tools"
# A second, independent set (own data, pids, logs; own ports) lives in PARLEY_INFRA_DIR:
# the failure suite uses one so that it can kill and restart servers freely.
INSTANCE="${PARLEY_INFRA_DIR:-$LOCAL}"
DATA="$INSTANCE/data"
RUN="$INSTANCE/run"
LOGS="$INSTANCE/logs"

KAFKA_VERSION="3.9.1"
KAFKA_PORT="${PARLEY_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="$((KAFKA_PORT + 1))"
REDIS_PORT="${PARLEY_REDIS_PORT:-16379}"
PG_PORT="${PARLEY_PG_PORT:-15432}"
MONGO_PORT="${PARLEY_MONGO_PORT:-27117}"
PARTITIONS="${PARLEY_PARTITIONS:-12}"
TOPIC_PREFIX="${KAFKA_TOPIC_PREFIX:-parley.}"
TOPICS=(messages deliveries receipts signals membership dlq)
REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-parley:}"
TLS="$INSTANCE/tls"
SECRETS="$INSTANCE/secrets"
SERVICES=(connector router storage push)

# Secure mode is a property of an instance's data (its servers were formatted with users and
# certificates), so it is remembered next to the data, not asked again on every command.
secure() { [[ "${PARLEY_INFRA_SECURE:-}" == 1 || -f "$INSTANCE/secure" ]]; }

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

external() { [[ -n "${!1:-}" ]]; }

# A password generated once per principal and kept in secrets/ (hex: safe in every config syntax).
secret() { # name
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  [[ -s "$SECRETS/$1.password" ]] || (umask 077; openssl rand -hex 24 >"$SECRETS/$1.password")
  cat "$SECRETS/$1.password"
}

# The CA and one certificate per server (CN=parley-NAME, SAN localhost and 127.0.0.1).
ensure_tls() {
  bash "$HERE/pki.sh" "$TLS" kafka redis ferretdb
  # The CA only: clients read it. The keys stay 0600.
  chmod 755 "$TLS"; chmod 644 "$TLS/ca.pem"
  return 0
}

# secrets/<principal>.env: what that principal's process needs, sourced or passed as env.
write_service_secrets() {
  local name
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  for name in admin "${SERVICES[@]}"; do
    (
      umask 077
      {
        echo "# $name's credentials for this instance (deploy/local/infra.sh, secure mode). Do not commit."
        echo "KAFKA_SASL_USERNAME=$name"
        echo "KAFKA_SASL_PASSWORD=$(secret "kafka-$name")"
        echo "REDIS_USERNAME=$name"
        echo "REDIS_PASSWORD=$(secret "redis-$name")"
        if [[ $name == storage || $name == admin ]]; then
          echo "MONGO_USERNAME=$name"
          echo "MONGO_PASSWORD=$(secret "pg-$name")"
        fi
      } >"$SECRETS/$name.env"
    )
  done
}

pid_alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  local deadline=$((SECONDS + $3))
  until port_open "$2"; do
    if ! pid_alive "$1"; then log "$1 exited; last lines of .local/logs/$1.log:"; tail -30 "$LOGS/$1.log" >&2 || true; return 1; fi
    if ((SECONDS > deadline)); then log "$1 did not open port $2 within $3 s"; tail -30 "$LOGS/$1.log" >&2 || true; return 1; fi
    sleep 0.2
  done
}

stop_pid() { # name [signal]
  local name="$1" signal="${2:-TERM}" pid
  [[ -f "$RUN/$name.pid" ]] || return 0
  pid="$(cat "$RUN/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    log "stopped $name"
  fi
  rm -f "$RUN/$name.pid"
}

apt_install() { # packages...
  local sudo=()
  [[ $EUID -ne 0 ]] && sudo=(sudo -n)
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >"$LOGS/apt.log" 2>&1; then
    "${sudo[@]}" apt-get update -q >>"$LOGS/apt.log" 2>&1 || true
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >>"$LOGS/apt.log" 2>&1 || {
      tail -20 "$LOGS/apt.log" >&2; die "apt-get install $* failed (see .local/logs/apt.log)"; }
  fi
}

# ---------------------------------------------------------------- Kafka
kafka_libs="$TOOLS/kafka/libs"

install_kafka() {
  external KAFKA_BROKERS && return 0
  if [[ -f "$kafka_libs/kafka_2.13-$KAFKA_VERSION.jar" && -f "$kafka_libs/kafka-tools-$KAFKA_VERSION.jar" ]]; then return 0; fi
  command -v java >/dev/null || apt_install default-jre-headless
  command -v mvn >/dev/null || apt_install maven
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central"
  rm -rf "$kafka_libs"
  mvn -q -B -Dmaven.repo.local="$CACHE/m2" -f "$HERE/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DoutputDirectory="$kafka_libs" -DincludeScope=runtime >"$LOGS/kafka-fetch.log" 2>&1 || {
    tail -30 "$LOGS/kafka-fetch.log" >&2; die "maven could not fetch Kafka (see .local/logs/kafka-fetch.log)"; }
}

# The listeners: plaintext, or (secure mode) SASL_SSL for clients and the broker itself, and
# mutual TLS for the controller, whose principal is the broker's certificate (CN=parley-kafka):
# no listener takes a client that has not proved who it is.
kafka_listener_config() {
  if ! secure; then
    cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
    return 0
  fi
  cat <<EOF
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret kafka-admin)";
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECRETS/kafka.p12
ssl.keystore.password=$(secret kafka-keystore)
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
listener.name.controller.ssl.client.auth=required
# The broker's certificate is principal parley-kafka on the controller listener; any other
# certificate of the CA maps to its whole DN, which no ACL names.
ssl.principal.mapping.rules=RULE:^CN=(parley-kafka)$/\$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:parley-kafka
EOF
}

# The client settings of this script's own admin calls (topics, ACLs): the super user, in secrets/.
kafka_admin_config() {
  secure || return 0
  (
    umask 077
    cat >"$SECRETS/kafka-admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret kafka-admin)";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
EOF
  )
}

kafka_admin_args() { secure && printf '%s\n' --command-config "$SECRETS/kafka-admin.properties"; return 0; }

# The broker's key and certificate as the PKCS#12 keystore Java reads.
kafka_keystore() {
  [[ -s "$SECRETS/kafka.p12" && "$SECRETS/kafka.p12" -nt "$TLS/kafka.pem" ]] && return 0
  (umask 077; openssl pkcs12 -export -in "$TLS/kafka.pem" -inkey "$TLS/kafka.key" -certfile "$TLS/ca.pem" \
    -name kafka -passout "pass:$(secret kafka-keystore)" -out "$SECRETS/kafka.p12")
}

kafka_java() { java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$RUN/kafka/log4j.properties" -cp "$kafka_libs/*" "$@"; }

write_kafka_config() {
  mkdir -p "$RUN/kafka" "$DATA/kafka"
  cat >"$RUN/kafka/server.properties" <<EOF
# Written by deploy/local/infra.sh; single-node KRaft (broker and controller in one process).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
$(kafka_listener_config)
log.dirs=$DATA/kafka
# Topics are created by this script with their partition count, never by a client.
auto.create.topics.enable=false
num.partitions=$PARTITIONS
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
EOF
  cat >"$RUN/kafka/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
EOF
}

start_kafka() {
  external KAFKA_BROKERS && return 0
  if pid_alive kafka; then return 0; fi
  if secure; then ensure_tls; kafka_keystore; kafka_admin_config; fi
  write_kafka_config
  if [[ ! -f "$DATA/kafka/meta.properties" ]]; then
    local cluster_id scram=() name
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    # Secure mode: the SCRAM users go into the metadata log before the first start (KIP-900),
    # so the broker can authenticate to itself and nobody needs an anonymous way in to add them.
    if secure; then
      for name in admin "${SERVICES[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$(secret "kafka-$name")]"); done
    fi
    log "formatting Kafka storage (cluster $cluster_id)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$RUN/kafka/server.properties" "${scram[@]}" >>"$LOGS/kafka.log" 2>&1 \
      || { tail -20 "$LOGS/kafka.log" >&2; die "kafka storage format failed"; }
  fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process (set PARLEY_KAFKA_PORT)"
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  nohup java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$RUN/kafka/log4j.properties" -cp "$kafka_libs/*" \
    kafka.Kafka "$RUN/kafka/server.properties" >>"$LOGS/kafka.log" 2>&1 </dev/null &
  echo $! >"$RUN/kafka.pid"
  wait_port kafka "$KAFKA_PORT" 120
}

create_topics() {
  external KAFKA_BROKERS && return 0
  local bootstrap="127.0.0.1:$KAFKA_PORT" existing missing=() t deadline=$((SECONDS + 60))
  local admin_args; mapfile -t admin_args < <(kafka_admin_args)
  until existing="$(kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" "${admin_args[@]}" --list 2>>"$LOGS/kafka-topics.log")"; do
    ((SECONDS > deadline)) && die "could not list Kafka topics (see .local/logs/kafka-topics.log)"
    sleep 1
  done
  for t in "${TOPICS[@]}"; do
    grep -qx "$TOPIC_PREFIX$t" <<<"$existing" || missing+=("$TOPIC_PREFIX$t")
  done
  ((${#missing[@]} == 0)) && { create_acls; return 0; }
  log "creating topics ${missing[*]} ($PARTITIONS partitions each)"
  local pids=()
  for t in "${missing[@]}"; do
    # Signals are QoS 0: a minute of retention is plenty; membership is read from the
    # beginning by every instance (an hour); parked records wait four weeks. The rest keep a day locally.
    local retention=86400000
    [[ "$t" == *signals ]] && retention=60000
    [[ "$t" == *membership ]] && retention=3600000
    [[ "$t" == *dlq ]] && retention=2419200000
    kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" "${admin_args[@]}" --create --if-not-exists \
      --topic "$t" --partitions "$PARTITIONS" --replication-factor 1 \
      --config retention.ms="$retention" >>"$LOGS/kafka-topics.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "topic creation failed (see .local/logs/kafka-topics.log)"; done
  create_acls
}

# Secure mode: each service's ACLs, least privilege (the table in docs/OPERATIONS.md, derived
# from the services' main.ts). Adding an ACL that exists is a no-op, so this runs on every up.
# The connector does not speak Kafka: its user has no ACL at all (the e2e suite logs in with it
# to prove that a valid login alone is refused).
create_acls() {
  secure || return 0
  local p="$TOPIC_PREFIX" pids=() pid spec principal pattern operation resources
  local specs=(
    # principal | pattern type | operation | resources
    "router|literal|Write|--topic ${p}messages --topic ${p}receipts --topic ${p}signals"
    "router|literal|Read|--topic ${p}membership"
    "router|prefixed|Read|--group ${p}membership.router."
    "storage|literal|Write|--topic ${p}deliveries --topic ${p}messages --topic ${p}membership --topic ${p}dlq"
    "storage|literal|Read|--topic ${p}messages --topic ${p}receipts --topic ${p}membership --group ${p}storage --group ${p}storage-receipts"
    "storage|prefixed|Read|--group ${p}membership.storage."
    "push|literal|Write|--topic ${p}dlq"
    "push|literal|Read|--topic ${p}deliveries --topic ${p}signals --topic ${p}membership --group ${p}push --group ${p}push-signals"
    "push|prefixed|Read|--group ${p}membership.push."
  )
  log "granting Kafka ACLs (prefix $p) to ${SERVICES[*]}"
  for spec in "${specs[@]}"; do
    IFS='|' read -r principal pattern operation resources <<<"$spec"
    # shellcheck disable=SC2086 # resources is a list of flags
    kafka_java kafka.admin.AclCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$SECRETS/kafka-admin.properties" \
      --add --allow-principal "User:$principal" --operation "$operation" --resource-pattern-type "$pattern" $resources >>"$LOGS/kafka-acls.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "granting ACLs failed (see .local/logs/kafka-acls.log)"; done
}

# ---------------------------------------------------------------- Redis
redis_bin() { command -v redis-server || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; }; }

install_redis() {
  external REDIS_URL && return 0
  [[ -n "$(redis_bin)" ]] || apt_install redis-server
  [[ -n "$(redis_bin)" ]] || die "redis-server not found after installing"
}

start_redis() {
  external REDIS_URL && return 0
  if pid_alive redis; then return 0; fi
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process (set PARLEY_REDIS_PORT)"
  mkdir -p "$DATA/redis"
  local listen=(--port "$REDIS_PORT")
  if secure; then
    ensure_tls; redis_acl_file
    # TLS only (no plaintext port); clients authenticate with a password, not a certificate.
    listen=(--port 0 --tls-port "$REDIS_PORT" --tls-cert-file "$TLS/redis.pem" --tls-key-file "$TLS/redis.key"
      --tls-ca-cert-file "$TLS/ca.pem" --tls-auth-clients no --aclfile "$SECRETS/redis.acl")
  fi
  log "starting Redis on 127.0.0.1:$REDIS_PORT$(secure && echo ' (TLS, ACL users)')"
  "$(redis_bin)" --bind 127.0.0.1 "${listen[@]}" --dir "$DATA/redis" --daemonize no \
    --save "" --appendonly no --protected-mode yes --logfile "" >>"$LOGS/redis.log" 2>&1 </dev/null &
  echo $! >"$RUN/redis.pid"
  wait_port redis "$REDIS_PORT" 30
}

# Secure mode's Redis users: the default user off; each service only its own keys and the
# commands its adapter sends (packages/sessions/src/redis.ts, services/storage/src/store/registers.ts,
# packages/limits/src/redis.ts for the router's shared rate limits;
# commands a Lua script calls are checked too); `admin` for operators and the test clean-up.
redis_acl_file() {
  local k="$REDIS_KEY_PREFIX"
  # What ioredis sends on connecting and for scripts in pipelines (SCRIPT EXISTS/LOAD, EVALSHA).
  local base="resetchannels -@all +ping +info +hello +client|setname +select +quit +script|exists +script|load +evalsha +eval +multi +exec"
  (
    umask 077
    cat >"$SECRETS/redis.acl" <<EOF
user default off
user admin on >$(secret redis-admin) ~* &* +@all
user connector on >$(secret redis-connector) ~${k}sess:* $base +hget +hset +hdel +hgetall +pexpire +pttl
user push on >$(secret redis-push) ~${k}sess:* $base +hgetall
user storage on >$(secret redis-storage) ~${k}reg:* $base +get +set +mget +pexpire
user router on >$(secret redis-router) ~${k}rl:* $base +hgetall +hset +hdel +pexpire +time
EOF
  )
}

# ---------------------------------------------------------------- PostgreSQL + FerretDB
pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }; done
  return 1
}

# PostgreSQL refuses to run as root; when we are root it runs as the `postgres` user that
# Debian's package creates (setpriv execs, so the pid we record is the server's own).
as_pg() {
  if [[ $EUID -eq 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}

install_pg() {
  external MONGO_URL && return 0
  pg_bindir >/dev/null || apt_install postgresql
  pg_bindir >/dev/null || die "PostgreSQL not found after installing"
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
}

start_pg() {
  external MONGO_URL && return 0
  local bin; bin="$(pg_bindir)"
  if pid_alive postgres; then prepare_ferretdb_db; return 0; fi
  mkdir -p "$DATA/postgres" "$RUN/pgsock"
  [[ $EUID -eq 0 ]] && chown postgres "$DATA/postgres" "$RUN/pgsock" && chmod 700 "$DATA/postgres"
  # Secure mode: only the server's own user reaches the Unix socket (trust, for this script).
  secure && chmod 700 "$RUN/pgsock"
  if [[ ! -f "$DATA/postgres/PG_VERSION" ]]; then
    log "initialising PostgreSQL data directory"
    # Secure mode: a password (scram-sha-256) for every TCP connection, FerretDB's included.
    local auth=(-A trust)
    secure && auth=(--auth-local=trust --auth-host=scram-sha-256)
    as_pg "$bin/initdb" -D "$DATA/postgres" "${auth[@]}" -U postgres -E UTF8 --no-locale >>"$LOGS/postgres.log" 2>&1 \
      || { tail -20 "$LOGS/postgres.log" >&2; die "initdb failed"; }
  fi
  port_open "$PG_PORT" && die "port $PG_PORT is taken by another process (set PARLEY_PG_PORT)"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  touch "$LOGS/postgres.log"; [[ $EUID -eq 0 ]] && chown postgres "$LOGS/postgres.log"
  local run_as=()
  [[ $EUID -eq 0 ]] && run_as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  # fsync off: this is a disposable development/test database, never production.
  "${run_as[@]}" "$bin/postgres" -D "$DATA/postgres" -h 127.0.0.1 -p "$PG_PORT" -k "$RUN/pgsock" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
    -c shared_buffers=128MB >>"$LOGS/postgres.log" 2>&1 </dev/null &
  echo $! >"$RUN/postgres.pid"
  wait_port postgres "$PG_PORT" 60
  # The postmaster's own pid, whatever started it.
  head -1 "$DATA/postgres/postmaster.pid" >"$RUN/postgres.pid"
  local deadline=$((SECONDS + 30))
  until as_pg "$bin/psql" -h "$(pg_admin_host)" -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; do
    ((SECONDS > deadline)) && die "PostgreSQL does not answer queries"
    sleep 0.3
  done
  prepare_ferretdb_db
}

# Where this script's own psql connects: TCP, or in secure mode the Unix socket (no password).
pg_admin_host() { if secure; then echo "$RUN/pgsock"; else echo 127.0.0.1; fi; }

# The database FerretDB keeps its collections in; also on a server that was already running.
prepare_ferretdb_db() {
  local bin host; bin="$(pg_bindir)"; host="$(pg_admin_host)"
  if [[ "$(as_pg "$bin/psql" -h "$host" -p "$PG_PORT" -U postgres -d postgres -Atqc "select 1 from pg_database where datname='ferretdb'")" != 1 ]]; then
    as_pg "$bin/createdb" -h "$host" -p "$PG_PORT" -U postgres ferretdb
  fi
  # FerretDB v1 never uses an index for a lookup; give its tables GIN indexes (see the file).
  as_pg "$bin/psql" -h "$host" -p "$PG_PORT" -U postgres -d ferretdb -v ON_ERROR_STOP=1 -q -f - <"$HERE/ferretdb/lookup-indexes.sql" >>"$LOGS/postgres.log" 2>&1 \
    || { tail -20 "$LOGS/postgres.log" >&2; die "applying ferretdb/lookup-indexes.sql failed"; }
  secure || return 0
  # Secure mode: FerretDB passes a client's PLAIN credentials on to PostgreSQL, so MongoDB
  # users are PostgreSQL roles: storage owns the data, admin (operators, test clean-up) acts as
  # storage. Passwords go in on stdin, never on a command line.
  as_pg "$bin/psql" -h "$host" -p "$PG_PORT" -U postgres -d ferretdb -v ON_ERROR_STOP=1 -q -f - >>"$LOGS/postgres.log" 2>&1 <<EOF \
    || { tail -20 "$LOGS/postgres.log" >&2; die "creating the PostgreSQL roles failed"; }
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'storage') THEN CREATE ROLE storage LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'admin') THEN CREATE ROLE admin LOGIN; END IF;
END \$\$;
ALTER ROLE storage PASSWORD '$(secret pg-storage)';
ALTER ROLE admin PASSWORD '$(secret pg-admin)';
ALTER DATABASE ferretdb OWNER TO storage;
GRANT storage TO admin;
EOF
}

ferretdb_stamp() { cat "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$HERE/ferretdb/main.go" | sha256sum | cut -c1-16; }
# Named by its sources' hash: checkouts of different versions share .local/tools without
# rebuilding over each other's binary (a running server keeps the file it started from).
ferretdb_bin="$TOOLS/bin/parley-ferretdb-$(ferretdb_stamp)"

install_ferretdb() {
  external MONGO_URL && return 0
  [[ -x "$ferretdb_bin" ]] && return 0
  command -v go >/dev/null || die "Go is needed to build FerretDB (deploy/local/ferretdb); install Go 1.22 or newer"
  log "building FerretDB v1 (deploy/local/ferretdb) with $(go version | cut -d' ' -f3)"
  mkdir -p "$TOOLS/bin"
  (cd "$HERE/ferretdb" && GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" GOFLAGS="-mod=readonly -buildvcs=false" \
    CGO_ENABLED=0 go build -trimpath -o "$ferretdb_bin.tmp.$$" .) >"$LOGS/ferretdb-build.log" 2>&1 || {
    tail -30 "$LOGS/ferretdb-build.log" >&2; die "building FerretDB failed (see .local/logs/ferretdb-build.log)"; }
  mv -f "$ferretdb_bin.tmp.$$" "$ferretdb_bin"
}

start_ferretdb() {
  external MONGO_URL && return 0
  if pid_alive ferretdb; then return 0; fi
  port_open "$MONGO_PORT" && die "port $MONGO_PORT is taken by another process (set PARLEY_MONGO_PORT)"
  local listen=(--listen-addr "127.0.0.1:$MONGO_PORT") pg_user="postgres@"
  if secure; then
    ensure_tls
    # TLS only, and no user in the PostgreSQL URL: a client that does not authenticate (PLAIN)
    # has no PostgreSQL role to act as. No CA flag: with one FerretDB demands client certificates.
    listen=(--listen-addr "" --listen-tls "127.0.0.1:$MONGO_PORT" --listen-tls-cert-file "$TLS/ferretdb.pem" --listen-tls-key-file "$TLS/ferretdb.key")
    pg_user=""
  fi
  log "starting FerretDB on 127.0.0.1:$MONGO_PORT (PostgreSQL backend$(secure && echo ', TLS, PLAIN authentication'))"
  "$ferretdb_bin" "${listen[@]}" \
    --postgresql-url "postgres://${pg_user}127.0.0.1:$PG_PORT/ferretdb?pool_max_conns=150" \
    --log-level warn >>"$LOGS/ferretdb.log" 2>&1 </dev/null &
  echo $! >"$RUN/ferretdb.pid"
  wait_port ferretdb "$MONGO_PORT" 30
}

# ---------------------------------------------------------------- commands
cmd_install() {
  mkdir -p "$CACHE" "$TOOLS" "$DATA" "$RUN" "$LOGS"
  # Helm (the chart's tests, test/k8s) builds with Go in the background: its module downloads
  # overlap the other installs. Instant when it is already there.
  bash "$HERE/helm.sh" &
  local helm_pid=$!
  install_kafka
  install_redis
  install_pg
  install_ferretdb
  wait "$helm_pid" || die "installing Helm failed (see .local/logs/helm-build.log)"
}

cmd_up() {
  cmd_install
  if secure; then
    # Remembered with the data: env, start and down of this instance need no flag.
    [[ -f "$INSTANCE/secure" ]] || { [[ -e "$DATA/kafka/meta.properties" || -e "$DATA/postgres/PG_VERSION" ]] && die "$INSTANCE has data of a plaintext set-up: remove $DATA first"; }
    touch "$INSTANCE/secure"
    ensure_tls
    write_service_secrets
  fi
  start_redis
  start_pg
  start_ferretdb
  start_kafka
  create_topics
  cmd_status >&2 || true
}

cmd_down() {
  stop_pid ferretdb
  stop_pid postgres INT # PostgreSQL's "fast" shutdown: does not wait for clients to leave
  stop_pid redis
  stop_pid kafka
}

cmd_status() {
  local ok=0 line
  for line in "kafka KAFKA_BROKERS 127.0.0.1:$KAFKA_PORT" "redis REDIS_URL 127.0.0.1:$REDIS_PORT" \
    "postgres MONGO_URL 127.0.0.1:$PG_PORT" "ferretdb MONGO_URL 127.0.0.1:$MONGO_PORT"; do
    set -- $line
    if external "$2"; then
      echo "$1: external ($2 is set)"
    elif pid_alive "$1"; then
      echo "$1: running (pid $(cat "$RUN/$1.pid"), $3)"
    else
      echo "$1: stopped"; ok=3
    fi
  done
  return "$ok"
}

cmd_env() { # [SERVICE]
  if ! secure; then
    echo "export KAFKA_BROKERS='${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}'"
    echo "export REDIS_URL='${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}'"
    echo "export MONGO_URL='${MONGO_URL:-mongodb://127.0.0.1:$MONGO_PORT/}'"
    return 0
  fi
  # No password in a URL: services log their settings, and URLs travel further than files.
  echo "export KAFKA_BROKERS='127.0.0.1:$KAFKA_PORT' KAFKA_SSL=true KAFKA_TLS_CA_FILE='$TLS/ca.pem' KAFKA_SASL_MECHANISM=scram-sha-512"
  echo "export REDIS_URL='rediss://127.0.0.1:$REDIS_PORT' REDIS_TLS_CA_FILE='$TLS/ca.pem'"
  echo "export MONGO_URL='mongodb://127.0.0.1:$MONGO_PORT/?tls=true&authMechanism=PLAIN' MONGO_TLS_CA_FILE='$TLS/ca.pem'"
  echo "export PARLEY_INFRA_SECRETS='$SECRETS'"
  [[ -n "${1:-}" ]] || { echo "# credentials: $SECRETS/<connector|router|storage|push|admin>.env, or: infra.sh env SERVICE"; return 0; }
  [[ -f "$SECRETS/$1.env" ]] || die "no credentials for '$1' (one of: admin ${SERVICES[*]})"
  local line
  while IFS= read -r line; do [[ $line == \#* || -z $line ]] || echo "export $line"; done <"$SECRETS/$1.env"
}

mkdir -p "$LOGS" "$RUN"
case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env "${2:-}" ;;
  start) # start ONE component (after a stop or kill): kafka | redis | postgres | ferretdb
    case "${2:-}" in
      kafka) start_kafka; create_topics ;;
      redis) start_redis ;;
      postgres) start_pg ;;
      ferretdb) start_ferretdb ;;
      *) die "usage: infra.sh start kafka|redis|postgres|ferretdb" ;;
    esac ;;
  stop | kill) # stop ONE component gracefully (stop) or with SIGKILL (kill), for failure tests
    case "${2:-}" in
      kafka | redis | ferretdb) stop_pid "$2" "$([[ $1 == kill ]] && echo KILL || echo TERM)" ;;
      postgres) stop_pid postgres "$([[ $1 == kill ]] && echo KILL || echo INT)" ;;
      *) die "usage: infra.sh $1 kafka|redis|postgres|ferretdb" ;;
    esac ;;
  *) sed -n '2,44p' "$0" >&2; exit 64 ;;
esac
