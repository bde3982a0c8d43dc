//! Sweeps: expansion of `[sweep]` (product, zip, ranges, units, paths into arrays), bad sweep
//! input, shard slices, failing cases that do not stop the others, and merge of shards equal
//! to the unsharded summary. (Resuming an interrupted sweep is in `tests/sweep_resume.rs`,
//! which counts solves and so needs a process of its own.)

use crate::common::{scratch, square_well};
use confine::pipeline::config::sweep::Shard;
use confine::pipeline::config::{parse_study, ConfigError, PotentialConfig};
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::sweep::runner::{merge, run_sweep, MergeError, Silent, SweepOptions};
use std::path::Path;
use std::process::Command;

/// The small well every sweep here varies.
fn base() -> String {
    square_well(20.0, 0.5, 4.0, 0.1, 20)
}

fn study(sweep: &str) -> Result<confine::pipeline::config::Study, ConfigError> {
    parse_study(&format!("{}{sweep}", base()), Path::new("sweep.toml"))
}

fn depth(c: &confine::pipeline::config::Case) -> f64 {
    assert_eq!(c.config.potential.type_name(), "square_well");
    c.config.potential.parameter("depth").unwrap()
}

#[test]
fn product_nests_the_keys_in_the_order_written() {
    let s = study(
        "[sweep]\npotential.depth = [0.3, 0.5]\nsystem.box_half_width = [20.0, 30.0, 40.0]\n",
    )
    .unwrap();
    assert_eq!(s.cases.len(), 6);
    let got: Vec<(f64, f64)> = s
        .cases
        .iter()
        .map(|c| (depth(c), c.config.system.box_half_width))
        .collect();
    assert_eq!(
        got,
        vec![
            (0.3, 20.0),
            (0.3, 30.0),
            (0.3, 40.0),
            (0.5, 20.0),
            (0.5, 30.0),
            (0.5, 40.0)
        ]
    );
    assert_eq!(s.cases[4].name, "4_depth=0.5_box_half_width=30.0");
    assert_eq!(s.cases[4].swept[1].number, Some(30.0));
}

#[test]
fn zip_pairs_the_values_and_needs_equal_lengths() {
    let s = study("[sweep]\nmode = \"zip\"\npotential.depth = [0.3, 0.4, 0.5]\npotential.half_width = [2.0, 3.0, 4.0]\n").unwrap();
    assert_eq!(s.cases.len(), 3);
    for (c, (d, a)) in s.cases.iter().zip([(0.3, 2.0), (0.4, 3.0), (0.5, 4.0)]) {
        assert_eq!(depth(c), d);
        assert_eq!(c.config.potential.parameter("half_width"), Some(a));
    }
    let e = study("[sweep]\nmode = \"zip\"\npotential.depth = [0.3, 0.4]\npotential.half_width = [2.0, 3.0, 4.0]\n").unwrap_err();
    assert!(e.to_string().contains("same number of values"), "{e}");
}

#[test]
fn linear_log_integer_and_unit_ranges() {
    let s = study("[sweep]\npotential.depth = { from = 0.1, to = 0.5, points = 5 }\n").unwrap();
    let d: Vec<f64> = s.cases.iter().map(depth).collect();
    assert_eq!(d, vec![0.1, 0.2, 0.3, 0.4, 0.5]); // written as 12 significant digits
    let s = study(
        "[sweep]\nsystem.box_half_width = { from = 10.0, to = 1000.0, points = 3, spacing = \"log\" }\n",
    )
    .unwrap();
    let l: Vec<f64> = s
        .cases
        .iter()
        .map(|c| c.config.system.box_half_width)
        .collect();
    assert_eq!(l, vec![10.0, 100.0, 1000.0]);
    assert!(s.sweep.as_ref().unwrap().keys[0].log);
    // Integer ends give integers; duplicates after rounding are dropped.
    let s = study("[sweep]\nsolve.levels = { from = 1, to = 8, points = 6, spacing = \"log\" }\n")
        .unwrap();
    let k: Vec<usize> = s.cases.iter().map(|c| c.config.solve.levels).collect();
    assert_eq!(k, vec![1, 2, 3, 5, 8]);
    // Quantities keep their unit: 1, 2, 3 eV.
    let s = study("[sweep]\npotential.depth = { from = \"1 eV\", to = \"3 eV\", points = 3 }\n")
        .unwrap();
    let ev = confine::model::units::HARTREE_IN_EV;
    for (c, e) in s.cases.iter().zip([1.0, 2.0, 3.0]) {
        assert!((depth(c) - e / ev).abs() < 1e-15, "{} vs {e} eV", depth(c));
        assert_eq!(c.swept[0].number, Some(e));
    }
    assert_eq!(
        s.sweep.as_ref().unwrap().keys[0].unit.as_deref(),
        Some("eV")
    );
}

