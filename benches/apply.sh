#!/usr/bin/env bash
# Benchmark of `standby apply` against the everyday tools, on the same files:
#
#   1. copy-backup: FILES backups of SIZE_MB MiB (default 50 × 100 MiB = 5 GiB) from a store
#      into an empty copy store, vs `cp -r` and `rsync -a` into a fresh directory.
#      Aim: standby at least 0.9× cp's speed.
#   2. snapshot-fileset: a FILESET_FILES-file fileset (default 50,000) with CHANGED_PCT %
#      (default 1) of its files changed since the previous snapshot, vs
#      `rsync -a --link-dest=PREV SRC NEW`. Aim: no slower.
#
# standby fsyncs every file and directory it writes and checks each copy's sha256 before
# renaming it into place; cp and rsync do neither, so `cp … && sync` (and rsync + sync) are
# timed too. Every contender runs ROUNDS times (default 3), interleaved, each into a fresh
# destination after a `sync` (so one run's writeback is not billed to the next); the best
# and the median are printed, the ratios use the best. Sources are read from a warm cache
# by every contender. On a shared machine the spread is wide: read the medians too.
#
# Data is generated once under BENCH_DIR (default /tmp/standby-bench-apply) and reused.
# Usage: benches/apply.sh   (env: BENCH_DIR FILES SIZE_MB FILESET_FILES CHANGED_PCT ROUNDS
#                             PARALLELISM ONLY=copy|snapshot STANDBY=path-to-binary
#                             CARGO_TARGET_DIR)
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-/tmp/standby-bench-apply}
FILES=${FILES:-50}
SIZE_MB=${SIZE_MB:-100}
FILESET_FILES=${FILESET_FILES:-50000}
CHANGED_PCT=${CHANGED_PCT:-1}
ROUNDS=${ROUNDS:-3}
PARALLELISM=${PARALLELISM:-2}
ONLY=${ONLY:-} # `copy` or `snapshot` to run one part
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${STANDBY:-}" ]; then
    target=${CARGO_TARGET_DIR:-$repo/target}
    (cd "$repo" && CARGO_TARGET_DIR=$target cargo build --release --quiet --bin standby)
    STANDBY=$target/release/standby
fi
if ! command -v rsync >/dev/null; then
    apt-get install -y rsync >/dev/null
fi
for tool in python3 sha256sum awk; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

