#!/usr/bin/env bash
# Times `standby audit` against `rsync -anc --delete primary/ standby/`, the usual way to
# prove that two trees hold the same bytes, on a primary store of 100,000 backup files
# (1,000 databases x 100 full backups of 200-500 bytes) and its copy at the standby site:
#
#   cold catalog: no state/catalog.json, so audit reads and hashes all 200,000 files (as
#                 rsync -c does on every run) and records their hashes;
#   warm catalog: audit again: unchanged files are known by path, size and mtime, so it
#                 lists both trees and reads nothing; rsync -c reads everything again.
#
# Both audits are live (discover + audit), with the exit status shown: 0 means the standby's
# copies were proved equal. Data is generated once into $BENCH_DIR (default
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
audit=("$STANDBY" audit --desired desired --state state --now 2026-11-22T06:00:00Z -q)
rsync_cmd=(rsync -anc --delete "$primary/" "$standby_store/")

echo "warming the page cache ..." >&2
find "$primary" "$standby_store" -type f -exec cat {} + >/dev/null

rm -rf state
set +e
"${audit[@]}" >/dev/null 2>&1
status=$?
set -e
echo "standby audit exit status: $status (0 = every copy proved equal)" >&2
differences=$("${rsync_cmd[@]}" --itemize-changes | wc -l)
echo "rsync -anc lists $differences differences" >&2

read -r cold_best cold_median < <(SETUP="rm -rf state" measure "${audit[@]}")
read -r rsync_best rsync_median < <(measure "${rsync_cmd[@]}")
"${audit[@]}" >/dev/null 2>&1 || true
read -r warm_best warm_median < <(measure "${audit[@]}")
# For context: listing both trees, the least any re-check must do, and the audit rules
# alone on the observation the warm run saved.
read -r find_best find_median < <(measure find "$primary" "$standby_store" -printf '%s %T@\n')
"$STANDBY" discover --desired desired --state state --out observed.json -q
read -r saved_best saved_median < <(measure "${audit[@]}" --observed observed.json)

files=$(find "$primary" "$standby_store" -type f | wc -l)
echo
echo "audit of a primary store and its standby copy: $files files, $REPEAT runs, ms (best / median)"
printf '%-44s %8s %8s\n' "" best median
printf '%-44s %8d %8d\n' "rsync -anc --delete primary/ standby/" "$rsync_best" "$rsync_median"
printf '%-44s %8d %8d   %.1fx as fast as rsync (best)\n' "standby audit, cold catalog (hashes all)" "$cold_best" "$cold_median" \
    "$(echo "$cold_best $rsync_best" | awk '{ print $2 / $1 }')"
printf '%-44s %8d %8d   %.1fx as fast as rsync (best)\n' "standby audit, warm catalog (reads nothing)" "$warm_best" "$warm_median" \
    "$(echo "$warm_best $rsync_best" | awk '{ print $2 / $1 }')"
printf '%-44s %8d %8d\n' "find both trees -printf (the listing alone)" "$find_best" "$find_median"
printf '%-44s %8d %8d\n' "standby audit --observed (the rules alone)" "$saved_best" "$saved_median"
