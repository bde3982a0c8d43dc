#!/usr/bin/env bash
# Slab vs cylinder vs sphere: runs validation/geometry_nhc.toml through examples/geometry_nhc.rs
# (every level below 0.05 Ha, one particle), writes validation/geometry_nhc.csv and rewrites the
# tables between the markers of validation/geometry_nhc.md from it. No number is typed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --example geometry_nhc -- validation/geometry_nhc.toml 0.05 > validation/geometry_nhc.csv
python3 - <<'PY'
import csv, math, re
rows = list(csv.DictReader(open("validation/geometry_nhc.csv")))
geometries = ["slab", "cylinder", "sphere"]
out = []
for depth in sorted({float(r["depth_Ha"]) for r in rows}):
    sel = [r for r in rows if float(r["depth_Ha"]) == depth]
    sizes = sorted({float(r["size_over_core"]) for r in sel})
    get = lambda g, s: next(r for r in sel if r["geometry"] == g and float(r["size_over_core"]) == s)
    out.append(f"\n### U0 = {depth:g} Ha, a = {float(sel[0]['core_bohr']):g} bohr\n")
    out.append("Largest relative drop of T^(K) (and of T_E^(K)), and the levels / states below 0.05 Ha:\n")
    out.append("| L/a or R/a | " + " | ".join(f"{g} T^(K) drop | {g} T_E^(K) drop | {g} levels (states)" for g in geometries) + " |")
    out.append("|---" * (1 + 3 * len(geometries)) + "|")
    for s in sizes:
        cells = []
        for g in geometries:
            r = get(g, s)
            cells += [f"{float(r['TK_relative_drop']):.6f}", f"{float(r['TEK_relative_drop']):.6f}", f"{r['levels']} ({r['states']})"]
        out.append(f"| {s:g} | " + " | ".join(cells) + " |")
    out.append("\nWhere the largest T^(K) drop is (from the level at E_from to the one at E_to, Hartree), and the local exponent p of 1 − drop ∝ (a/R)^p between successive sizes:\n")
    out.append("| L/a or R/a | " + " | ".join(f"{g} E_from → E_to | {g} p" for g in geometries) + " |")
    out.append("|---" * (1 + 2 * len(geometries)) + "|")
    for i, s in enumerate(sizes):
        cells = []
        for g in geometries:
            r = get(g, s)
            cells.append(f"{float(r['TK_drop_from_E_Ha']):.5f} → {float(r['TK_drop_to_E_Ha']):.6f}")
            if i == 0:
                cells.append("")
            else:
                prev = get(g, sizes[i - 1])
                p = math.log((1 - float(prev["TK_relative_drop"])) / (1 - float(r["TK_relative_drop"]))) / math.log(s / sizes[i - 1])
                cells.append(f"{p:.2f}")
        out.append(f"| {s:g} | " + " | ".join(cells) + " |")
text = open("validation/geometry_nhc.md").read()
begin, end = "<!-- geometry_nhc:begin -->", "<!-- geometry_nhc:end -->"
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + "\n" + "\n".join(out) + "\n" + end, text, flags=re.S)
open("validation/geometry_nhc.md", "w").write(text)
PY
echo "wrote validation/geometry_nhc.csv and the tables of validation/geometry_nhc.md"
