#!/usr/bin/env bash
# Times `standby discover` against the tools it should be compared with:
#   (a) hashing: 200 files of 10 MiB, and one file of 2000 MiB, with `--verify full` and a
#       cold catalog, against sha256sum and openssl (single process and `xargs -P2`);
#   (b) re-discovery of a store of 100,000 small files with a warm catalog, against
#       `find STORE -printf '%s %T@\n'` on the same tree;
#   (c) peak memory of (b).
# (b) and (c) run twice: with the default local state (state.db) and with a PostgreSQL state
# (a throwaway cluster, benches/postgres.sh). SECTIONS=b runs only (b) and (c), skipping the
# 4 GB of hashing data.
#
# Data is generated once into $BENCH_DIR (default /tmp/standby-bench, about 4.2 GB) and
# reused. Caches are not dropped: every file is read once before timing, so all figures are
# from the page cache. Each figure is the best and the median of $REPEAT runs (default 5).
#
# usage: benches/discover.sh          (builds with `cargo build --release` unless $STANDBY
#                                      names a binary; honours $CARGO_TARGET_DIR)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/standby-bench}
REPEAT=${REPEAT:-5}
SECTIONS=${SECTIONS:-abc}
MIB=$((1 << 20))

if [[ -z ${STANDBY:-} ]]; then
    (cd "$repo" && cargo build --release --quiet)
    STANDBY=${CARGO_TARGET_DIR:-$repo/target}/release/standby
fi

# ---------------------------------------------------------------------------------------
# Data and desired states

# A desired state with one site and one store at $2, written into directory $1.
write_desired() {
    mkdir -p "$1"
    cat >"$1/d.kdl" <<EOF
deployment "b" product="generic" {
    objectives rpo="24h"
}
site "s" role="primary" {
    store "local" path="$2"
    database "db" instance="i" { backup "full" every="24h" keep=7 store="local" }
    sql-instance "i" host="h"
}
EOF
}

many=$BENCH_DIR/many/store     # 200 x 10 MiB
one=$BENCH_DIR/one/store       # 1 x 2000 MiB
small=$BENCH_DIR/small/store   # 100,000 small files
many_dir=$many/s/database/db/full
one_file=$one/s/database/db/full/db_full_20261121T010000Z.bak

