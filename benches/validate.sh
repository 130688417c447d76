#!/usr/bin/env bash
# Times `standby validate` on a generated desired state of 5,000 databases (about 1 MB of
# KDL) with its peak memory, side by side with the kdl crate's parser alone on the same file.
# Aim: under 200 ms and under 100 MB.
#
#     benches/validate.sh [DATABASES]
set -euo pipefail
cd "$(dirname "$0")/.."
databases=${1:-5000}
runs=7
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cargo build --release --quiet --bin standby --example kdl-parse
target=${CARGO_TARGET_DIR:-target}
python3 benches/gen_desired.py "$dir/desired" "$databases"
bytes=$(wc -c < "$dir/desired/bench.kdl")

# Prints "median_ms max_rss_mb" over $runs runs of the command.
measure() {
    local times=() rss=0
    for _ in $(seq "$runs"); do
        local out
        /usr/bin/time -o "$dir/time" -f '%e %M' "$@" > /dev/null 2>&1
        out=$(tail -n 1 "$dir/time")
        times+=("$(awk '{printf "%d", $1 * 1000}' <<< "$out")")
        local kb
        kb=$(awk '{print $2}' <<< "$out")
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    echo "$median $(( rss / 1024 ))"
}

echo "standby $(git describe --always --dirty 2>/dev/null || echo unknown) · $(nproc) cores · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "desired state: $databases databases, $((bytes / 1024)) KiB of KDL; median of $runs runs"
printf '%-44s %10s %12s\n' "command" "time (ms)" "peak (MiB)"
read -r ms mb < <(measure "$target/release/standby" validate --desired "$dir/desired")
printf '%-44s %10s %12s\n' "standby validate" "$ms" "$mb"
read -r ms mb < <(measure "$target/release/examples/kdl-parse" "$dir/desired/bench.kdl")
printf '%-44s %10s %12s\n' "kdl 6.7.1 parse only (reference)" "$ms" "$mb"