#[test]
fn a_quoted_path_reaches_into_the_pieces_and_cases_are_swept_each() {
    let text = r#"
[system]
box_half_width = 20.0
[potential]
type = "piecewise"
pieces = [
  { from = -5.0, to = 0.0, shape = "constant", value = -0.3 },
  { from = 0.0, to = 5.0, shape = "constant", value = -0.2 },
]
[grid]
spacing = 0.1
[solve]
levels = 10
[[cases]]
name = "a"
[[cases]]
name = "b"
system.box_half_width = 30.0
[sweep]
"potential.pieces[1].to" = [5.0, 6.0]
"#;
    let s = parse_study(text, Path::new("p.toml")).unwrap();
    let names: Vec<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["a_0_to=5.0", "a_1_to=6.0", "b_0_to=5.0", "b_1_to=6.0"]
    );
    match &s.cases[3].config.potential {
        PotentialConfig::Piecewise { pieces } => assert_eq!(pieces[1].to, 6.0),
        _ => unreachable!(),
    }
    assert_eq!(s.cases[3].config.system.box_half_width, 30.0);
}

#[test]
fn bad_sweeps_are_refused_with_the_key_and_what_is_valid() {
    let cases = [
        ("[sweep]\npotential.dept = [0.1, 0.2]\n", "dept"),
        ("[sweep]\npotential.depth = []\n", "empty list"),
        (
            "[sweep]\npotential.depth = { from = 0.1, to = 0.2, points = 0 }\n",
            "empty range",
        ),
        ("[sweep]\npotential.depth = 0.3\n", "single value"),
        (
            "[sweep]\npotential.depth = { from = -0.1, to = 0.2, points = 3, spacing = \"log\" }\n",
            "from > 0",
        ),
        (
            "[sweep]\npotential.depth = [\"1 eV\", 0.2]\n",
            "mixes units",
        ),
        (
            "[sweep]\npotential.depth = { from = 0.1, to = 0.2, points = 3, step = 1 }\n",
            "not a range key",
        ),
        (
            "[sweep]\nmode = \"cartesian\"\npotential.depth = [0.1]\n",
            "\"zip\"",
        ),
        ("[sweep]\n", "names no key"),
        (
            "[sweep]\n\"potential.pieces[0].to\" = [1.0]\n",
            "not an array",
        ),
        // A swept value that the config rejects names the case and its value.
        (
            "[sweep]\npotential.depth = [0.3, -1.0]\n",
            "sweep.potential.depth = -1.0",
        ),
    ];
    for (sweep, expected) in cases {
        let e = study(sweep).expect_err(sweep);
        let msg = e.to_string();
        assert!(msg.starts_with("sweep.toml: "), "{msg}");
        assert!(msg.contains(expected), "`{expected}` missing from: {msg}");
    }
}

#[test]
fn shards_partition_the_cases_exactly() {
    for cases in 0..40 {
        for count in 1..9 {
            let mut seen = vec![0u32; cases];
            let mut sizes = Vec::new();
            for index in 1..=count {
                let r = Shard { index, count }.range(cases);
                sizes.push(r.len());
                for i in r {
                    seen[i] += 1;
                }
            }
            assert!(
                seen.iter().all(|&s| s == 1),
                "{cases} cases, {count} shards"
            );
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "unbalanced: {sizes:?}");
        }
    }
    assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
    for bad in ["0/4", "5/4", "1/0", "a/b", "3", "-1/4"] {
        let e = Shard::parse(bad).expect_err(bad);
        assert!(e.contains(bad), "{e}");
    }
}

const FAILING: &str = r#"
[sweep]
grid.spacing = [0.1, 4.0, 0.2]
"#;

