//! `validation/compare_tables.py`, the check that a change leaves every table as it was: rows
//! of one degenerate level may come in another order (rounding decides it), anything else may
//! not.

use crate::common::scratch_dir;
use std::path::Path;
use std::process::Command;

const HEADER: &str = "E [Ha],spin,parity,rank in sector [-],leading pair";

/// Runs the script on two trees holding one table each; (exit code, stdout).
fn compare(tag: &str, reference: &[&str], new: &[&str]) -> (i32, String) {
    let root = scratch_dir(tag);
    for (side, rows) in [("ref", reference), ("new", new)] {
        let dir = root.join(side);
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::iter::once(HEADER)
            .chain(rows.iter().copied())
            .map(|r| format!("{r}\n"))
            .collect::<String>();
        std::fs::write(dir.join("ci_states.csv"), text).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/compare_tables.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(root.join("ref"))
        .arg(root.join("new"))
        .args(["--atol", "1e-10"])
        .output()
        .expect("python3 runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const REFERENCE: [&str; 4] = [
    "-0.5,singlet,even,0,0 0",
    "-0.0906142423582883,triplet,odd,3,0 9",
    "-0.0906142423582856,singlet,odd,3,0 9",
    "-0.0812139880626,singlet,odd,17,1 12",
];

#[test]
fn tied_rows_may_swap_and_exchange_their_ranks() {
    // The singlet and triplet of one level swapped, each keeping its rank: the same table.
    let swapped = [REFERENCE[0], REFERENCE[2], REFERENCE[1], REFERENCE[3]];
    let (code, out) = compare("cmp-tied", &REFERENCE, &swapped);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 rows of tied first cells compared in another order"),
        "{out}"
    );
    // Two singlets of one level (even/odd doublet) in the other order exchange their ranks.
    let reference = [
        "-0.07079820644119,singlet,odd,35,2 9",
        "-0.07079820644110,singlet,even,36,2 8",
    ];
    let new = [
        "-0.07079820644110,singlet,even,35,2 8",
        "-0.07079820644119,singlet,odd,36,2 9",
    ];
    let (code, out) = compare("cmp-rank", &reference, &new);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn rows_of_different_levels_or_cells_may_not_swap() {
    let with_third = |third| [REFERENCE[0], REFERENCE[2], third, REFERENCE[3]];
    for (tag, new) in [
        // The first and the last rows are not tied: swapping them is a difference.
        (
            "cmp-untied",
            [REFERENCE[3], REFERENCE[1], REFERENCE[2], REFERENCE[0]],
        ),
        // Tied rows whose labels changed (a triplet became a singlet) are a difference.
        (
            "cmp-relabel",
            with_third("-0.0906142423582883,singlet,odd,3,0 9"),
        ),
        // Ranks may only be exchanged among the tied rows: a new rank is a difference.
        (
            "cmp-rerank",
            with_third("-0.0906142423582883,triplet,odd,4,0 9"),
        ),
    ] {
        let (code, out) = compare(tag, &REFERENCE, &new);
        assert_eq!(code, 1, "{tag}: {out}");
    }
}
