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
    let extra = threshold.map_or(String::new(), |t| {
        format!("[analysis]\nnhc_min_relative_drop = {t:?}\nnhc_max_intervals = 1000000\n")
    });
    run_with(tag, "", &extra)
}

/// Runs the three-electron config with `particles` appended to its `[particles]` table and
/// `extra` after it; returns the output directory and the case directory.
fn run_with(tag: &str, particles: &str, extra: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    // Three spin-½ electrons: the per-state T^(K) and T^(μ) saw-tooth gives many small
    // intervals besides the large drop across the top of the well.
    let mut text = square_well(40.0, 0.1, 4.0, 0.1, 60)
        + "[particles]\nn = [1, 3]\nspin = \"half\"\nenergy_per_particle_max = 0.05\n";
    text += particles;
    text += extra;
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

/// The rows of `file` of one definition, as (e_start, drop).
fn of_definition(rows: &[Vec<String>], definition: &str) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| r[0] == definition)
        .map(|r| (num(&r[1]), num(&r[5])))
        .collect()
}

#[test]
fn nhc_max_intervals_keeps_the_largest_drops_of_each_definition_in_energy_order() {
    let (_, full) = run("nhc-all", Some(0.0));
    let cap = 3;
    let (out, capped) = run_with(
        "nhc-capped",
        "",
        &format!("[analysis]\nnhc_min_relative_drop = 0.0\nnhc_max_intervals = {cap}\n"),
    );
    let all = rows(&full.join("N3/nhc.csv"));
    let got = rows(&capped.join("N3/nhc.csv"));
    let mut cut = 0;
    for d in ["T_K", "T_mu", "T_KE"] {
        let every = of_definition(&all, d);
        let listed = of_definition(&got, d);
        let mut by_drop = every.clone();
        by_drop.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut expected: Vec<(f64, f64)> = by_drop.into_iter().take(cap).collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(listed, expected, "{d}: the {cap} largest drops, by energy");
        cut += every.len() - listed.len();
    }
    assert!(
        cut > 0,
        "the three-electron saw-tooth has more than {cap} intervals"
    );
    let summary = got.last().unwrap();
    assert_eq!(summary[0], "below_threshold");
    assert_eq!(summary[7].parse::<usize>().unwrap(), cut);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metadata.json")).unwrap()).unwrap();
    for s in meta["cases"][0]["nhc_intervals"].as_array().unwrap() {
        assert!(s["listed_in_nhc_csv"].as_u64().unwrap() <= cap as u64);
    }
}

#[test]
fn states_file_writes_csv_gzip_or_nothing_as_asked() {
    let (_, csv) = run_with("states-csv", "states_file = \"csv\"\n", "");
    let (_, gz) = run_with("states-gz", "states_file = \"csv.gz\"\n", "");
    let (out_none, none) = run_with("states-none", "states_file = \"none\"\n", "");
    let (_, auto) = run_with("states-auto", "", "");
    let text = std::fs::read_to_string(csv.join("N3/states.csv")).unwrap();
    assert!(text.lines().count() > 100, "three electrons below the cap");
    // The default writes it too: it is under the automatic limit.
    assert_eq!(
        std::fs::read_to_string(auto.join("N3/states.csv")).unwrap(),
        text
    );
    // gzip: the same table, smaller, and no plain copy beside it.
    let compressed = std::fs::read(gz.join("N3/states.csv.gz")).unwrap();
    assert!(compressed.len() * 2 < text.len());
    assert!(!gz.join("N3/states.csv").exists());
    let mut unpacked = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut unpacked,
    )
    .unwrap();
    assert_eq!(unpacked, text);
    assert!(!none.join("N3/states.csv").exists() && !none.join("N3/states.csv.gz").exists());
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_none.join("metadata.json")).unwrap())
            .unwrap();
    let n3 = &meta["cases"][0]["particles"][1];
    assert_eq!(n3["N"], 3);
    assert!(n3["states_file"]["omitted"]
        .as_str()
        .unwrap()
        .contains("none"));
    // A value that is not one of the four is refused, naming the key and the choices.
    let config = write_file(
        "states-bad.toml",
        &(square_well(40.0, 0.1, 4.0, 0.1, 60)
            + "[particles]\nn = 2\nenergy_per_particle_max = 0.05\nstates_file = \"xlsx\"\n"),
    );
    let output = confine().arg("run").arg(&config).output().unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("states_file") && err.contains("csv.gz"),
        "{err}"
    );
}

#[test]
fn the_automatic_states_file_stops_at_its_row_limit() {
    use confine::pipeline::config::{StatesFile, STATES_AUTO_ROWS, STATES_MAX_ROWS};
    assert_eq!(
        StatesFile::Auto.file_name(STATES_AUTO_ROWS),
        Ok("states.csv")
    );
    let why = StatesFile::Auto
        .file_name(STATES_AUTO_ROWS + 1)
        .unwrap_err();
    assert!(why.contains("csv.gz"), "{why}");
    assert_eq!(
        StatesFile::CsvGz.file_name(STATES_AUTO_ROWS + 1),
        Ok("states.csv.gz")
    );
    assert_eq!(StatesFile::Csv.file_name(STATES_MAX_ROWS), Ok("states.csv"));
    assert!(StatesFile::Csv.file_name(STATES_MAX_ROWS + 1).is_err());
    assert!(StatesFile::None.file_name(1).is_err());
}
