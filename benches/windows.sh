#!/usr/bin/env bash
# The Windows build beside the Linux build, on the same files and the same machine:
#   1. hashing: `discover --verify full` with a cold catalog over FILES backups of SIZE_MB MiB;
#   2. durable copying: `apply` copying those backups into an empty copy store (temporary
#      name, write-through, fsync, sha256 check, rename), from a warm catalog.
# standby.exe runs under Wine: Wine is not Windows (its file I/O is Linux's, reached through
# wineserver and ntdll, and it has no NTFS), so this shows that the Windows code paths cost
# nothing of their own (hashing is the same Rust code; the copy is the Windows route with
# FILE_FLAG_WRITE_THROUGH), not how fast a Windows server is.
#
# Usage: benches/windows.sh   (env: STANDBY and STANDBY_EXE, default dist/standby and
#                              dist/standby.exe from scripts/release; BENCH_DIR, FILES=20,
#                              SIZE_MB=50, ROUNDS=3)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
STANDBY=${STANDBY:-$repo/dist/standby}
STANDBY_EXE=${STANDBY_EXE:-$repo/dist/standby.exe}
BENCH_DIR=${BENCH_DIR:-/tmp/standby-bench-windows}
FILES=${FILES:-20}
SIZE_MB=${SIZE_MB:-50}
ROUNDS=${ROUNDS:-3}
NOW=2026-11-22T12:00:00Z
wine=/usr/lib/wine/wine64
for binary in "$STANDBY" "$STANDBY_EXE"; do
    [ -x "$binary" ] || [ -f "$binary" ] || { echo "$binary is missing: run scripts/release" >&2; exit 1; }
done
"$repo/scripts/windows/toolchain" --wine

export WINEPREFIX=$BENCH_DIR/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
[ -d "$WINEPREFIX/drive_c" ] || "$repo/scripts/windows/prefix"
trap '/usr/lib/wine/wineserver -k >/dev/null 2>&1 || true' EXIT

estate=$BENCH_DIR/estate
store=$estate/store/s/settings/global/export
if [ "$(find "$store" -name '*.xml' 2>/dev/null | wc -l)" -ne "$FILES" ]; then
    echo "generating $FILES × $SIZE_MB MiB under $store …"
    rm -rf "$estate"
    mkdir -p "$store"
    for i in $(seq 0 $((FILES - 1))); do
        stamp=$(date -u -d "2026-11-22 11:00:00 UTC - $i hours" +%Y%m%dT%H%M%SZ)
        head -c $((SIZE_MB << 20)) /dev/urandom >"$store/global_export_$stamp.xml"
    done
fi
mkdir -p "$estate/desired"
cat >"$estate/desired/d.kdl" <<KDL
deployment "bench" product="generic" {
    objectives rpo="24h"
    owner "dba"
}
site "s" role="primary" owner="dba" {
    store "local" path="../store"
    store "offsite" path="../offsite"
    // The exports are fresh at the benchmark's --now: LCSCmd.exe never runs, copies are made.
    settings "global" level="global" every="24h" keep=$FILES store="local" copy-to="offsite" {
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"
    }
}
KDL
cat "$store"/* >/dev/null # every contender reads from a warm page cache

# run linux|windows ARGS…: standby (or standby.exe under Wine) in the estate.
run() {
    local platform=$1
    shift
    if [ "$platform" = linux ]; then
        (cd "$estate" && "$STANDBY" -q "$@" >/dev/null)
    else
        (cd "$estate" && "$wine" "$STANDBY_EXE" -q "$@" >/dev/null)
    fi
}
declare -A TIMES
# timed NAME linux|windows ARGS…
timed() {
    local name=$1
    shift
    sync
    local start end
    start=$(date +%s.%N)
    run "$@"
    end=$(date +%s.%N)
    TIMES[$name]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') "
}
best() { tr ' ' '\n' <<<"${TIMES[$1]}" | grep . | sort -g | head -1; }
median() { tr ' ' '\n' <<<"${TIMES[$1]}" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
bytes=$((FILES * SIZE_MB << 20))
row() {
    local b
    b=$(best "$1")
    printf '  %-34s best %6.2f s  median %6.2f s  %6.0f MiB/s  (runs: %s)\n' "$2" "$b" "$(median "$1")" \
        "$(awk -v n="$bytes" -v t="$b" 'BEGIN { printf "%.0f", n / 1048576 / t }')" "${TIMES[$1]% }"
}
ratio() { awk -v a="$(best "$1")" -v b="$(best "$2")" 'BEGIN { printf "%.2f", a / b }'; }

echo "standby on Windows (under Wine) beside standby on Linux"
echo "  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $("$wine" --version)"
echo "  binaries: $(sha256sum "$STANDBY" "$STANDBY_EXE" | awk '{ printf "%s %s  ", $2, substr($1, 1, 12) }')"
echo
echo "0. start-up: --version (Wine starts a process slower; subtract it from the rows below)"
for _ in $(seq "$ROUNDS"); do
    timed start_linux linux --version
    timed start_windows windows --version
done
printf '  %-34s best %6.2f s  median %6.2f s\n' "standby (Linux)" "$(best start_linux)" "$(median start_linux)"
printf '  %-34s best %6.2f s  median %6.2f s\n' "standby.exe (Wine)" "$(best start_windows)" "$(median start_windows)"
echo
echo "1. hashing: discover --verify full, cold catalog, $FILES × $SIZE_MB MiB"
for _ in $(seq "$ROUNDS"); do
    for platform in linux windows; do
        rm -rf "$estate/state" "$estate/offsite"
        mkdir -p "$estate/offsite"
        timed "hash_$platform" "$platform" discover --verify full --now "$NOW"
    done
done
row hash_linux "standby (Linux)"
row hash_windows "standby.exe (Wine)"
echo "  Wine time / Linux time: $(ratio hash_windows hash_linux)×"
echo
echo "2. copy-backup: apply copying $FILES × $SIZE_MB MiB into an empty store, warm catalog"
for _ in $(seq "$ROUNDS"); do
    for platform in linux windows; do
        rm -rf "$estate/state" "$estate/offsite"
        mkdir -p "$estate/offsite"
        run "$platform" discover --now "$NOW"
        rm -rf "$estate/offsite"
        mkdir -p "$estate/offsite"
        timed "copy_$platform" "$platform" apply --auto-approve --ignore-window --now "$NOW"
        run "$platform" check --verify full --now "$NOW" \
            || { echo "check is not clean after the $platform copy" >&2; exit 1; }
    done
done
row copy_linux "standby (Linux)"
row copy_windows "standby.exe (Wine)"
echo "  Wine time / Linux time: $(ratio copy_windows copy_linux)×"
