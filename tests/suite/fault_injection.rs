//! Fault injection (issue 10, items 2, 3 and 6). Runs are killed at exact points of the
//! writer's commit (the `CONFINE_FAULT` test hook of `confine::pipeline::output::commit`) and at random times
//! (SIGKILL), then resumed; finished tables are truncated, deleted or altered, then resumed; runs
//! share one `--out`; shards that do not belong together are merged. Each ends with the complete
//! result, byte-identical to an undisturbed run, or with a clear refusal — never with a marker
//! (`metadata.json`, `summary.json`) over a mixed directory.
//!
//! Everything goes through the `confine` binary, and completeness is checked here independently
//! of the writer: every `metadata.json` present must list its files with sizes and FNV-1a hashes
//! that match the files on disk.

use crate::common::{confine, hidden_entries, output_files, scratch_dir, square_well};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

type Files = BTreeMap<String, Vec<u8>>;

/// A small study: one square well, 12 levels (a run takes ~0.1 s in debug).
fn well(depth: f64, box_half_width: f64) -> String {
    square_well(box_half_width, depth, 4.0, 0.2, 12)
}

/// `text` written as `dir/name` (created); returns the path.
fn config(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `confine run CONFIG --out OUT ARGS…`, with the environment variables `env`.
fn run(cfg: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    confine()
        .arg("run")
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// (computed, reused) from the last line of a sweep run.
fn counts(o: &Output) -> (usize, usize) {
    let out = String::from_utf8_lossy(&o.stdout);
    let number = |what: &str| -> usize {
        let before = out.split(what).next().unwrap();
        before
            .rsplit([' ', ':'])
            .find(|w| !w.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    (number(" computed"), number(" reused"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Every `metadata.json` under `dir` lists its files, and each listed file is there with the
/// recorded size and hash.
fn assert_markers_honest(dir: &Path) {
    for (rel, bytes) in output_files(dir, true) {
        if !rel.ends_with("metadata.json") {
            continue;
        }
        let base = dir.join(rel.trim_end_matches("metadata.json"));
        let meta: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"));
        let files = meta["files"]
            .as_array()
            .unwrap_or_else(|| panic!("{rel} lists no files"));
        assert!(!files.is_empty(), "{rel}");
        for f in files {
            let path = f["path"].as_str().unwrap();
            let data = std::fs::read(base.join(path))
                .unwrap_or_else(|e| panic!("{rel} lists {path}, which is missing: {e}"));
            assert_eq!(
                data.len() as u64,
                f["bytes"].as_u64().unwrap(),
                "{rel}: {path}"
            );
            assert_eq!(
                format!("{:016x}", fnv1a(&data)),
                f["fnv1a64"].as_str().unwrap(),
                "{rel}: {path}"
            );
        }
    }
}

/// The files of one unit of an output directory, and its marker: the run root of a study
/// (`""`: every file, `metadata.json`), the sweep summary (`"summary"`: `summary.*` and the
/// summary figures, `summary.json`) or a sweep case (its directory, its `metadata.json`).
fn unit(files: &Files, unit: &str) -> (Files, String) {
    let prefix = format!("{unit}/");
    let keep = |k: &str| match unit {
        "" => true,
        "summary" => k.starts_with("summary") || k.starts_with("figures/"),
        _ => k.starts_with(&prefix),
    };
    let marker = match unit {
        "" => "metadata.json".to_string(),
        "summary" => "summary.json".to_string(),
        case => format!("{case}/metadata.json"),
    };
    let files = files
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (files, marker)
}

/// Each unit of `dir` (see [`unit`]) whose marker is present holds exactly the old or exactly
/// the new files.
fn assert_units_old_or_new(dir: &Path, units: &[&str], old: &Files, new: &Files) {
    let now = output_files(dir, false);
    for u in units {
        let (have, marker) = unit(&now, u);
        if dir.join(marker).exists() {
            assert!(
                have == unit(old, u).0 || have == unit(new, u).0,
                "{u}: a marker over a mix of the old and the new output: {:?}",
                have.keys().collect::<Vec<_>>()
            );
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Deterministic pseudo-random numbers in 0..n (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

// ---------------------------------------------------------------------------------------------
// Item 2: two runs sharing one --out.

#[test]
fn item2_a_run_into_an_output_directory_another_process_holds_is_refused_naming_it() {
    let root = scratch_dir("locked");
    let cfg = config(&root, "well.toml", &well(0.5, 20.0));
    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Hold the lock as a running confine does: an OS lock on OUT/.confine-lock, with its record.
    let mut lock = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out.join(".confine-lock"))
        .unwrap();
    lock.try_lock().unwrap();
    use std::io::Write as _;
    write!(
        lock,
        "pid 4242\nstarted 2026-01-01 00:00:00 UTC\ncommand confine run other.toml\n"
    )
    .unwrap();
    let o = run(&cfg, &out, &["--no-figures"], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for part in [
        "being written by another confine process",
        "pid 4242",
        "started 2026-01-01 00:00:00 UTC",
        "`confine run other.toml`",
    ] {
        assert!(err.contains(part), "`{part}` missing: {err}");
    }
    assert!(output_files(&out, true).is_empty(), "nothing written");
    // The holder ends (the OS drops its lock, even on SIGKILL): the lock file it leaves is stale
    // and the next run takes it over, and removes it when done.
    drop(lock);
    assert!(out.join(".confine-lock").exists());
    assert_ok(&run(&cfg, &out, &["--no-figures"], &[]));
    assert!(out.join("metadata.json").exists());
    assert!(
        hidden_entries(&out).is_empty(),
        "{:?}",
        hidden_entries(&out)
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn item2_three_runs_of_one_sweep_at_once_end_complete_or_refused() {
    let root = scratch_dir("three");
    let text =
        well(0.5, 20.0) + "[sweep]\npotential.depth = { from = 0.3, to = 0.7, points = 20 }\n";
    let cfg = config(&root, "sweep.toml", &text);
    let reference = root.join("reference");
    assert_ok(&run(&cfg, &reference, &["--no-figures"], &[]));
    let expected = output_files(&reference, false);
    for repetition in 0..2 {
        let out = root.join(format!("shared{repetition}"));
        let children: Vec<_> = (0..3)
            .map(|_| {
                confine()
                    .arg("run")
                    .arg(&cfg)
                    .arg("--out")
                    .arg(&out)
                    .arg("--no-figures")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut completed = 0;
        for child in children {
            let o = child.wait_with_output().unwrap();
            if o.status.success() {
                completed += 1;
            } else {
                let err = stderr(&o);
                assert_eq!(o.status.code(), Some(1), "{err}");
                assert!(
                    err.contains("being written by another confine process (pid "),
                    "{err}"
                );
            }
        }
        assert!(completed >= 1);
        assert_markers_honest(&out);
        assert_eq!(output_files(&out, false), expected);
        assert!(
            hidden_entries(&out).is_empty(),
            "{:?}",
            hidden_entries(&out)
        );
        let o = run(&cfg, &out, &["--no-figures"], &[]);
        assert_ok(&o);
        assert_eq!(counts(&o), (0, 20), "every case complete");
    }
    let _ = std::fs::remove_dir_all(&root);
}

// ---------------------------------------------------------------------------------------------
// Item 3: merge only the shards of one sweep, each once, into a directory of its own.

fn merge(dirs: &[&Path], out: &Path) -> Output {
    confine()
        .args(["merge", "--no-figures", "--out"])
        .arg(out)
        .args(dirs)
        .output()
        .unwrap()
}

fn assert_refused(o: &Output, must_contain: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
    for m in must_contain {
        assert!(err.contains(m), "`{m}` missing: {err}");
    }
}

#[test]
fn item3_merge_refuses_other_sweeps_repeated_shards_and_an_out_among_the_inputs() {
    let root = scratch_dir("merge-checks");
    let sweep = |depths: &str| format!("[sweep]\npotential.depth = [{depths}]\n");
    let a = well(0.5, 20.0) + &sweep("0.3, 0.4, 0.5, 0.6");
    let shard = |name: &str, text: &str, i: usize| -> PathBuf {
        let cfg = config(&root.join(format!("cfg-{name}")), "sweep.toml", text);
        let out = root.join("shards").join(format!("{name}-{i}"));
        assert_ok(&run(
            &cfg,
            &out,
            &["--no-figures", "--shard", &format!("{i}/2")],
            &[],
        ));
        out
    };
    let (a1, a2) = (shard("a", &a, 1), shard("a", &a, 2));
    let all = root.join("all");
    assert_ok(&run(
        &config(&root.join("cfg-a"), "sweep.toml", &a),
        &all,
        &["--no-figures"],
        &[],
    ));
    // Shards of other sweeps, each with the same keys and number of cases.
    let other_box = shard("box", &(well(0.5, 24.0) + &sweep("0.3, 0.4, 0.5, 0.6")), 2);
    let other_file = shard(
        "file",
        &(square_well(20.0, 0.5, 4.0, 0.2, 14) + &sweep("0.3, 0.4, 0.5, 0.6")),
        2,
    );
    let other_values = shard(
        "values",
        &(well(0.5, 20.0) + &sweep("0.3, 0.4, 0.55, 0.65")),
        2,
    );
    let merged = root.join("merged");
    for other in [&other_box, &other_file, &other_values] {
        let o = merge(&[&a1, other], &merged);
        assert_refused(&o, &["hold different sweeps", "their cases differ"]);
        assert!(!merged.exists(), "a refused merge writes nothing");
    }
    // A shard given twice, by the same path or as a copy.
    assert_refused(&merge(&[&a1, &a1, &a2], &merged), &["give each shard once"]);
    let copy = root.join("shards/a-2-copy");
    copy_tree(&a2, &copy);
    assert_refused(
        &merge(&[&a1, &a2, &copy], &merged),
        &["is in both", "shard 2/2", "give each shard once"],
    );
    assert!(!merged.exists());
    // The output among the inputs: one of them, inside one, or holding one.
    let summary = std::fs::read(a1.join("summary.csv")).unwrap();
    for (out, why) in [
        (a1.clone(), "is the output directory"),
        (a1.join("merged"), "holds the output directory"),
        (root.join("shards"), "lies inside the output directory"),
    ] {
        assert_refused(&merge(&[&a1, &a2], &out), &[why]);
    }
    assert_eq!(std::fs::read(a1.join("summary.csv")).unwrap(), summary);
    assert!(!a1.join("merged").exists());
    // The same sweep from a copy of the config elsewhere is one sweep: merged as the whole run.
    let moved = shard("moved", &a, 2);
    assert_ok(&merge(&[&a1, &moved], &merged));
    assert_eq!(
        std::fs::read(merged.join("summary.csv")).unwrap(),
        std::fs::read(all.join("summary.csv")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&root);
}

// ---------------------------------------------------------------------------------------------
// Item 6: partial states on disk.

#[test]
fn item6_staging_left_by_killed_runs_is_removed_and_a_failed_run_leaves_no_directory() {
    let root = scratch_dir("leftovers");
    let cfg = config(&root, "well.toml", &well(0.5, 20.0));
    let sweep = config(
        &root,
        "sweep.toml",
        &(well(0.5, 20.0) + "[sweep]\npotential.depth = [0.3, 0.4]\n"),
    );
    for (cfg, out) in [(&cfg, root.join("study")), (&sweep, root.join("sweep"))] {
        assert_ok(&run(cfg, &out, &["--no-figures"], &[]));
        // What a run killed while staging leaves (its pid is long gone).
        let junk = out.join(".staging-999999/well");
        std::fs::create_dir_all(&junk).unwrap();
        std::fs::write(junk.join("levels.csv"), vec![b'x'; 300_000]).unwrap();
        assert_ok(&run(cfg, &out, &["--no-figures"], &[]));
        assert!(
            hidden_entries(&out).is_empty(),
            "{:?}",
            hidden_entries(&out)
        );
    }
    // h = 4 bohr leaves 9 interior nodes for 12 levels: the run fails after taking --out.
    let bad = config(&root, "coarse.toml", &square_well(20.0, 0.5, 4.0, 4.0, 12));
    let out = root.join("new/deeper/out");
    let o = run(&bad, &out, &["--no-figures"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!root.join("new").exists(), "a failed run left its --out");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn item6_a_damaged_table_of_a_finished_case_is_recomputed_on_resume() {
    let root = scratch_dir("damaged");
    let cfg = config(
        &root,
        "sweep.toml",
        &(well(0.5, 20.0) + "[sweep]\npotential.depth = [0.3, 0.4, 0.5, 0.6]\n"),
    );
    let out = root.join("out");
    assert_ok(&run(&cfg, &out, &["--no-figures"], &[]));
    let before = output_files(&out, false);
    let case = |prefix: &str| -> PathBuf {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .unwrap()
    };
    // Truncated, deleted, altered in place (same size), while metadata.json stays.
    let levels = case("0_").join("levels.csv");
    let n = std::fs::metadata(&levels).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&levels)
        .unwrap()
        .set_len(n / 2)
        .unwrap();
    std::fs::remove_file(case("1_").join("nhc.csv")).unwrap();
    let canonical = case("2_").join("canonical.csv");
    let mut bytes = std::fs::read(&canonical).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'1' { b'2' } else { b'1' };
    std::fs::write(&canonical, bytes).unwrap();

    let o = run(&cfg, &out, &["--no-figures"], &[]);
    assert_ok(&o);
    assert_eq!(counts(&o), (3, 1), "the three damaged cases are recomputed");
    assert_eq!(output_files(&out, false), before);
    assert_markers_honest(&out);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn item6_a_commit_stopped_midway_never_leaves_metadata_over_a_mixed_directory() {
    let root = scratch_dir("midway");
    let v1 = config(&root.join("v1"), "well.toml", &well(0.5, 20.0));
    let v2 = config(&root.join("v2"), "well.toml", &well(0.4, 20.0));
    let reference = root.join("reference");
    assert_ok(&run(&v2, &reference, &[], &[]));
    let out = root.join("out");
    assert_ok(&run(&v1, &out, &[], &[]));
    let old = output_files(&out, false);
    // Something in the way of one of the final renames (a directory where a figure goes): the
    // run stops halfway through moving its files into place, as a kill there would.
    let obstacle = out.join("figures/fig3_temperatures_well.png");
    std::fs::remove_file(&obstacle).unwrap();
    std::fs::create_dir_all(obstacle.join("x")).unwrap();
    let o = run(&v2, &out, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A metadata.json still there must describe the tables beside it.
    if out.join("metadata.json").exists() {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("metadata.json")).unwrap()).unwrap();
        let depth = meta["cases"][0]["config"]["potential"]["depth"].as_f64();
        let levels = std::fs::read(out.join("well/levels.csv")).unwrap();
        let recorded = if depth == Some(0.5) {
            &old
        } else {
            &output_files(&reference, false)
        };
        assert_eq!(
            &levels, &recorded["well/levels.csv"],
            "metadata.json (depth {depth:?}) over tables of another run"
        );
    }
    // Once the obstacle is gone, the next run completes the interrupted commit and its own.
    std::fs::remove_dir_all(&obstacle).unwrap();
    assert_ok(&run(&v2, &out, &[], &[]));
    assert_eq!(output_files(&out, false), output_files(&reference, false));
    assert!(
        hidden_entries(&out).is_empty(),
        "{:?}",
        hidden_entries(&out)
    );
    assert_markers_honest(&out);
    let _ = std::fs::remove_dir_all(&root);
}

// ---------------------------------------------------------------------------------------------
// Kills at exact points of the commit (CONFINE_FAULT), at random times (SIGKILL), and resume.

/// Runs `cfg` over a copy of `old_dir` into `out` with `CONFINE_FAULT=fault`; checks the state
/// it leaves, resumes and checks the result equals `reference`. Returns whether the faulted
/// run completed (the fault point lay beyond its last one).
fn fault_then_resume(
    cfg: &Path,
    args: &[&str],
    old_dir: &Path,
    out: &Path,
    fault: &str,
    units: &[&str],
    reference: &Files,
) -> bool {
    copy_tree(old_dir, out);
    let old = output_files(old_dir, false);
    let env = [("CONFINE_FAULT", fault), ("RAYON_NUM_THREADS", "1")];
    let o = run(cfg, out, args, &env);
    let completed = o.status.success();
    if !completed {
        assert_eq!(o.status.signal(), Some(6), "{fault}: {}", stderr(&o));
    }
    assert_markers_honest(out);
    assert_units_old_or_new(out, units, &old, reference);
    assert_ok(&run(cfg, out, args, &[]));
    assert_eq!(&output_files(out, false), reference, "{fault}: resumed");
    assert!(
        hidden_entries(out).is_empty(),
        "{fault}: {:?}",
        hidden_entries(out)
    );
    assert_markers_honest(out);
    completed
}

#[test]
fn a_study_killed_at_each_commit_rename_or_staged_write_resumes_to_the_undisturbed_result() {
    let root = scratch_dir("kill-study");
    let v1 = config(&root.join("v1"), "well.toml", &well(0.5, 20.0));
    let v2 = config(&root.join("v2"), "well.toml", &well(0.4, 20.0));
    // The old output has figures, the new one not: its commit also deletes the old figures.
    let old = root.join("old");
    assert_ok(&run(&v1, &old, &[], &[]));
    let reference = root.join("reference");
    assert_ok(&run(&v2, &reference, &["--no-figures"], &[]));
    let expected = output_files(&reference, false);
    let args = ["--no-figures"];
    let mut killed = 0;
    for n in 1.. {
        let out = root.join(format!("rename-{n}"));
        if fault_then_resume(
            &v2,
            &args,
            &old,
            &out,
            &format!("rename:{n}"),
            &[""],
            &expected,
        ) {
            break;
        }
        killed += 1;
        assert!(n < 50, "the commit never completes");
    }
    // Seal, 4 tables, metadata.json.
    assert_eq!(killed, 6);
    for n in 1..=5 {
        let out = root.join(format!("write-{n}"));
        assert!(!fault_then_resume(
            &v2,
            &args,
            &old,
            &out,
            &format!("write:{n}"),
            &[""],
            &expected
        ));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_sweep_killed_at_each_commit_rename_resumes_to_the_undisturbed_result() {
    let root = scratch_dir("kill-sweep");
    let sweep = "[sweep]\npotential.depth = [0.3, 0.45]\n";
    // Same case names, other results (another box): every case is rewritten over the old one.
    let v1 = config(&root.join("v1"), "sweep.toml", &(well(0.5, 20.0) + sweep));
    let v2 = config(&root.join("v2"), "sweep.toml", &(well(0.5, 22.0) + sweep));
    let args = ["--no-figures"];
    let old = root.join("old");
    assert_ok(&run(&v1, &old, &args, &[]));
    let reference = root.join("reference");
    assert_ok(&run(&v2, &reference, &args, &[]));
    let expected = output_files(&reference, false);
    let units = ["0_depth=0.3", "1_depth=0.45", "summary"];
    let mut killed = 0;
    for n in 1.. {
        let out = root.join(format!("rename-{n}"));
        if fault_then_resume(
            &v2,
            &args,
            &old,
            &out,
            &format!("rename:{n}"),
            &units,
            &expected,
        ) {
            break;
        }
        killed += 1;
        assert!(n < 50, "the commit never completes");
    }
    // Per case: seal, 4 tables, metadata.json; the summary: seal, summary.csv, summary.json.
    assert_eq!(killed, 2 * 6 + 3);
    let _ = std::fs::remove_dir_all(&root);
}

/// Starts `cfg` over a copy of `old_dir`, kills it (SIGKILL) after `delay`, checks the state,
/// resumes and checks the result.
fn sigkill_then_resume(
    cfg: &Path,
    args: &[&str],
    old_dir: &Path,
    out: &Path,
    delay: Duration,
    units: &[&str],
    reference: &Files,
) {
    copy_tree(old_dir, out);
    let old = output_files(old_dir, false);
    let mut child = confine()
        .arg("run")
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
    assert_markers_honest(out);
    assert_units_old_or_new(out, units, &old, reference);
    assert_ok(&run(cfg, out, args, &[]));
    assert_eq!(
        &output_files(out, false),
        reference,
        "killed after {delay:?}"
    );
    assert!(hidden_entries(out).is_empty(), "{:?}", hidden_entries(out));
    assert_markers_honest(out);
}

#[test]
fn runs_killed_at_random_times_resume_to_the_undisturbed_result() {
    let root = scratch_dir("sigkill");
    let mut random = Lcg(0x5eed);
    // A study with figures (~0.15 s in debug).
    let v1 = config(&root.join("v1"), "well.toml", &well(0.5, 20.0));
    let v2 = config(&root.join("v2"), "well.toml", &well(0.4, 20.0));
    let old = root.join("old");
    assert_ok(&run(&v1, &old, &[], &[]));
    let reference = root.join("reference");
    let start = std::time::Instant::now();
    assert_ok(&run(&v2, &reference, &[], &[]));
    let span = (start.elapsed().as_millis() as u64).max(50);
    let expected = output_files(&reference, false);
    for k in 0..5 {
        let delay = Duration::from_millis(random.below(span));
        sigkill_then_resume(
            &v2,
            &[],
            &old,
            &root.join(format!("study-{k}")),
            delay,
            &[""],
            &expected,
        );
    }
    // A sweep with its cases' figures (~0.3 s in debug).
    let sweep = "[sweep]\npotential.depth = { from = 0.3, to = 0.6, points = 4 }\n";
    let v1 = config(&root.join("v1"), "sweep.toml", &(well(0.5, 20.0) + sweep));
    let v2 = config(&root.join("v2"), "sweep.toml", &(well(0.5, 22.0) + sweep));
    let args = ["--case-figures"];
    let old = root.join("old-sweep");
    assert_ok(&run(&v1, &old, &args, &[]));
    let reference = root.join("reference-sweep");
    let start = std::time::Instant::now();
    let o = run(&v2, &reference, &args, &[]);
    assert_ok(&o);
    let span = (start.elapsed().as_millis() as u64).max(50);
    let expected = output_files(&reference, false);
    let cases: Vec<String> = expected
        .keys()
        .filter_map(|k| k.strip_suffix("/levels.csv").map(str::to_string))
        .collect();
    assert_eq!(cases.len(), 4);
    let mut units: Vec<&str> = cases.iter().map(String::as_str).collect();
    units.push("summary");
    for k in 0..4 {
        let delay = Duration::from_millis(random.below(span));
        sigkill_then_resume(
            &v2,
            &args,
            &old,
            &root.join(format!("sweep-{k}")),
            delay,
            &units,
            &expected,
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
