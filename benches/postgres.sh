# Sourced by the benchmarks that time standby with a PostgreSQL state: starts a throwaway
# cluster (Debian's postgresql; initdb + postgres on a Unix socket in a temporary directory,
# as the `postgres` user when run as root), exports STANDBY_STATE_URL for a fresh database,
# and stops and removes the cluster when the script exits. fsync stays on: the figures are
# those of a durable server.

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z $pg_bin || ! -x $pg_bin/initdb ]]; then
    echo "benches: PostgreSQL is needed (apt-get install postgresql)" >&2
    exit 1
fi
pg_dir=$(mktemp -d /tmp/standby-bench-pg-XXXXXX)
pg_as=()
if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$pg_dir"
    pg_as=(runuser -u postgres --)
fi
"${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-k $pg_dir -c listen_addresses=" start >/dev/null
stop_pg() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap stop_pg EXIT
# fresh_pg_database: a new empty database; exports its URL as STANDBY_STATE_URL. Named by
# the clock, not a counter: the benchmarks call it in subshells too.
fresh_pg_database() {
    local name
    name=bench$(date +%s%N)
    psql -q -h "$pg_dir" -U postgres -d postgres -c "CREATE DATABASE $name" >/dev/null
    export STANDBY_STATE_URL="host=$pg_dir user=postgres dbname=$name"
}
