#!/usr/bin/env bash
# Times SQL Server discovery: `standby discover` of $INSTANCES sql-instances (default 10),
# each holding $DATABASES databases (default 2,000) with $BACKUPS backups each in msdb
# history (default 100: full, differential and log) and a restore test each in restore
# history, against bare tiberius sending the same discovery queries and only counting rows
# (examples/sql-bench-reference.rs), the floor standby can be compared with.
#
# The instances are the TDS test server (examples/sql-bench-server.rs, all in one process on
# 127.0.0.1), whose catalogs are built in memory. It shares the cores with the client, so
# its CPU time is printed for each side. For each side the script prints the time (best
# and median of $REPEAT runs, default 5), the peak memory (the highest max RSS of the runs),
# the server's CPU time per run (median), and the statements and connections per instance
# that the server logged. It then does the same with $SMALL_DATABASES databases per instance
# (default 200), to show that the number of queries does not depend on it.
#
# usage: benches/sql.sh      (builds with `cargo build --release`; honours $CARGO_TARGET_DIR)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPEAT=${REPEAT:-5}
INSTANCES=${INSTANCES:-10}
DATABASES=${DATABASES:-2000}
BACKUPS=${BACKUPS:-100}
SMALL_DATABASES=${SMALL_DATABASES:-200}
# The history depth standby derives from the desired state (the log backup's keep=100).
DEPTH=100

(cd "$repo" && cargo build --release --quiet --bin standby --example sql-bench-server --example sql-bench-reference)
target=${CARGO_TARGET_DIR:-$repo/target}
STANDBY=$target/release/standby
SERVER=$target/release/examples/sql-bench-server
REFERENCE=$target/release/examples/sql-bench-reference

dir=$(mktemp -d)
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap 'stop_server; rm -rf "$dir"' EXIT
export STANDBY_BENCH_SQL_PASSWORD='S3cret!pw' # the server's login (examples/sql-bench-server.rs)
ticks_per_s=$(getconf CLK_TCK)

# start_server DATABASES: starts the servers, waits until they listen, writes the desired state.
start_server() {
    mkdir -p "$dir/store"
    server_out=$dir/server-$1.out
    "$SERVER" --instances "$INSTANCES" --databases "$1" --backups "$BACKUPS" --store "$dir/store" \
        >"$server_out" &
    server_pid=$!
    until grep -qs '^ready$' "$server_out"; do
        kill -0 "$server_pid" 2>/dev/null || { echo "the bench server died" >&2; exit 1; }
        sleep 0.1
    done
    python3 "$repo/benches/gen_sql_desired.py" "$server_out" "$dir/desired-$1" "$dir/store" "$1"
}

# server_cpu: the server's user + system CPU time so far, in clock ticks.
server_cpu() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

# counts: asks the server for what it received since the last time, and prints the
# `counts ID connections=C queries=Q unrecognized=U` lines of its answer.
counts() {
    local before
    before=$(grep -c '^end$' "$server_out" || true)
    kill -USR1 "$server_pid"
    until (($(grep -c '^end$' "$server_out" || true) > before)); do sleep 0.05; done
    awk -v want="$before" '/^end$/ { block++; next } block == want && /^counts /' "$server_out"
}

# measure LABEL CMD...: runs CMD $REPEAT times and prints one row of the table.
measure() {
    local label=$1
    shift
    local times=() cpus=() peak=0 i before after
    counts >/dev/null # forget whatever came before
    for ((i = 0; i < REPEAT; i++)); do
        rm -rf "$dir/state"
        before=$(server_cpu)
        /usr/bin/time -o "$dir/time" -f '%e %M' "$@" >"$dir/stdout"
        after=$(server_cpu)
        read -r seconds kb <"$dir/time"
        times+=("$seconds")
        cpus+=("$(awk -v t=$((after - before)) -v hz="$ticks_per_s" 'BEGIN { printf "%.2f", t / hz }')")
        ((kb > peak)) && peak=$kb
    done
    # Per instance and run: the server's log divided by the runs.
    local per_instance
    per_instance=$(counts | awk -v runs="$REPEAT" '{
        split($3, conn, "="); split($4, query, "="); split($5, unknown, "=")
        qs = query[2] / runs; cs = conn[2] / runs; bad += unknown[2]
        if (NR == 1 || qs < qmin) qmin = qs; if (qs > qmax) qmax = qs
        if (NR == 1 || cs < cmin) cmin = cs; if (cs > cmax) cmax = cs
    } END {
        qtext = (qmin == qmax) ? qmin : qmin "-" qmax; ctext = (cmin == cmax) ? cmin : cmin "-" cmax
        printf "%s (%s conn.%s)", qtext, ctext, bad ? ", " bad " unrecognised" : ""
    }')
    read -r best median < <(printf '%s\n' "${times[@]}" | sort -g |
        awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; print t[1], m }')
    local cpu
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
    printf '  %-40s %7.2f %8.2f %9.0f %10.2f   %s\n' "$label" "$best" "$median" "$((peak / 1024))" "$cpu" "$per_instance"
    last_best=$best
}

# table DATABASES: the benchmark for one size.
table() {
    local databases=$1
    start_server "$databases"
    local rows=$((INSTANCES * databases * BACKUPS))
    echo "$INSTANCES instances x $databases databases x $BACKUPS backups = $rows history rows"
    echo "                                            best s  median s  peak MiB  server CPU s  queries/instance"
    measure "standby discover" \
        "$STANDBY" discover --desired "$dir/desired-$databases" --state "$dir/state" \
        --out "$dir/state/observed.json" --quiet
    local standby_best=$last_best
    local observed=$dir/state/observed.json
    local observed_bytes instances databases backups restores
    observed_bytes=$(stat -c %s "$observed")
    instances=$(grep -o '"queries":[0-9]*' "$observed" | wc -l)
    databases=$(grep -o '"recovery_model":' "$observed" | wc -l)
    backups=$(grep -o '"backup_type":' "$observed" | wc -l)
    restores=$(grep -o '"destination":' "$observed" | wc -l)
    measure "bare tiberius, same queries (reference)" "$REFERENCE" "$server_out" "$DEPTH"
    local reference_best=$last_best
    local reference_rows
    reference_rows=$(awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' "$dir/stdout")
    echo "  standby / reference: $(awk -v a="$standby_best" -v b="$reference_best" 'BEGIN { printf "%.2f", a / b }') (best vs best)"
    echo "  standby observed: $instances instances, $databases databases, $backups backups, $restores restores; observed.json $((observed_bytes / 1048576)) MiB"
    echo "  reference rows: $reference_rows"
    stop_server
    echo
}

echo "standby:  $("$STANDBY" --version), commit $(git -C "$repo" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
echo "machine:  nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "runs:     best and median of $REPEAT runs, each with an empty state directory; peak = highest max RSS"
echo "server:   $INSTANCES TDS test server instances in one process on the same cores; its CPU time is the median per run"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the runs: other processes share the cores"
echo

table "$DATABASES"
table "$SMALL_DATABASES"