# timed NAME CMD…: runs CMD after a sync; appends its wall time to TIMES[NAME].
declare -A TIMES
timed() {
    local name=$1
    shift
    sync
    local start end
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    TIMES[$name]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') "
}
best() { tr ' ' '\n' <<<"${TIMES[$1]}" | grep . | sort -g | head -1; }
median() { tr ' ' '\n' <<<"${TIMES[$1]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# row NAME LABEL [BYTES]: best, median, every run, and MiB/s of the best when BYTES is given.
row() {
    local b m rate=""
    b=$(best "$1")
    m=$(median "$1")
    if [ -n "${3:-}" ]; then
        rate=$(awk -v n="$3" -v t="$b" 'BEGIN { printf "%6.0f MiB/s", n / 1048576 / t }')
    fi
    printf '  %-42s best %6.2f s  median %6.2f s  %s  (runs: %s)\n' "$2" "$b" "$m" "$rate" "${TIMES[$1]% }"
}

echo "standby apply benchmark"
echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$BENCH_DIR"
echo "  disk:    $(df -h "$BENCH_DIR" | awk 'NR==2 {print $1, $2}') ($(findmnt -no FSTYPE --target "$BENCH_DIR" 2>/dev/null || echo '?'))"
echo "  commit:  $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted changes in src/)')"
echo "  standby: $STANDBY ($("$STANDBY" --version 2>/dev/null || echo '?')), --parallelism $PARALLELISM, $ROUNDS rounds"
echo "  note:    standby fsyncs every file and directory it writes and verifies each copy's"
echo "           sha256; cp and rsync do neither, hence the '+ sync' rows."
echo

## 1. copy-backup ########################################################################
if [ "$ONLY" != snapshot ]; then

copy=$BENCH_DIR/copy
NOW=2026-11-22T12:00:00Z
store=$copy/store/s/database/db/full
mkdir -p "$store" "$copy/desired"
if [ "$(find "$store" -name '*.bak' | wc -l)" -ne "$FILES" ] \
    || [ "$(stat -c %s "$(find "$store" -name '*.bak' | head -1)")" -ne $((SIZE_MB << 20)) ]; then
    echo "generating $FILES × $SIZE_MB MiB under $store …"
    rm -rf "$copy/store" "$copy/state.pristine"
    mkdir -p "$store"
    for i in $(seq 0 $((FILES - 1))); do
        stamp=$(date -u -d "2026-11-22 11:00:00 UTC - $i hours" +%Y%m%dT%H%M%SZ)
        head -c $((SIZE_MB << 20)) /dev/urandom >"$store/db_full_$stamp.bak"
    done
fi
cat >"$copy/desired/d.kdl" <<EOF
deployment "bench" product="generic" {
    objectives rpo="24h"
    owner "dba"
}
site "s" role="primary" owner="dba" {
    store "local" path="../store"
    store "offsite" path="../offsite"
    sql-instance "i" host="sql.example" user="bench" password-env="PW"
    database "db" instance="i" {
        backup "full" every="24h" keep=$FILES store="local" copy-to="offsite"
    }
}
EOF
if [ ! -f "$copy/state.pristine/state.db" ]; then
    # Hash the store once (a real deployment has these hashes in its catalog already).
    rm -rf "$copy/state" "$copy/offsite"
    mkdir -p "$copy/offsite"
    (cd "$copy" && "$STANDBY" -q discover --now "$NOW" >/dev/null)
    cp -a "$copy/state" "$copy/state.pristine"
fi
bytes=$(du -sb "$copy/store" | cut -f1)

fresh_copy_store() {
    rm -rf "$copy/offsite" "$copy/state" "$copy/dest"
    cp -a "$copy/state.pristine" "$copy/state"
    mkdir -p "$copy/offsite" "$copy/dest"
}
run_copy() {
    fresh_copy_store
    case $1 in
    standby) timed standby sh -c "cd '$copy' && '$STANDBY' -q apply --auto-approve --ignore-window --now '$NOW' --parallelism '$PARALLELISM' >/dev/null"
        (cd "$copy" && "$STANDBY" -q check --verify full --now "$NOW" >/dev/null) \
            || { echo "standby check is not clean after the copy" >&2; exit 1; } ;;
    cp) timed cp cp -r "$copy/store/s" "$copy/dest/" ;;
    cp_sync) timed cp_sync sh -c "cp -r '$copy/store/s' '$copy/dest/' && sync" ;;
    rsync) timed rsync rsync -a "$copy/store/" "$copy/dest/" ;;
    rsync_sync) timed rsync_sync sh -c "rsync -a '$copy/store/' '$copy/dest/' && sync" ;;
    esac
}

echo "1. copy-backup: $FILES files, $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1073741824 }') GiB, into an empty store"
contenders=(standby cp cp_sync rsync rsync_sync)
for round in $(seq 1 "$ROUNDS"); do
    # A different contender goes first each round.
    for i in "${!contenders[@]}"; do
        run_copy "${contenders[$(((i + round - 1) % ${#contenders[@]}))]}"
    done
done
fresh_copy_store
rm -rf "$copy/dest" "$copy/offsite"
row standby "standby apply ($FILES copy-backup actions)" "$bytes"
row cp "cp -r" "$bytes"
row cp_sync "cp -r + sync" "$bytes"
row rsync "rsync -a" "$bytes"
row rsync_sync "rsync -a + sync" "$bytes"
s=$(best standby)
echo "  standby speed / cp speed:        $(ratio "$(best cp)" "$s")×  (median $(ratio "$(median cp)" "$(median standby)")×; aim ≥ 0.9)"
echo "  standby speed / (cp + sync):     $(ratio "$(best cp_sync)" "$s")×  (median $(ratio "$(median cp_sync)" "$(median standby)")×)"
echo "  standby speed / rsync speed:     $(ratio "$(best rsync)" "$s")×  (median $(ratio "$(median rsync)" "$(median standby)")×)"
echo "  standby speed / (rsync + sync):  $(ratio "$(best rsync_sync)" "$s")×  (median $(ratio "$(median rsync_sync)" "$(median standby)")×)"
echo
fi
[ "$ONLY" != copy ] || exit 0

## 2. snapshot-fileset ###################################################################

snap=$BENCH_DIR/snapshot
PREV_NOW=2026-11-21T12:00:00Z
SNAP_NOW=2026-11-22T13:00:00Z
changed=$((FILESET_FILES * CHANGED_PCT / 100))
mkdir -p "$snap/desired"
cat >"$snap/desired/d.kdl" <<EOF
deployment "bench" product="generic" {
    objectives rpo="24h"
    owner "ops"
}
site "s" role="primary" owner="ops" {
    store "local" path="../store"
    fileset "files" path="../src" every="24h" keep=10 store="local"
}
EOF
snapdir=$snap/store/s/fileset/files/snapshot
prev=$snapdir/files_snapshot_20261121T120000Z
new=$snapdir/files_snapshot_20261122T130000Z
if [ ! -f "$snap/ready-$FILESET_FILES-$CHANGED_PCT" ]; then
    echo "generating a $FILESET_FILES-file fileset, its previous snapshots (standby's and rsync's) and $changed changes …"
    rm -rf "$snap/src" "$snap/store" "$snap/state" "$snap/state.pristine" "$snap/rsync" "$snap"/ready-*
    python3 - "$snap/src" "$FILESET_FILES" <<'EOF'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
