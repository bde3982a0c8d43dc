#!/usr/bin/env bash
# Records a bench's timing report and pastes it into benches/README.md, so the figures there
# come from one run and are never typed:
#
#   bash benches/record.sh coulomb      # runs CONFINE_REPORT_ONLY=1 cargo bench --bench coulomb
#
# The report (stdout of the bench, without cargo's own lines) goes to benches/results/NAME.txt
# and replaces the block between <!-- report:NAME begin --> and <!-- report:NAME end --> in
# benches/README.md. `--paste NAME` only pastes the recorded file; `--check NAME` only checks
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
python3 - "$name" "$out" "$check" <<'PY'
import sys
name, path, check = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
begin, end = f"<!-- report:{name} begin -->", f"<!-- report:{name} end -->"
block = f"{begin}\n```text\n{open(path).read().rstrip()}\n```\n{end}"
doc = open("benches/README.md").read()
i, j = doc.find(begin), doc.find(end)
if i < 0 or j < 0:
    sys.exit(f"benches/README.md has no {begin} ... {end} block")
new = doc[:i] + block + doc[j + len(end):]
if check:
    if new != doc:
        sys.exit(f"benches/README.md: the {name} report differs from {path}; run benches/record.sh {name}")
else:
    open("benches/README.md", "w").write(new)
PY
