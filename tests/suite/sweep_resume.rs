//! Resuming an interrupted sweep recomputes nothing that finished: a reused case keeps its
//! files untouched (same inode and modification time), a recomputed one gets new ones.

use crate::common::{scratch, square_well};
use confine::pipeline::config::parse_study;
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::output::OutputError;
use confine::pipeline::sweep::runner::{run_sweep, Outcome, Progress, Silent, SweepOptions};
use confine::pipeline::sweep::summary::SummaryRow;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn an_interrupted_sweep_recomputes_only_the_unfinished_cases() {
    let text = square_well(20.0, 0.5, 4.0, 0.1, 20)
        + "[sweep]\npotential.depth = { from = 0.3, to = 0.7, points = 5 }\n";
    let study = parse_study(&text, Path::new("resume.toml")).unwrap();
    let dir = scratch("resume");
    let options = SweepOptions {
        figures: FigureOutput {
            png: false,
            svg: false,
        },
        ..Default::default()
    };

    let first = run_sweep(&study, &dir, &options, &Silent).unwrap();
    assert_eq!((first.computed, first.reused), (5, 0));
    let summary = std::fs::read(dir.join("summary.csv")).unwrap();
    let identity = |case: usize| file_identity(&dir.join(&study.cases[case].name));
    let before: Vec<_> = (0..5).map(identity).collect();

    // Re-run: everything is on disk with matching hashes, nothing is rewritten.
    let again = run_sweep(&study, &dir, &options, &Silent).unwrap();
    assert_eq!((again.computed, again.reused), (0, 5));
    assert_eq!((0..5).map(identity).collect::<Vec<_>>(), before);
    assert_eq!(std::fs::read(dir.join("summary.csv")).unwrap(), summary);

    // Interrupt: case 1 never ran; case 3 was killed while its files were being moved into
    // place (tables present, metadata.json, which is moved last, missing, a staging directory
    // left behind).
    let case1 = dir.join(&study.cases[1].name);
    let case3 = dir.join(&study.cases[3].name);
    std::fs::remove_dir_all(&case1).unwrap();
    std::fs::remove_file(case3.join("metadata.json")).unwrap();
    std::fs::create_dir_all(case3.join(".staging-999999")).unwrap();
    std::fs::write(case3.join(".staging-999999/levels.csv"), "partial").unwrap();
    // A finished case computed by another config (or version) must be recomputed too.
    let case4 = dir.join(&study.cases[4].name).join("metadata.json");
    let meta = std::fs::read_to_string(&case4).unwrap();
    let hash = &study_hash(&meta);
    std::fs::write(&case4, meta.replace(hash, "0000000000000000")).unwrap();

    let resumed = run_sweep(&study, &dir, &options, &Silent).unwrap();
    assert_eq!((resumed.computed, resumed.reused), (3, 2));
    // Cases 0 and 2 were reused untouched; 3 and 4 were rewritten (case 1 was deleted).
    for case in [0, 2] {
        assert_eq!(identity(case), before[case], "case {case} reused");
    }
    for case in [3, 4] {
        let now = identity(case);
        assert!(
            now.iter().zip(&before[case]).all(|(a, b)| a != b),
            "case {case} recomputed: {now:?} vs {:?}",
            before[case]
        );
    }
    assert_eq!(std::fs::read(dir.join("summary.csv")).unwrap(), summary);
    assert!(
        !case3.join(".staging-999999").exists(),
        "stale staging removed"
    );
    assert!(case1.join("metadata.json").exists() && case3.join("levels.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A progress that asks the run to stop once `after` cases have finished (Ctrl-C in Python).
struct CancelAfter {
    after: usize,
    finished: AtomicUsize,
}

impl Progress for CancelAfter {
    fn start(&self, _: usize, _: usize) {}
    fn finished(&self, _: &SummaryRow, _: Outcome, _: f64) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
    fn cancelled(&self) -> bool {
        self.finished.load(Ordering::SeqCst) >= self.after
    }
}

#[test]
fn a_cancelled_sweep_stops_at_a_case_boundary_and_resumes() {
    let points = 24;
    let text = square_well(20.0, 0.5, 4.0, 0.1, 20)
        + &format!("[sweep]\npotential.depth = {{ from = 0.3, to = 0.7, points = {points} }}\n");
    let study = parse_study(&text, Path::new("cancel.toml")).unwrap();
    let dir = scratch("cancel");
    let options = SweepOptions {
        figures: FigureOutput {
            png: false,
            svg: false,
        },
        ..Default::default()
    };
    let progress = CancelAfter {
        after: 1,
        finished: AtomicUsize::new(0),
    };
    let error = run_sweep(&study, &dir, &options, &progress).unwrap_err();
    let finished = progress.finished.load(Ordering::SeqCst);
    match error {
        OutputError::Interrupted { finished: f, total } => {
            assert_eq!((f, total), (finished, points));
        }
        other => panic!("expected Interrupted, got {other}"),
    }
    // No case starts once cancelled: at most the cases already running (one per thread) finish.
    assert!(
        finished >= 1 && finished <= rayon::current_num_threads(),
        "{finished}"
    );
    assert!(
        !dir.join("summary.csv").exists(),
        "no summary of an interrupted sweep"
    );
    let complete = study
        .cases
        .iter()
        .filter(|c| dir.join(&c.name).join("metadata.json").exists())
        .count();
    assert_eq!(
        complete, finished,
        "every finished case is committed, no other"
    );
    let resumed = run_sweep(&study, &dir, &options, &Silent).unwrap();
    assert_eq!(
        (resumed.reused, resumed.computed),
        (finished, points - finished)
    );
    assert!(dir.join("summary.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn study_hash(meta: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(meta).unwrap();
    v["sweep"]["hash"].as_str().unwrap().to_string()
}

/// (name, inode, modification time in ns) of every file of a case directory, sorted by name.
fn file_identity(dir: &Path) -> Vec<(String, u64, i64)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, m.ino(), m.mtime() * 1_000_000_000 + m.mtime_nsec())
        })
        .collect();
    files.sort();
    files
}