generate() {
    if [[ $SECTIONS == *a* && ! -e $BENCH_DIR/many/.done ]]; then
        echo "generating 200 x 10 MiB from /dev/urandom into $many ..." >&2
        rm -rf "$BENCH_DIR/many" && mkdir -p "$many_dir"
        for i in $(seq -w 0 199); do
            head -c $((10 * MIB)) /dev/urandom >"$many_dir/db_full_20260101T${i:0:1}${i:1:2}0000Z.bak.tmp"
            mv "$many_dir/db_full_20260101T${i:0:1}${i:1:2}0000Z.bak.tmp" "$many_dir/db_full_20260101T${i:0:1}${i:1:2}0000Z.bak"
        done
        touch "$BENCH_DIR/many/.done"
    fi
    if [[ $SECTIONS == *a* && ! -e $BENCH_DIR/one/.done ]]; then
        echo "generating 1 x 2000 MiB (the 200 files end to end) into $one ..." >&2
        rm -rf "$BENCH_DIR/one" && mkdir -p "$(dirname "$one_file")"
        cat "$many_dir"/*.bak >"$one_file"
        touch "$BENCH_DIR/one/.done"
    fi
    if [[ ! -e $BENCH_DIR/small/.done ]]; then
        echo "generating 1,000 databases x 100 backups of 200-500 bytes into $small ..." >&2
        rm -rf "$BENCH_DIR/small" && mkdir -p "$small"
        python3 "$repo/benches/gen_store.py" "$small" 1000 100
        touch "$BENCH_DIR/small/.done"
    fi
    write_desired "$BENCH_DIR/many/desired" "$many"
    write_desired "$BENCH_DIR/one/desired" "$one"
    write_desired "$BENCH_DIR/small/desired" "$small"
    write_desired "$BENCH_DIR/small/desired-pg" "$small"
    echo 'state "postgres" url-env="STANDBY_STATE_URL"' >>"$BENCH_DIR/small/desired-pg/d.kdl"
}

# ---------------------------------------------------------------------------------------
# Timing

# time_runs PREP CMD...: runs PREP (untimed; `:` for none) then CMD, $REPEAT times, and
# sets $best and $median (seconds).
time_runs() {
    local prep=$1
    shift
    local times=() i t0 t1
    for ((i = 0; i < REPEAT; i++)); do
        $prep
        t0=$EPOCHREALTIME
        "$@" >/dev/null
        t1=$EPOCHREALTIME
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
    done
    read -r best median < <(printf '%s\n' "${times[@]}" | sort -g |
        awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; print t[1], m }')
}

# row LABEL BYTES: prints the last time_runs as seconds and MB/s (MB = 10^6 bytes).
row() {
    awk -v label="$1" -v bytes="$2" -v b="$best" -v m="$median" 'BEGIN {
        printf "  %-46s %8.3f %8.3f %9.0f %9.0f\n", label, b, m, bytes / 1e6 / b, bytes / 1e6 / m }'
}

# row_plain LABEL: prints the last time_runs as seconds only.
row_plain() {
    printf '  %-46s %8.3f %8.3f\n' "$1" "$best" "$median"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# A fresh state directory: no catalog, so every file is hashed.
state=$BENCH_DIR/state
cold() { rm -rf "$state"; }

desired_name=desired
discover() { # DIR VERIFY
    "$STANDBY" discover --desired "$1/$desired_name" --state "$state" --verify "$2" --quiet
}

# ---------------------------------------------------------------------------------------

generate

echo "standby:  $("$STANDBY" --version), commit $(git -C "$repo" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"
echo "binary:   $STANDBY"
echo "machine:  nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), sha_ni: $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "tools:    $(sha256sum --version | head -1), $(openssl version)"
echo "runs:     best and median of $REPEAT runs; MB = 10^6 bytes, MiB = 2^20 bytes"
echo "cache:    page cache warm: every file is read once before timing; caches are never dropped"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the runs: other processes share the cores"
echo

if [[ $SECTIONS == *a* ]]; then
mapfile -t many_files < <(find "$many" -type f -name '*.bak' | sort)
many_bytes=$((${#many_files[@]} * 10 * MIB))
one_bytes=$(stat -c %s "$one_file")
cat "${many_files[@]}" "$one_file" >/dev/null # into the page cache

echo "(a) hashing                                           best s  median s  best MB/s  med MB/s"
echo "  ${#many_files[@]} files x 10 MiB ($((many_bytes / MIB)) MiB = $((many_bytes / 1000000)) MB)"
time_runs cold discover "$BENCH_DIR/many" full
row "standby discover --verify full (cold catalog)" "$many_bytes"
standby_many=$best
time_runs : openssl dgst -sha256 "${many_files[@]}"
row "openssl dgst -sha256 FILES" "$many_bytes"
openssl_many=$best
time_runs : sha256sum "${many_files[@]}"
row "sha256sum FILES" "$many_bytes"
xargs_p2() { printf '%s\0' "${many_files[@]}" | xargs -0 -P2 -n20 "$@"; }
time_runs : xargs_p2 openssl dgst -sha256
row "xargs -P2 -n20 openssl dgst -sha256" "$many_bytes"
openssl_many_p2=$best
time_runs : xargs_p2 sha256sum
row "xargs -P2 -n20 sha256sum" "$many_bytes"
echo "  1 file ($((one_bytes / MIB)) MiB = $((one_bytes / 1000000)) MB)"
time_runs cold discover "$BENCH_DIR/one" full
row "standby discover --verify full (cold catalog)" "$one_bytes"
standby_one=$best
time_runs : openssl dgst -sha256 "$one_file"
row "openssl dgst -sha256 FILE" "$one_bytes"
openssl_one=$best
time_runs : sha256sum "$one_file"
row "sha256sum FILE" "$one_bytes"
echo "  targets (best vs best):"
echo "    200 files: standby is $(ratio "$openssl_many" "$standby_many")x single-process openssl (target >= 1.7x), $(ratio "$openssl_many_p2" "$standby_many")x openssl -P2"
echo "    one file:  standby is $(ratio "$openssl_one" "$standby_one")x openssl (target >= 1.0x)"
echo
fi

small_files=$(find "$small" -type f | wc -l)
find_small() { find "$small" -printf '%s %T@\n'; }
time_runs : find_small
find_small_best=$best
find_small_median=$median

# rediscovery LABEL: (b) and (c) with the desired state in $desired_name.
rediscovery() {
    echo "(b) re-discovery of $small_files small files, warm catalog, $1 state     best s  median s"
    cold
    /usr/bin/time -f '%e %M' -o "$BENCH_DIR/time-cold" "$STANDBY" discover --desired "$BENCH_DIR/small/$desired_name" --state "$state" --quiet
    read -r cold_s cold_kb <"$BENCH_DIR/time-cold"
    printf '  %-46s %8.3f   (once, first: hashes every file)\n' "standby discover, cold catalog" "$cold_s"
    time_runs : discover "$BENCH_DIR/small" changed
    row_plain "standby discover (warm catalog)"
    standby_small=$best
    best=$find_small_best median=$find_small_median
    row_plain "find STORE -printf '%s %T@\\n' >/dev/null"
    echo "  target: standby / find = $(ratio "$standby_small" "$find_small_best") (best vs best; target <= 1.3)"
    echo

    echo "(c) peak memory (max RSS), store of (b), $1 state"
    max_kb=0
    for ((i = 0; i < REPEAT; i++)); do
        /usr/bin/time -f '%M' -o "$BENCH_DIR/time-warm" "$STANDBY" discover --desired "$BENCH_DIR/small/$desired_name" --state "$state" --quiet
        kb=$(<"$BENCH_DIR/time-warm")
        if ((kb > max_kb)); then max_kb=$kb; fi
    done
    awk -v w="$max_kb" -v c="$cold_kb" 'BEGIN {
        printf "  %-46s %6.1f MB (%.1f MiB; highest of %d runs; target < 150 MB)\n", "standby discover, warm catalog", w * 1024 / 1e6, w / 1024, '"$REPEAT"'
        printf "  %-46s %6.1f MB (%.1f MiB)\n", "standby discover, cold catalog", c * 1024 / 1e6, c / 1024 }'
    echo
}

desired_name=desired
rediscovery local
echo "  local state written: $(du -ck "$state"/state.db* | tail -1 | cut -f1) KiB (state.db and its WAL)"
echo

# shellcheck source=benches/postgres.sh
source "$repo/benches/postgres.sh"
desired_name=desired-pg
cold() { rm -rf "$state"; fresh_pg_database; }
rediscovery PostgreSQL
