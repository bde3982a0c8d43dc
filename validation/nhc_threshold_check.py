#!/usr/bin/env python3
"""Checks a lean nhc.csv against the full one of the same run before the threshold existed:

    python3 validation/nhc_threshold_check.py OLD_DIR NEW_DIR

OLD_DIR and NEW_DIR are output directories of the same config (e.g. the two sides of
validation/regression.sh, or two `confine run` outputs). For every nhc.csv under OLD_DIR, the
NEW one must hold exactly the old rows whose relative drop reaches the case's
analysis.nhc_min_relative_drop and, of those, the analysis.nhc_max_intervals largest drops per
definition (both read from NEW_DIR's metadata.json), in the old order and byte for byte, then, if any old rows are below it, one `below_threshold` row with their number, E
span and largest drop and relative drop. Exit status 0 when every file agrees, 1 otherwise.
"""
import csv
import json
import pathlib
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old, new = map(pathlib.Path, sys.argv[1:])
    meta = json.loads((new / "metadata.json").read_text())
    thresholds = {c["name"]: c["config"]["analysis"]["nhc_min_relative_drop"] for c in meta["cases"]}
    caps = {c["name"]: c["config"]["analysis"].get("nhc_max_intervals") for c in meta["cases"]}
    bad = 0
    files = sorted(old.rglob("nhc.csv"))
    if not files:
        sys.exit(f"no nhc.csv under {old}")
    for f in files:
        rel = f.relative_to(old)
        case = rel.parts[0] if len(rel.parts) > 1 else next(iter(thresholds))
        th, cap = thresholds[case], caps[case]
        old_lines = f.read_text().splitlines()
        new_lines = (new / rel).read_text().splitlines()
        if old_lines[0] != new_lines[0]:
            print(f"{rel}: headers differ"); bad += 1; continue
        rows = list(csv.reader(old_lines[1:]))
        chosen = {k for k, r in enumerate(rows) if float(r[6]) >= th}
        if cap is not None:
            for d in {r[0] for r in rows}:
                of_d = sorted((k for k in chosen if rows[k][0] == d), key=lambda k: -float(rows[k][5]))
                chosen -= set(of_d[cap:])
        keep = [line for k, line in enumerate(old_lines[1:]) if k in chosen]
        rest = [r for k, r in enumerate(rows) if k not in chosen]
        body = new_lines[1:]
        if rest:
            listed, summary = body[:-1], next(csv.reader([body[-1]])) if body else None
        else:
            listed, summary = body, None
        problems = []
        if listed != keep:
            problems.append(f"{len(listed)} rows listed, {len(keep)} old rows reach {th}")
        if rest:
            want = ["below_threshold", min(float(r[1]) for r in rest), max(float(r[2]) for r in rest),
                    max(float(r[5]) for r in rest), max(float(r[6]) for r in rest), len(rest)]
            got = summary and [summary[0], float(summary[1]), float(summary[2]), float(summary[5]),
                               float(summary[6]), int(summary[7])]
            if got != want:
                problems.append(f"summary row {summary} != {want}")
        if problems:
            bad += 1
            print(f"{rel}: " + "; ".join(problems))
        else:
            print(f"{rel}: {len(keep)} of {len(rows)} intervals listed (relative drop >= {th}, at most {cap} per definition), "
                  f"{len(rest)} summarized; {f.stat().st_size} -> {(new / rel).stat().st_size} bytes")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
