#!/usr/bin/env bash
# Numbers unchanged: runs the shipped configs with the confine of commit REF and with the
# working tree, and compares every CSV table with validation/compare_tables.py.
#
#   bash validation/regression.sh REF [--rtol R] [--atol A] [--ignore GLOB]... [--new-columns]
#                                     [-- CONFIG...]
#
# REF is any commit (e.g. the one before a redesign). Each side runs its own copy of the
# configs (so a config that only the new code accepts is run by the new code only) with
# --no-figures (--new-columns: columns appended by the new code are listed, not compared).
# Default configs: every configs/*.toml and configs/profiles/*.toml that both
# commits have. The reference binary is built in a temporary worktree that shares this
# checkout's target directory (only confine itself is recompiled); outputs go to
# $REGRESSION_DIR (default: a fresh temp dir), which is kept for inspection.
# Exit status: 0 when every table agrees, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

[ $# -ge 1 ] || { sed -n '2,15p' "$0"; exit 2; }
ref=$1
shift
compare_args=()
configs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rtol|--atol|--ignore) compare_args+=("$1" "$2"); shift 2 ;;
        --new-columns) compare_args+=("$1"); shift ;;
        --) shift; configs=("$@"); break ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

work=${REGRESSION_DIR:-$(mktemp -d -t confine-regression.XXXXXX)}
mkdir -p "$work"
target=${CARGO_TARGET_DIR:-$top/target}
echo "== reference $ref ($(git rev-parse --short "$ref")), outputs in $work"

tree="$work/ref-tree"
rm -rf "$tree"
git worktree prune
git worktree add --detach -q "$tree" "$ref"
trap 'git -C "$top" worktree remove --force "$tree" 2>/dev/null || true' EXIT
(cd "$tree" && CARGO_TARGET_DIR="$target" cargo build --release --quiet --bin confine)
cp "$target/release/confine" "$work/confine-ref"
# Both trees compile confine to the same artifact name in the shared target directory, and the
# fingerprint compares this tree's sources with the reference's newer artifact by time: without
# the touch cargo calls the reference binary fresh and "builds" nothing, and both sides would
# run the reference.
touch src/lib.rs src/main.rs
cargo build --release --quiet --bin confine
cp "$target/release/confine" "$work/confine-new"
if cmp -s "$work/confine-ref" "$work/confine-new"; then
    echo "note: the reference and the new binary are identical"
fi

if [ ${#configs[@]} -eq 0 ]; then
    for c in configs/*.toml configs/profiles/*.toml; do
        [ -f "$tree/$c" ] && configs+=("$c")
    done
fi

status=0
for c in "${configs[@]}"; do
    name=$(echo "${c%.toml}" | tr '/' '_')
    for side in ref new; do
        root=$top
        [ "$side" = ref ] && root=$tree
        rm -rf "$work/$side/$name"
        (cd "$root" && "$work/confine-$side" run "$c" --out "$work/$side/$name" --no-figures \
            >"$work/$side-$name.stdout" 2>"$work/$side-$name.stderr") || {
            echo "$c: the $side binary failed:"; cat "$work/$side-$name.stderr"; status=1; }
    done
    echo "== $c"
    python3 validation/compare_tables.py "$work/ref/$name" "$work/new/$name" "${compare_args[@]}" || status=1
done
exit $status
