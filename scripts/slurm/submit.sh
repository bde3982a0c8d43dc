#!/bin/bash
# Submits a confine sweep to Slurm: a job array of SHARDS tasks (sweep.sbatch), then the merge
# (merge.sbatch), which starts only once every task has succeeded and is cancelled if one fails.
#   usage: submit.sh CONFIG OUT SHARDS [SBATCH_OPTION...]
# The options go to both sbatch calls (e.g. --partition=...). `confine` must be on PATH: the
# jobs inherit this environment. Prints the two job ids. Re-running the same command after a
# failure or a kill recomputes only the cases that had not finished.
set -euo pipefail
if [ "$#" -lt 3 ]; then
    echo "usage: $0 CONFIG OUT SHARDS [SBATCH_OPTION...]" >&2
    exit 2
fi
case "$3" in
    '' | *[!0-9]* | 0*)
        echo "$0: SHARDS must be a positive integer, got '$3'" >&2
        exit 2
        ;;
esac
if [ ! -f "$1" ]; then
    echo "$0: config file '$1' not found" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$2"
CONFINE_CONFIG="$(realpath -e "$1")"
CONFINE_OUT="$(realpath -e "$2")"
CONFINE_SHARDS="$3"
export CONFINE_CONFIG CONFINE_OUT CONFINE_SHARDS
shift 3
sweep="$(sbatch --parsable --array="1-$CONFINE_SHARDS" \
    --output="$CONFINE_OUT/%x-%A_%a.out" "$@" "$here/sweep.sbatch")"
sweep="${sweep%%;*}"
merge="$(sbatch --parsable --dependency="afterok:$sweep" --kill-on-invalid-dep=yes \
    --output="$CONFINE_OUT/%x-%j.out" "$@" "$here/merge.sbatch")"
echo "$sweep ${merge%%;*}"
