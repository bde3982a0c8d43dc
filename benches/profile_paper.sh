#!/usr/bin/env bash
# Where `confine run configs/paper.toml` spends its time, in one run: the stage table of
# `--timings` (wall times from metadata.json, peak RSS), the process's wall/CPU time and load
# average, and the top of a `perf record` CPU profile of a second run (sampling on the CPU
# clock: this VM has no hardware instruction counter). Writes benches/results/paper_profile.txt
# and pastes it into benches/README.md (benches/record.sh --paste paper_profile).
#
#   cargo build --release && bash benches/profile_paper.sh [CONFINE_BINARY]
#
# With CONFINE_BASE=path/to/an/older/confine it first runs that binary the same way (without
# --timings, which it may not have) for a before/after of wall time, CPU time and output size;
# CONFINE_BASE=BINARY=CONFIG runs it on CONFIG instead (a binary older than the keys of today's
# config, on its own commit's: `git show REV:configs/paper.toml > paper-REV.toml`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/confine}
out=$(mktemp -d -t confine-profile.XXXXXX)
trap 'rm -rf "$out"' EXIT
report=benches/results/paper_profile.txt
# Before the report is opened for writing (which would make every tree look dirty).
revision=$(git describe --always --dirty)
{
    echo "confine $revision, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
    if [[ -n ${CONFINE_BASE:-} ]]; then
        base=${CONFINE_BASE%%=*}
        base_config=configs/paper.toml
        if [[ $CONFINE_BASE == *=* ]]; then
            base_config=${CONFINE_BASE#*=}
        fi
        echo "before: $base ($("$base" --version)) on $base_config"
        /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M kB" \
            "$base" run "$base_config" --out "$out/base" >/dev/null 2>"$out/time"
        tail -1 "$out/time"
        echo "output: $(du -sb "$out/base" | cut -f1) bytes in $(find "$out/base" -type f | wc -l) files"
        rm -rf "$out/base"
        echo
        echo "after: $bin"
    fi
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M kB" \
        "$bin" run configs/paper.toml --out "$out/run" --timings 2>"$out/time" |
        sed -n '/^stage/,/^peak RSS/p'
    tail -1 "$out/time"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "output: $(du -sb "$out/run" | cut -f1) bytes in $(find "$out/run" -type f | wc -l) files"
    if command -v perf >/dev/null; then
        echo
        echo "perf record -g (cpu-clock), self time by symbol, top 15:"
        perf record -q -g -o "$out/perf.data" "$bin" run configs/paper.toml --out "$out/perf" \
            >/dev/null 2>&1
        perf report -i "$out/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
            grep -E '^ +[0-9.]+%' | sed -E -n '1,15{s/ +$//; s/ +- +-$//; s/ +/ /g; p}'
    fi
} >"$report"
bash benches/record.sh --paste paper_profile
cat "$report"
