#!/usr/bin/env bash
# The paper run's wall time as a distribution, not one run: on this shared 2-core VM the same
# binary's wall time moves by 10 % or more within minutes (see the runs this script lists), so a
# single run (benches/profile_paper.sh) cannot tell a 5 % change. This runs `confine run configs/paper.toml -q` with each binary in
# turn, ROUNDS times (the binaries alternate, so a slow minute hits all of them), and reports
# per binary the median, minimum and maximum wall time, the median user and system CPU time,
# and every run, with the load average before and after.
#
#   cargo build --release && CONFINE_BASE=path/to/older/confine bash benches/alternate_paper.sh [ROUNDS]
#
# ROUNDS defaults to 10. Binaries: those of $CONFINE_BASE (when set; several separated by ':'),
# then target/release/confine. An entry BINARY=CONFIG runs that binary on CONFIG instead of this
# tree's configs/paper.toml: a binary older than the keys of today's config runs on the paper
# config of its own commit (`git show REV:configs/paper.toml > paper-REV.toml`). `-q` is passed
# only to binaries whose `run --help` lists it. Writes benches/results/paper_alternated.txt and
# pastes it into benches/README.md (benches/record.sh --paste paper_alternated).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
bins=()
[[ -n ${CONFINE_BASE:-} ]] && IFS=: read -ra bins <<<"$CONFINE_BASE"
bins+=(target/release/confine)
configs=()
quiet=()
for i in "${!bins[@]}"; do
    configs[i]=configs/paper.toml
    if [[ ${bins[i]} == *=* ]]; then
        configs[i]=${bins[i]#*=}
        bins[i]=${bins[i]%%=*}
    fi
    quiet[i]=
    help=$("${bins[i]}" run --help)
    if [[ $help == *"-q, --quiet"* ]]; then
        quiet[i]=-q
    fi
done
out=$(mktemp -d -t confine-alternate.XXXXXX)
trap 'rm -rf "$out"' EXIT
report=benches/results/paper_alternated.txt
revision=$(git describe --always --dirty)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < rounds; r++)); do
    for i in "${!bins[@]}"; do
        rm -rf "$out/run"
        /usr/bin/time -f "$i %e %U %S" -a -o "$out/times" \
            "${bins[$i]}" run "${configs[$i]}" --out "$out/run" ${quiet[$i]} >/dev/null
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "confine $revision, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), $rounds alternated rounds of"
    echo "\`confine run configs/paper.toml -q\` per binary (its config named when another); load average before: $load_before, after: $load_after"
    labels=()
    for i in "${!bins[@]}"; do
        labels[i]=${bins[i]}
        if [[ ${configs[i]} != configs/paper.toml ]]; then
            labels[i]+=" on ${configs[i]}"
        fi
    done
    python3 - "$out/times" "${labels[@]}" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    i, wall, user, system = line.split()
    runs.setdefault(int(i), []).append((float(wall), float(user), float(system)))
for i, binary in enumerate(sys.argv[2:]):
    r = runs[i]
    walls = [x[0] for x in r]
    print(f"{binary}:")
    print(f"  wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}); "
          f"user median {statistics.median(x[1] for x in r):.2f} s, sys median {statistics.median(x[2] for x in r):.2f} s")
    print("  wall of each run: " + " ".join(f"{w:.2f}" for w in walls))
PY
} >"$report"
bash benches/record.sh --paste paper_alternated
cat "$report"