for n in range(count):
    d = os.path.join(root, f"d{n // 500:03}", f"e{n % 500 // 50:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{n:05}.dat"), "wb") as f:
        f.write(rng.randbytes(rng.randint(256, 16384)))
EOF
    mkdir -p "$snap/store"
    (cd "$snap" && "$STANDBY" -q apply --auto-approve --ignore-window --now "$PREV_NOW" >/dev/null)
    [ -f "$prev/MANIFEST.sha256" ] || { echo "standby took no previous snapshot" >&2; exit 1; }
    mkdir -p "$snap/rsync"
    rsync -a "$snap/src/" "$snap/rsync/prev/"
    # CHANGED_PCT % of the files change (new content, new mtime) after both snapshots.
    sleep 1
    python3 - "$snap/src" "$FILESET_FILES" "$changed" <<'EOF'
import os, random, sys
root, count, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(11)
for n in rng.sample(range(count), changed):
    path = os.path.join(root, f"d{n // 500:03}", f"e{n % 500 // 50:02}", f"f{n:05}.dat")
    with open(path, "wb") as f:
        f.write(rng.randbytes(rng.randint(256, 16384)))
EOF
    # What a scheduled discovery would have hashed already.
    (cd "$snap" && "$STANDBY" -q discover --now "$PREV_NOW" >/dev/null)
    cp -a "$snap/state" "$snap/state.pristine"
    touch "$snap/ready-$FILESET_FILES-$CHANGED_PCT"
fi
src_bytes=$(du -sb "$snap/src" | cut -f1)

reset_snapshot() {
    rm -rf "$new" "$snap/rsync/new" "$snap/state"
    cp -a "$snap/state.pristine" "$snap/state"
}
run_snapshot() {
    reset_snapshot
    case $1 in
    standby)
        timed snap_standby sh -c "cd '$snap' && '$STANDBY' -q apply --auto-approve --ignore-window --now '$SNAP_NOW' >/dev/null"
        # Untimed: the new snapshot passes sha256sum -c and hard-links what did not change.
        (cd "$new" && sha256sum -c --quiet --strict MANIFEST.sha256) \
            || { echo "the new snapshot does not pass sha256sum -c" >&2; exit 1; }
        LINKS=$(find "$new" -type f -links +1 | wc -l) ;;
    rsync)
        timed snap_rsync rsync -a --link-dest="$snap/rsync/prev" "$snap/src/" "$snap/rsync/new/"
        RSYNC_LINKS=$(find "$snap/rsync/new" -type f -links +1 | wc -l) ;;
    rsync_sync)
        timed snap_rsync_sync sh -c "rsync -a --link-dest='$snap/rsync/prev' '$snap/src/' '$snap/rsync/new/' && sync" ;;
    esac
}

echo "2. snapshot-fileset: $FILESET_FILES files ($(awk -v b="$src_bytes" 'BEGIN { printf "%.0f", b / 1048576 }') MiB), $changed changed since the previous snapshot"
contenders=(standby rsync rsync_sync)
for round in $(seq 1 "$ROUNDS"); do
    for i in "${!contenders[@]}"; do
        run_snapshot "${contenders[$(((i + round - 1) % ${#contenders[@]}))]}"
    done
done
reset_snapshot
row snap_standby "standby apply (snapshot-fileset)"
row snap_rsync "rsync -a --link-dest=PREV SRC NEW"
row snap_rsync_sync "rsync -a --link-dest=PREV SRC NEW + sync"
echo "  hard-linked to the previous snapshot: standby $LINKS files, rsync $RSYNC_LINKS"
echo "  standby speed / rsync speed:         $(ratio "$(best snap_rsync)" "$(best snap_standby)")×  (median $(ratio "$(median snap_rsync)" "$(median snap_standby)")×; aim ≥ 1.0)"
echo "  standby speed / (rsync + sync):      $(ratio "$(best snap_rsync_sync)" "$(best snap_standby)")×  (median $(ratio "$(median snap_rsync_sync)" "$(median snap_standby)")×)"
