#!/usr/bin/env python3
"""Compare every CSV table of two confine output trees numerically.

    python3 validation/compare_tables.py REFERENCE_DIR NEW_DIR [--rtol R] [--atol A]
                                         [--ignore GLOB ...] [--json]

With --new-columns, columns appended at the end of a table on the new side (its header starts
with the reference's header) are listed and left out of the comparison; every reference column
must still agree.

Two cells agree when they are equal as text, or both parse as floats and
|new - ref| <= atol + rtol * |ref| (NaN equals NaN, infinities must match). Header rows and
non-numeric cells must be equal as text. Rows whose first cells tie (agree within the
tolerances, e.g. the states of one degenerate level) may come in another order: each is then
compared with the reference row of its run that it matches (rank columns, such as the rank of
a CI state in its sector, may be exchanged among them), and the rows moved are listed. A table present on one side only is a difference,
unless it matches an --ignore glob (relative path, e.g. 'figures/*' or '*/states.csv').

Prints one line per table that differs (and a summary), exits 0 when every table agrees, 1
otherwise, 2 on bad arguments. With --json it prints one JSON object instead: per table the
number of rows, the largest absolute and relative difference and where it occurs.
"""

import argparse
import fnmatch
import json
import math
import os
import sys


def tables(root):
    """Relative paths of every .csv file below root."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".csv"):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def as_float(text):
    try:
        return float(text)
    except ValueError:
        return None


# The rank of a CI state in its sector (ci_states.csv): among states of one degenerate level
# (even and odd, 1e-14 Ha apart) it is fixed by their order, not by physics.
RANK_HEADERS = ("rank in sector [-]",)


def cell_difference(r, n):
    """None when two cells agree exactly or both are NaN or the same infinity; 'text' when
    they differ and one of them is not a number; otherwise (|new - ref|, relative difference)."""
    if r == n:
        return None
    rv, nv = as_float(r), as_float(n)
    if rv is None or nv is None:
        return "text"
    if math.isnan(rv) and math.isnan(nv):
        return None
    if math.isinf(rv) or math.isinf(nv):
        return None if rv == nv else "text"
    diff = abs(nv - rv)
    return diff, (diff / abs(rv) if rv != 0 else math.inf)


def rows_agree(r_row, n_row, rtol, atol, skip=()):
    """Whether every cell of two rows, but those of the columns in skip, agrees within the
    tolerances."""
    if len(r_row) != len(n_row):
        return False
    for j, (r, n) in enumerate(zip(r_row, n_row)):
        if j in skip:
            continue
        d = cell_difference(r, n)
        if d == "text" or (d is not None and d[0] > atol + rtol * abs(as_float(r))):
            return False
    return True


def reorder_ties(ref, new, rtol, atol, rank_columns=()):
    """The new rows reordered within runs of tied rows, and how many moved.

    A run is a maximal sequence of rows whose first cell (a number, e.g. the energy of a state)
    agrees within the tolerances with the run's first row in the reference. Rows of a run are
    states of one degenerate level, whose order rounding may decide; each new row of a run is
    matched to a reference row of the same run that agrees in every cell but the rank columns
    (a rank among tied states is as arbitrary as their order), and the rank columns must hold
    the same values in the run on both sides. Returns None when a row finds no partner or the
    ranks differ (then the table differs by more than the order of ties)."""
    out = [list(row) for row in new]
    moved = 0
    start = 1
    while start < len(ref):
        anchor = as_float(ref[start][0]) if ref[start] else None
        end = start + 1
        while end < len(ref) and anchor is not None and ref[end]:
            v = as_float(ref[end][0])
            if v is None or abs(v - anchor) > atol + rtol * abs(anchor):
                break
            end += 1
        free = list(range(start, end))
        for i in range(start, end):
            partner = next((k for k in free if rows_agree(ref[k], new[i], rtol, atol, rank_columns)), None)
            if partner is None:
                return None
            free.remove(partner)
            out[partner] = list(new[i])
            moved += partner != i
        for j in rank_columns:
            if sorted(ref[k][j] for k in range(start, end)) != sorted(new[k][j] for k in range(start, end)):
                return None
            for k in range(start, end):
                out[k][j] = ref[k][j]
        start = end
    return out, moved


def compare_table(ref_path, new_path, rtol, atol, new_columns=False, rank_headers=RANK_HEADERS):
    """Returns a dict describing the differences of one table (empty 'problems' if equal).

    Rows of tied first cells (see reorder_ties) are compared in the order that matches them,
    when the order of the files does not; 'reordered' counts the rows that moved. Columns
    whose header is in rank_headers are ranks, exchangeable among tied rows."""
    with open(ref_path, encoding="utf-8") as f:
        ref = [line.rstrip("\n").split(",") for line in f]
    with open(new_path, encoding="utf-8") as f:
        new = [line.rstrip("\n").split(",") for line in f]
    report = {"rows": len(ref), "max_abs": 0.0, "max_rel": 0.0, "where": None, "problems": [], "added": [], "reordered": 0}
    width = len(ref[0]) if ref else 0
    if new_columns and ref and new and len(new[0]) > width and new[0][:width] == ref[0]:
        report["added"] = new[0][width:]
        extra = len(report["added"])
        new = [row[: len(row) - extra] for row in new]
    if len(ref) != len(new):
        report["problems"].append(f"{len(ref)} rows in the reference, {len(new)} now")
        return report
    if ref and new and ref[0] == new[0] and not all(rows_agree(r, n, rtol, atol) for r, n in zip(ref, new)):
        ranks = [j for j, h in enumerate(ref[0]) if h in rank_headers]
        reordered = reorder_ties(ref, new, rtol, atol, ranks)
        if reordered is not None:
            new, report["reordered"] = reordered
    for i, (r_row, n_row) in enumerate(zip(ref, new)):
        if len(r_row) != len(n_row):
            report["problems"].append(f"row {i + 1}: {len(r_row)} cells vs {len(n_row)}")
            continue
        for j, (r, n) in enumerate(zip(r_row, n_row)):
            d = cell_difference(r, n)
            if d is None:
                continue
            header = ref[0][j] if j < len(ref[0]) else f"column {j + 1}"
            if i == 0 or d == "text":
                report["problems"].append(f"row {i + 1}, {header}: {r!r} vs {n!r}")
                continue
            diff, rel = d
            if diff > report["max_abs"]:
                report["max_abs"] = diff
                report["where"] = f"row {i + 1}, {header}: {r} vs {n}"
            if rel != math.inf:
                report["max_rel"] = max(report["max_rel"], rel)
            if diff > atol + rtol * abs(as_float(r)):
                report["problems"].append(
                    f"row {i + 1}, {header}: {r} vs {n} (|diff| {diff:.3e}, rel {rel:.3e})"
                )
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference")
    p.add_argument("new")
    p.add_argument("--rtol", type=float, default=1e-12)
    p.add_argument("--atol", type=float, default=0.0)
    p.add_argument("--ignore", action="append", default=[], metavar="GLOB")
    p.add_argument("--json", action="store_true")
    p.add_argument("--new-columns", action="store_true", help="ignore columns appended on the new side")
    args = p.parse_args()
    for d in (args.reference, args.new):
        if not os.path.isdir(d):
            print(f"error: {d} is not a directory", file=sys.stderr)
            return 2

    def kept(rel):
        return not any(fnmatch.fnmatch(rel, g) for g in args.ignore)

    ref_tables = [t for t in tables(args.reference) if kept(t)]
    new_tables = [t for t in tables(args.new) if kept(t)]
    result = {"rtol": args.rtol, "atol": args.atol, "tables": {}, "only_reference": [], "only_new": []}
    result["only_reference"] = sorted(set(ref_tables) - set(new_tables))
    result["only_new"] = sorted(set(new_tables) - set(ref_tables))
    failed = bool(result["only_reference"] or result["only_new"])
    for rel in sorted(set(ref_tables) & set(new_tables)):
        r = compare_table(os.path.join(args.reference, rel), os.path.join(args.new, rel), args.rtol, args.atol, args.new_columns)
        result["tables"][rel] = r
        failed |= bool(r["problems"])

    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for rel in result["only_reference"]:
            print(f"{rel}: missing in {args.new}")
        for rel in result["only_new"]:
            print(f"{rel}: not in the reference")
        worst = (0.0, None)
        for rel, r in result["tables"].items():
            if r["max_abs"] > worst[0]:
                worst = (r["max_abs"], f"{rel} {r['where']}")
            if r["reordered"]:
                print(f"{rel}: {r['reordered']} rows of tied first cells compared in another order")
            if r["added"]:
                print(f"{rel}: new column(s) not compared: {', '.join(r['added'])}")
            if r["problems"]:
                shown = r["problems"][:5]
                more = len(r["problems"]) - len(shown)
                print(f"{rel}: {len(r['problems'])} cells differ: " + "; ".join(shown) + (f"; +{more} more" if more else ""))
        print(
            f"{len(result['tables'])} tables compared (rtol {args.rtol:g}, atol {args.atol:g}); "
            f"largest |difference| {worst[0]:.3e}" + (f" at {worst[1]}" if worst[1] else "")
            + ("; FAILED" if failed else "; all agree")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
