#!/usr/bin/env bash
# Benchmark of retention at scale (issue 20): one item with N backups and keep=3, for each N
# in SIZES (default "1000 10000"): `standby plan` and `standby apply` (which prunes N-3
# backups, each checked again at the moment of deleting), against the everyday shell way
# (`ls | sort | head -n -3 | xargs rm`). Plan and prune must grow as n log n: the time per
# backup stays about flat from 1,000 to 10,000.
#
# The catalog is warm (one `discover` first), as in a deployment that runs every day.
# Usage: benches/retention.sh   (env: BENCH_DIR SIZES ROUNDS STANDBY=path-to-binary
#                                 CARGO_TARGET_DIR)
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-/tmp/standby-bench-retention}
SIZES=${SIZES:-"1000 10000"}
ROUNDS=${ROUNDS:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${STANDBY:-}" ]; then
    target=${CARGO_TARGET_DIR:-$repo/target}
    (cd "$repo" && CARGO_TARGET_DIR=$target cargo build --release --quiet --bin standby)
    STANDBY=$target/release/standby
fi

NOW=2026-11-22T12:00:00Z
seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
best() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1; }

echo "standby retention benchmark"
echo "  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  commit:  $(git -C "$repo" rev-parse --short HEAD)"
echo "  best of $ROUNDS rounds; ms per backup = time / backups"
printf '  %-8s %-34s %9s %14s\n' backups command "best s" "ms per backup"

for n in $SIZES; do
    dir=$BENCH_DIR/n$n
    # generate N STORE: N settings exports one hour apart, newest an hour before NOW.
    generate() {
        rm -rf "$dir"
        mkdir -p "$dir/desired" "$dir/store/s/settings/global/export"
        cat >"$dir/desired/d.kdl" <<EOF
deployment "bench" product="generic" {
    objectives rpo="24h"
    owner "ops"
}
site "s" role="primary" owner="ops" {
    store "local" path="../store"
    settings "global" level="global" every="24h" keep=3 store="local" {
        export "true" "{file}"
    }
}
EOF
        python3 - "$dir/store/s/settings/global/export" "$n" <<'EOF'
import datetime, os, sys
root, count = sys.argv[1], int(sys.argv[2])
now = datetime.datetime(2026, 11, 22, 11, 0, 0)
for i in range(count):
    stamp = (now - datetime.timedelta(hours=i)).strftime("%Y%m%dT%H%M%SZ")
    with open(os.path.join(root, f"global_export_{stamp}.xml"), "w") as f:
        f.write(f"<settings n='{i}'/>")
EOF
        (cd "$dir" && "$STANDBY" -q discover --now "$NOW" >/dev/null)
    }
    plan_times="" apply_times="" shell_times=""
    for _ in $(seq 1 "$ROUNDS"); do
        generate
        start=$(seconds)
        (cd "$dir" && "$STANDBY" -q plan --now "$NOW" >/dev/null)
        plan_times+="$(elapsed "$start" "$(seconds)") "
        start=$(seconds)
        # Exit 2 is "not in sync" (a finding left), not a failure.
        (cd "$dir" && "$STANDBY" -q apply --auto-approve --ignore-window --now "$NOW" >/dev/null) ||
            [ $? -eq 2 ]
        apply_times+="$(elapsed "$start" "$(seconds)") "
        left=$(find "$dir/store/s/settings/global/export" -type f | wc -l)
        [ "$left" -eq 3 ] || { echo "standby left $left backups, not 3" >&2; exit 1; }
        generate
        start=$(seconds)
        (cd "$dir/store/s/settings/global/export" && ls | sort | head -n -3 | xargs rm)
        shell_times+="$(elapsed "$start" "$(seconds)") "
    done
    for row in "standby plan:$plan_times" "standby apply (prunes $((n - 3))):$apply_times" "ls | sort | head -n -3 | xargs rm:$shell_times"; do
        label=${row%%:*}
        b=$(best "${row#*:}")
        printf '  %-8s %-34s %9.3f %14.4f\n' "$n" "$label" "$b" "$(awk -v t="$b" -v n="$n" 'BEGIN { print t * 1000 / n }')"
    done
done
rm -rf "$BENCH_DIR"
