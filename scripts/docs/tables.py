#!/usr/bin/env python3
"""The number tables of README.md and validation/*.md, rendered from the outputs of the commands
they cite, so that no documented number is typed by hand.

    python3 scripts/docs/tables.py --update   # run the commands, rewrite every table
    python3 scripts/docs/tables.py --check    # run the commands, exit 1 if a table differs

Each table sits between `<!-- table:NAME begin ... -->` and `<!-- table:NAME end -->` in its
document; the begin marker names this script. The commands run with the release binary
(`cargo build --release` first) into a temporary directory:

    confine run configs/paper.toml --no-figures               -> README: paper-nhc, coulomb
    confine run configs/thermodynamic_limit.toml --no-figures -> README: limit
    confine validate configs/paper.toml --json                -> README: validate
    confine run validation/nhc_vs_confinement.toml --no-figures
                                                -> validation/nhc_vs_confinement.md: two tables
    confine converge configs/profiles/X.toml --json           -> validation/profiles.md: profiles

Numbers are rounded to what the text claims (3-4 significant digits), far above the 1e-10
run-to-run reproducibility of the tables. Timing tables are not here: they are written by
their benches (benches/scipy_compare.py --update-docs, benches/record.sh), which .ci/run checks
in their own way. `--check` is run by .ci/run: a change that moves a documented number fails CI
until the docs are regenerated with `--update`.
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from blocks import update

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / "target" / "release" / "confine"
MINUS = "\u2212"


def confine(*args, capture=False):
    """Runs the release binary; its stdout when `capture`."""
    out = subprocess.run(
        [str(BINARY), *args],
        cwd=REPO,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"confine {' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return out.stdout


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(text):
    return float(text) if text not in ("", None) else None


def sig(x, digits=3, sign=False):
    """x to `digits` significant digits in plain notation, with a typographic minus."""
    if x == 0:
        return "0"
    s = f"{x:+.{digits}g}" if sign else f"{x:.{digits}g}"
    if "e" in s:
        s = f"{float(s):+f}" if sign else f"{float(s):f}"
        s = s.rstrip("0").rstrip(".")
    return s.replace("-", MINUS)


def sci(x, digits=1):
    return f"{x:.{digits}e}".replace("e-0", "e-").replace("e+0", "e").replace("-", MINUS, 1 if x < 0 else 0)


def table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def subscript(n):
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(n))


# --- README: the paper run ------------------------------------------------------------------

PAPER_CASES = [
    ("U0=0.1_a=20_L=200", "U₀ = 0.1, a = 20, L = 200"),
    ("U0=0.2_a=20_L=200", "U₀ = 0.2, a = 20, L = 200"),
    ("U0=0.1_a=4_L=40", "U₀ = 0.1, a = 4, L = 40"),
]


def largest(nhc, definition):
    drops = [r for r in nhc if r["definition"] == definition]
    return max(drops, key=lambda r: float(r["drop [Ha]"])) if drops else None


def level_index(levels, energy):
    return min(levels, key=lambda r: abs(float(r["energy [Ha]"]) - energy))["n"]


def paper_nhc(out):
    body = []
    for case, label in PAPER_CASES:
        nhc = rows(out / case / "nhc.csv")
        levels = rows(out / case / "levels.csv")
        cells = [label]
        for definition in ("T_K", "T_mu", "T_KE", "T_C"):
            r = largest(nhc, definition)
            if r is None:
                cells.append("monotone")
                continue
            text = f"{float(r['drop [Ha]']):.4f} Ha ({100 * float(r['relative_drop [-]']):.1f} %)"
            if definition == "T_K":
                a = level_index(levels, float(r["e_start [Ha]"]))
                b = level_index(levels, float(r["e_end [Ha]"]))
                text += f", E{subscript(a)} → E{subscript(b)}"
            cells.append(text)
        body.append(cells)
    header = ["case", "T^(K) drop", "T^(μ) drop", "T_E^(K) drop (ε = 0.0004 Ha)", "T^(C)"]
    return table(header, body)


COULOMB_CASES = [("U0=0.1_a=20_L=200", "reference (m = 1)"), ("U0=0.1_a=20_L=200_GaAs", "GaAs (m* = 0.067)")]


def coulomb(out):
    body = []
    for case, label in COULOMB_CASES:
        for i, r in enumerate(rows(out / case / "coulomb.csv")):
            off = r["variant"] == "W off"
            variant = "W off" if off else f"ε_r = {r['eps_r [-]']}".replace(".0", "")
            change = num(r["CI max |E(M') - E(M)| below E_max [Ha]"])
            body.append(
                [
                    label if i == 0 else "",
                    variant,
                    f"{float(r['E_ground [Ha]']):.6f}".replace("-", MINUS),
                    "—" if off else sig(float(r["shift [Ha]"]), 3, sign=True),
                    "—" if off else f"**{sig(float(r['shift [e_1 - e_0]']), 2)}**",
                    sig(float(r["ground <W> [Ha]"]), 3),
                    r["T_KE_intervals [-]"],
                    sig(float(r["T_KE_drop_from E/N [Ha]"]), 3, sign=True),
                    "exact" if off or change is None else sci(change),
                ]
            )
    header = [
        "case",
        "variant",
        "E₀ (Ha)",
        "shift (Ha)",
        "shift / (e₁ − e₀)",
        "⟨W⟩ in ground state (Ha)",
        "T_E^(K) NHC intervals",
        "largest T_E^(K) drop starts at E/N (Ha)",
        "CI change M → M′ below E_max (Ha)",
    ]
    return table(header, body)


def limit(out):
    body = []
    for r in rows(out / "thermodynamic_limit" / "particles.csv"):
        states = float(r["states [-]"])
        states_text = f"{int(states):,}".replace(",", " ") if states < 1e7 else f"{states:.1e}".replace("e+", "e")
        body.append(
            [
                r["N"],
                r["method"],
                states_text,
                f"{sig(100 * float(r['T_KE_largest_relative_drop [-]']), 3)} %",
                sig(float(r["S/N_dent_depth [k_B]"]), 3),
            ]
        )
    header = ["N", "method", "states", "largest T_E^(K) drop (relative)", "dent of S/N below its concave envelope (k_B)"]
    return table(header, body)


# The paper's values of E_0, E_5, E_6 (Serra et al., EPL 2013, text of Fig. 1): literature
# values quoted for comparison, not results of this code.
PAPER_LEVELS = {0: "−0.0975", 5: "−0.0149", 6: "0.000145"}


def validate(report):
    levels = report["levels"]
    body = []
    for n, paper in PAPER_LEVELS.items():
        lv = levels[n]
        body.append(
            [
                str(n),
                repr(lv["exact"]).replace("-", MINUS),
                paper,
                sci(lv["errors_by_grid"][0], 2),
                sci(lv["errors_by_grid"][-1], 2),
                f"{report['observed_order'][n]:.3f}",
                sci(report["richardson_error"][n]),
            ]
        )
    spacings = [g["grid"]["max_spacing"] for g in report["grids"]]
    header = [
        "level",
        "exact E_n (Ha)",
        "paper",
        f"error at h = {spacings[0]:g}",
        f"error at h = 1/{round(1 / spacings[-1])}",
        "order",
        "Richardson error",
    ]
    first = min(50, len(levels))
    orders = report["observed_order"][:first]
    rich = [abs(x) for x in report["richardson_error"]]
    text = (
        f"Over the lowest {first} levels the observed order of E_n is {min(orders):.3f}–"
        f"{max(orders):.3f} and the largest Richardson error is {sci(max(rich[:first]))} Ha "
        f"({sci(max(rich))} Ha over all {len(levels)} levels)."
    )
    return table(header, body) + "\n\n" + text


# --- validation/nhc_vs_confinement.md -------------------------------------------------------

DEPTHS = ["0.05", "0.1", "0.2", "0.4"]


def confinement(out, columns, with_intervals):
    summary = rows(out / "summary.csv")
    by = {}
    for r in summary:
        depth = re.match(r"U0=([0-9.]+)_", r["case"]).group(1)
        ratio = round(float(r["system.box_half_width"]) / 20.0)
        by[(ratio, depth)] = r
    body = []
    for ratio in sorted({k[0] for k in by}):
        cells = [str(ratio)]
        for depth in DEPTHS:
            r = by[(ratio, depth)]
            cell = f"{float(r[columns + ' largest drop [Ha]']):.4f}, {1 - float(r[columns + ' relative drop [-]']):.1e}"
            if with_intervals:
                cell += f", {r[columns + ' NHC intervals']}"
            cells.append(cell)
        body.append(cells)
    name = "T^(K)" if columns == "T_K" else "T_E^(K)"
    what = ", 1 − rel., intervals" if with_intervals else ", 1 − rel."
    header = ["L/a"] + [f"U0 = {d}: {name} drop (Ha){what}" for d in DEPTHS]
    return table(header, body)


# --- validation/profiles.md -----------------------------------------------------------------

PROFILES = ["double_well", "core_shell", "harmonic_well", "smooth_well", "tabulated", "gaas_algaas_well"]


def profiles(reports):
    body = []
    for name in PROFILES:
        r = reports[name]
        e_orders = [lv["energy"]["observed_order"] for lv in r["levels"]]
        k_orders = [lv["kinetic"]["observed_order"] for lv in r["levels"]]
        est = max(abs(lv["energy"]["error_estimate"]) for lv in r["levels"])
        body.append(
            [
                f"`{name}.toml`",
                str(len(r["levels"])),
                f"{r['grids'][0]['max_spacing']:.4f} .. {r['grids'][-1]['max_spacing']:.4f}",
                f"{min(e_orders):.4f} .. {max(e_orders):.4f}",
                f"{min(k_orders):.3f} .. {max(k_orders):.3f}",
                sci(est),
            ]
        )
    header = [
        "profile",
        "levels",
        "h (bohr), coarsest .. finest",
        "order of E_n, min .. max",
        "order of ⟨K⟩_n, min .. max",
        "largest error est of E_R (Ha)",
    ]
    return table(header, body)


# --- driver ---------------------------------------------------------------------------------


def render_all(tmp):
    paper = tmp / "paper"
    confine("run", "configs/paper.toml", "--no-figures", "--out", str(paper))
    lim = tmp / "limit"
    confine("run", "configs/thermodynamic_limit.toml", "--no-figures", "--out", str(lim))
    report = json.loads(confine("validate", "configs/paper.toml", "--json", capture=True))
    nvc = tmp / "nhc_vs_confinement"
    confine("run", "validation/nhc_vs_confinement.toml", "--no-figures", "--out", str(nvc))
    conv = {
        p: json.loads(confine("converge", f"configs/profiles/{p}.toml", "--json", capture=True))
        for p in PROFILES
    }
    return [
        ("README.md", "paper-nhc", "confine run configs/paper.toml", paper_nhc(paper)),
        ("README.md", "coulomb", "confine run configs/paper.toml", coulomb(paper)),
        ("README.md", "limit", "confine run configs/thermodynamic_limit.toml", limit(lim)),
        ("README.md", "validate", "confine validate configs/paper.toml --json", validate(report)),
        (
            "validation/nhc_vs_confinement.md",
            "largest-drop",
            "confine run validation/nhc_vs_confinement.toml",
            confinement(nvc, "T_K", False),
        ),
        (
            "validation/nhc_vs_confinement.md",
            "windowed-drop",
            "confine run validation/nhc_vs_confinement.toml",
            confinement(nvc, "T_KE", True),
        ),
        ("validation/profiles.md", "profiles", "confine converge configs/profiles/X.toml --json", profiles(conv)),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", action="store_true", help="rewrite the tables")
    mode.add_argument("--check", action="store_true", help="exit 1 if a table differs")
    args = ap.parse_args()
    if not BINARY.exists():
        raise SystemExit(f"{BINARY} not found: run `cargo build --release` first")
    with tempfile.TemporaryDirectory(prefix="confine-docs-") as tmp:
        blocks = render_all(Path(tmp))
    by_doc = {}
    for path, name, command, text in blocks:
        source = f"generated by scripts/docs/tables.py from `{command}`"
        by_doc.setdefault(path, []).append(("table", name, text, source))
    stale = [path for path, items in by_doc.items() if not update(path, items, check=args.check)]
    if stale:
        print(f"\nstale tables in {', '.join(stale)}: run python3 scripts/docs/tables.py --update", file=sys.stderr)
        return 1
    if args.check:
        print("every generated table equals the output of its command")
    return 0


if __name__ == "__main__":
    sys.exit(main())
