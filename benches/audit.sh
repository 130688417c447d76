#!/usr/bin/env bash
# Times `standby audit` against `rsync -anc --delete primary/ standby/`, the usual way to
# prove that two trees hold the same bytes, on a primary store of 100,000 backup files
# (1,000 databases x 100 full backups of 200-500 bytes) and its copy at the standby site:
#
#   cold catalog: an empty state, so audit reads and hashes all 200,000 files (as rsync -c
#                 does on every run) and records their hashes;
#   warm catalog: audit again: unchanged files are known by path, size and mtime, so it
#                 lists both trees and reads nothing; rsync -c reads everything again.
#
# Both audits are live (discover + audit), with the exit status shown: 0 means the standby's
# copies were proved equal. Each runs twice: with the default local state (state.db) and with
# a PostgreSQL state (a throwaway cluster, benches/postgres.sh). Data is generated once into $BENCH_DIR (default
# /tmp/standby-audit-bench) and reused; every file is read once before timing, so all
# figures are from the page cache. Each figure is the best and the median of $REPEAT runs
# (default 5).
#
# usage: benches/audit.sh          (builds with `cargo build --release` unless $STANDBY
#                                   names a binary; honours $CARGO_TARGET_DIR)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/standby-audit-bench}
REPEAT=${REPEAT:-5}
DATABASES=1000
BACKUPS=100

if [[ -z ${STANDBY:-} ]]; then
    (cd "$repo" && cargo build --release --quiet)
    STANDBY=${CARGO_TARGET_DIR:-$repo/target}/release/standby
fi
command -v rsync >/dev/null || {
    echo "benches/audit.sh: rsync is needed (apt-get install rsync)" >&2
    exit 1
}

primary=$BENCH_DIR/primary
standby_store=$BENCH_DIR/standby

generate() {
    if [[ -e $BENCH_DIR/.done ]]; then
        return
    fi
    echo "generating $DATABASES databases x $BACKUPS backups into $primary, copied to $standby_store ..." >&2
    rm -rf "$BENCH_DIR" && mkdir -p "$primary"
    python3 - "$primary" "$DATABASES" "$BACKUPS" <<'EOF'
import datetime, os, random, sys
root, databases, backups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261122)
newest = datetime.datetime(2026, 11, 21, 1, 0, 0)
stamps = [(newest - datetime.timedelta(days=b)).strftime("%Y%m%dT%H%M%SZ") for b in range(backups)]
for d in range(databases):
    name = f"db{d:04}"
    directory = os.path.join(root, "p", "database", name, "full")
    os.makedirs(directory, exist_ok=True)
    for stamp in stamps:
        with open(os.path.join(directory, f"{name}_full_{stamp}.bak"), "wb") as f:
            f.write(rng.randbytes(rng.randint(200, 500)))
EOF
    # The copies at the standby site: same bytes, same mtimes.
    cp -a "$primary" "$standby_store"
    mkdir -p "$BENCH_DIR/desired"
    {
        cat <<EOF
deployment "bench" product="generic" domain="example.test" {
    objectives rpo="24h"
}
site "p" role="primary" region="west" {
    store "local" path="$primary"
    store "offsite" path="$standby_store" located-at="s"
    sql-instance "i" host="sql01.example.test"
EOF
        for ((d = 0; d < DATABASES; d++)); do
            printf '    database "db%04d" instance="i" {\n        backup "full" every="24h" keep=%d store="local" copy-to="offsite"\n    }\n' "$d" "$BACKUPS"
        done
        cat <<EOF
}
site "s" role="standby" standby-for="p" region="east" {
    omit "sql-instance/i" reason="the standby restores from the copies"
}
EOF
    } >"$BENCH_DIR/desired/d.kdl"
    touch "$BENCH_DIR/.done"
}

# Milliseconds of one run of "$@", output discarded.
millis() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# "best median" of $REPEAT runs of "$@"; $SETUP (a command) runs before each, untimed.
measure() {
    local times=() i
    for ((i = 0; i < REPEAT; i++)); do
        [[ -n ${SETUP:-} ]] && eval "$SETUP"
        times+=("$(millis "$@")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "%d %d\n", t[1], t[int((NR + 1) / 2)] }'
}

generate
cd "$BENCH_DIR"
# The same desired state with a PostgreSQL state (a throwaway cluster, benches/postgres.sh).
mkdir -p desired-pg
{
    cat desired/d.kdl
    echo 'state "postgres" url-env="STANDBY_STATE_URL"'
} >desired-pg/d.kdl
rsync_cmd=(rsync -anc --delete "$primary/" "$standby_store/")
audit_with() { # DESIRED_DIR ARGS...
    local desired=$1
    shift
    "$STANDBY" audit --desired "$desired" --state state --now 2026-11-22T06:00:00Z -q "$@"
}

echo "warming the page cache ..." >&2
find "$primary" "$standby_store" -type f -exec cat {} + >/dev/null

# shellcheck source=benches/postgres.sh
source "$repo/benches/postgres.sh"

files=$(find "$primary" "$standby_store" -type f | wc -l)
echo "standby:  $("$STANDBY" --version), commit $(git -C "$repo" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
echo "machine:  nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the runs: other processes share the cores"
echo "audit of a primary store and its standby copy: $files files, $REPEAT runs, ms (best / median)"
printf '%-44s %8s %8s\n' "" best median
read -r rsync_best rsync_median < <(measure "${rsync_cmd[@]}")
printf '%-44s %8d %8d\n' "rsync -anc --delete primary/ standby/" "$rsync_best" "$rsync_median"
# For context: listing both trees, the least any re-check must do.
read -r find_best find_median < <(measure find "$primary" "$standby_store" -printf '%s %T@\n')
printf '%-44s %8d %8d\n' "find both trees -printf (the listing alone)" "$find_best" "$find_median"

# figures LABEL DESIRED_DIR FRESH: cold and warm audits with the state FRESH makes empty.
figures() {
    local label=$1 desired=$2 fresh=$3
    $fresh
    set +e
    audit_with "$desired" >/dev/null 2>&1
    status=$?
    set -e
    echo "  $label state: standby audit exit status $status (0 = every copy proved equal)" >&2
    read -r cold_best cold_median < <(SETUP=$fresh measure audit_with "$desired")
    audit_with "$desired" >/dev/null 2>&1 || true
    read -r warm_best warm_median < <(measure audit_with "$desired")
    printf '%-44s %8d %8d   %.2fx rsync (best; target <= 1)\n' "standby audit, $label, cold (hashes all)" \
        "$cold_best" "$cold_median" "$(echo "$cold_best $rsync_best" | awk '{ print $1 / $2 }')"
    printf '%-44s %8d %8d   %.2fx the listing (best; target <= 1.2)\n' "standby audit, $label, warm (reads nothing)" \
        "$warm_best" "$warm_median" "$(echo "$warm_best $find_best" | awk '{ print $1 / $2 }')"
}

fresh_local() { rm -rf state; }
fresh_pg() { rm -rf state; fresh_pg_database; }
figures local desired fresh_local
figures PostgreSQL desired-pg fresh_pg

# The audit rules alone, on the observation the warm run saw.
"$STANDBY" discover --desired desired --state state --out observed.json -q
read -r saved_best saved_median < <(measure audit_with desired --observed observed.json)
printf '%-44s %8d %8d\n' "standby audit --observed (the rules alone)" "$saved_best" "$saved_median"
