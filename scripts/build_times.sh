#!/usr/bin/env bash
# Build and test times of the README's test command, recorded for benches/README.md:
#
#   bash scripts/build_times.sh     # writes benches/results/build_times.txt and pastes it
#
# 1. cold: `cargo test --no-run` into an empty target directory (every dependency compiled);
# 2. the tests themselves: `cargo test` on that warm target;
# 3. incremental: the mtime of src/physics/thermo/kinetic.rs is bumped (cargo then rebuilds
#    the crate as after a one-line change there) and `cargo test` is timed again.
# Each line carries the load average before and after (the machine is shared: 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
out=$(mktemp)
timed() {
    local what=$1; shift
    local before after start end
    before=$(cut -d' ' -f1-3 /proc/loadavg)
    start=$(date +%s.%N)
    CARGO_TARGET_DIR="$target" "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    after=$(cut -d' ' -f1-3 /proc/loadavg)
    printf '%-58s %7.1f s   (load average before %s, after %s)\n' \
        "$what" "$(echo "$end - $start" | bc)" "$before" "$after" >>"$out"
}
echo "commit $(git rev-parse --short HEAD), $(nproc) CPUs, $(cargo --version)" >"$out"
timed "cold: cargo test --no-run (empty target directory)" cargo test --no-run
timed "cargo test (warm: the tests themselves)" cargo test
touch src/physics/thermo/kinetic.rs
timed "incremental: cargo test after touching src/physics/thermo" cargo test
mv "$out" benches/results/build_times.txt
bash benches/record.sh --paste build_times
