//! Lean `nhc.csv`: with `analysis.nhc_min_relative_drop` it lists exactly the intervals whose
//! relative drop reaches the threshold, row for row as the full listing (threshold 0) has them,
//! and one `below_threshold` row that summarizes the others (their number, span and largest
//! drops); `metadata.json` still counts every interval.

use crate::common::{confine, scratch_dir, square_well, write_file};
use std::path::Path;

fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn num(cell: &str) -> f64 {
    cell.parse().unwrap()
}

/// Runs the config into a fresh directory; returns it (metadata.json) and the case directory.
fn run(tag: &str, threshold: Option<f64>) -> (std::path::PathBuf, std::path::PathBuf) {
    // Three spin-½ electrons: the per-state T^(K) and T^(μ) saw-tooth gives many small
    // intervals besides the large drop across the top of the well.
    let mut text = square_well(40.0, 0.1, 4.0, 0.1, 60)
        + "[particles]\nn = [1, 3]\nspin = \"half\"\nenergy_per_particle_max = 0.05\n";
    if let Some(t) = threshold {
        text += &format!("[analysis]\nnhc_min_relative_drop = {t:?}\n");
    }
    let config = write_file(&format!("{tag}.toml"), &text);
    let out = scratch_dir(tag).join("out");
    let status = confine()
        .arg("run")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .arg("--no-figures")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let case = out.join(tag);
    (out, case)
}

#[test]
fn nhc_csv_lists_the_intervals_above_the_threshold_and_summarizes_the_rest() {
    let (_, full) = run("nhc-full", Some(0.0));
    let (out, lean) = run("nhc-lean", None);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metadata.json")).unwrap()).unwrap();
    let threshold = meta["cases"][0]["config"]["analysis"]["nhc_min_relative_drop"]
        .as_f64()
        .unwrap();
    assert_eq!(threshold, 0.8, "the documented default");
    let mut summarized_somewhere = false;
    for file in ["nhc.csv", "N1/nhc.csv", "N3/nhc.csv"] {
        let all = rows(&full.join(file));
        let got = rows(&lean.join(file));
        assert!(all.iter().all(|r| r[0] != "below_threshold"), "{file}");
        let (kept, dropped): (Vec<_>, Vec<_>) = all.iter().partition(|r| num(&r[6]) >= threshold);
        assert!(
            !kept.is_empty(),
            "{file}: the drop across the well top is listed"
        );
        let (listed, summary) = if dropped.is_empty() {
            (&got[..], None)
        } else {
            (&got[..got.len() - 1], got.last())
        };
        let listed: Vec<&Vec<String>> = listed.iter().collect();
        assert_eq!(
            listed, kept,
            "{file}: exactly the old rows above the threshold"
        );
        match summary {
            None => assert_eq!(got.len(), all.len(), "{file}"),
            Some(s) => {
                summarized_somewhere = true;
                assert_eq!(s[0], "below_threshold", "{file}");
                assert_eq!(s[7].parse::<usize>().unwrap(), dropped.len(), "{file}");
                let e_min = dropped.iter().map(|r| num(&r[1])).fold(f64::MAX, f64::min);
                let e_max = dropped.iter().map(|r| num(&r[2])).fold(f64::MIN, f64::max);
                let drop = dropped.iter().map(|r| num(&r[5])).fold(0.0, f64::max);
                let rel = dropped.iter().map(|r| num(&r[6])).fold(0.0, f64::max);
                assert_eq!((num(&s[1]), num(&s[2])), (e_min, e_max), "{file}");
                assert_eq!((num(&s[5]), num(&s[6])), (drop, rel), "{file}");
                assert!(rel < threshold, "{file}");
                assert!(s[3].is_empty() && s[4].is_empty(), "{file}: {s:?}");
            }
        }
    }
    assert!(
        summarized_somewhere,
        "the test config has intervals below 0.8"
    );
    // metadata.json counts all intervals, and how many of them nhc.csv lists.
    let sets = meta["cases"][0]["nhc_intervals"].as_array().unwrap();
    let all = rows(&full.join("nhc.csv"));
    for s in sets {
        let d = s["definition"].as_str().unwrap();
        let of = |r: &&Vec<String>| r[0] == d;
        assert_eq!(
            s["count"].as_u64().unwrap() as usize,
            all.iter().filter(of).count()
        );
        let listed = all
            .iter()
            .filter(of)
            .filter(|r| num(&r[6]) >= threshold)
            .count();
        assert_eq!(
            s["listed_in_nhc_csv"].as_u64().unwrap() as usize,
            listed,
            "{d}"
        );
    }
}
