#!/usr/bin/env bash
# Records a bench's timing report and pastes it into benches/README.md, so the figures there
# come from one run and are never typed:
#
#   bash benches/record.sh coulomb      # runs CONFINE_REPORT_ONLY=1 cargo bench --bench coulomb
#
# The report (stdout of the bench, without cargo's own lines) goes to benches/results/NAME.txt
# and replaces the block between <!-- report:NAME begin --> and <!-- report:NAME end --> in
# benches/README.md (through scripts/docs/blocks.py, the one block writer of the docs). `--paste NAME` only pastes the recorded file; `--check NAME` only checks
# that the README block equals it (exit 1 otherwise; .ci/run runs the check).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0 run=1
case ${1:-} in
    --check) check=1 run=0; shift ;;
    --paste) run=0; shift ;;
esac
name=${1:?usage: benches/record.sh [--check | --paste] NAME}
out=benches/results/$name.txt
if [[ $run == 1 ]]; then
    tmp=$(mktemp)
    CONFINE_REPORT_ONLY=1 cargo bench --bench "$name" >"$tmp"
    mv "$tmp" "$out"
fi
flag=()
[[ $check == 1 ]] && flag=(--check)
python3 scripts/docs/blocks.py "${flag[@]}" benches/README.md report "$name" "$out" ||
    { echo "run benches/record.sh $name (or --paste $name) to refresh benches/README.md" >&2; exit 1; }