#[test]
fn a_failing_case_is_recorded_and_the_others_complete() {
    // h = 4 leaves 9 interior nodes for 20 levels: that case fails when it runs.
    let s = study(FAILING).unwrap();
    let dir = scratch("failing");
    let no_figs = SweepOptions {
        figures: FigureOutput {
            png: false,
            svg: false,
        },
        ..Default::default()
    };
    let report = run_sweep(&s, &dir, &no_figs, &Silent).unwrap();
    assert_eq!((report.computed, report.failed, report.reused), (2, 1, 0));
    let rows = &report.summary.rows;
    assert!(rows[0].error.is_none() && rows[2].error.is_none());
    let err = rows[1].error.as_deref().unwrap();
    assert!(err.contains("levels requested"), "{err}");
    let csv = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[2].contains(",failed,") && lines[2].contains("levels requested"));
    assert!(lines[1].contains(",ok,") && lines[3].contains(",ok,"));
    assert!(dir.join(&s.cases[0].name).join("metadata.json").exists());
    assert!(!dir.join(&s.cases[1].name).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merged_shards_equal_the_unsharded_summary() {
    let s = study("[sweep]\npotential.depth = [0.3, 0.4, 0.5, 0.6, 0.7]\n").unwrap();
    let root = scratch("merge");
    let opts = |shard| SweepOptions {
        shard,
        figures: FigureOutput {
            png: false,
            svg: false,
        },
        case_figures: false,
    };
    run_sweep(&s, &root.join("all"), &opts(None), &Silent).unwrap();
    let mut dirs = Vec::new();
    for index in 1..=3 {
        let d = root.join(format!("shard{index}"));
        let r = run_sweep(&s, &d, &opts(Some(Shard { index, count: 3 })), &Silent).unwrap();
        assert_eq!(
            r.summary.rows.len(),
            Shard { index, count: 3 }.range(5).len()
        );
        dirs.push(d);
    }
    let figs = FigureOutput {
        png: false,
        svg: true,
    };
    merge(&dirs, &root.join("merged"), &figs).unwrap();
    let all = std::fs::read(root.join("all/summary.csv")).unwrap();
    let merged = std::fs::read(root.join("merged/summary.csv")).unwrap();
    assert_eq!(all, merged);
    assert!(root
        .join("merged/figures/summary_largest_drop.svg")
        .exists());
    // A missing shard is named, and nothing is written.
    let e = merge(&dirs[..2], &root.join("partial"), &figs).unwrap_err();
    assert!(e.to_string().contains("in none of the summaries"), "{e}");
    assert!(!root.join("partial/summary.csv").exists());
    // A directory that is not a sweep output.
    let e = merge(&[root.join("nope")], &root.join("x"), &figs).unwrap_err();
    assert!(e.to_string().contains("summary.json"), "{e}");
    // The I/O error is the typed cause, printed once (by whoever prints the chain).
    assert!(matches!(e, MergeError::Unreadable { .. }), "{e:?}");
    let cause = std::error::Error::source(&e).expect("the I/O error is the source");
    assert!(
        cause.downcast_ref::<std::io::Error>().is_some(),
        "{cause:?}"
    );
    assert!(!e.to_string().contains(&cause.to_string()), "{e}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn cli_refuses_a_bad_shard_and_writes_nothing() {
    let dir = scratch("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("s.toml");
    std::fs::write(
        &cfg,
        format!("{}[sweep]\npotential.depth = [0.3, 0.4]\n", base()),
    )
    .unwrap();
    let out = dir.join("out");
    for (args, expected) in [
        (vec!["--shard", "3/2"], "out of range"),
        (vec!["--shard", "x"], "i/n"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_confine"))
            .arg("run")
            .arg(&cfg)
            .arg("--out")
            .arg(&out)
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{err}"
        );
        assert!(!out.exists(), "nothing may be written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_sweep_logs_each_case_records_failures_and_merges_shards() {
    let dir = scratch("cli-run");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("s.toml");
    std::fs::write(&cfg, format!("{}{FAILING}", base())).unwrap();
    let run = |out: &Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_confine"))
            .arg("run")
            .arg(&cfg)
            .arg("--out")
            .arg(out)
            .arg("--no-figures")
            .args(extra)
            .output()
            .unwrap()
    };
    // Not a terminal: one log line per case; the failing case makes the exit status 1.
    let o = run(&dir.join("all"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[3/3] case") || err.contains("/3] case"),
        "{err}"
    );
    assert!(
        err.contains("FAILED") && err.contains("1 of 3 case(s) failed"),
        "{err}"
    );
    assert!(dir.join("all/summary.csv").exists());
    for i in 1..=2 {
        run(&dir.join(format!("s{i}")), &["--shard", &format!("{i}/2")]);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["merge", "--no-figures", "--out"])
        .arg(dir.join("merged"))
        .arg(dir.join("s1"))
        .arg(dir.join("s2"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(dir.join("all/summary.csv")).unwrap(),
        std::fs::read(dir.join("merged/summary.csv")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
