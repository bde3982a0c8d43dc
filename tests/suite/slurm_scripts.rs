//! The Slurm job scripts in `scripts/slurm/`: the README quotes each one verbatim, and the array
//! and merge scripts, run by plain bash with the variables Slurm and `submit.sh` would set, shard
//! a sweep and merge it into the unsharded summary. (`.ci/slurm` runs them on a real Slurm.)

use crate::common::{scratch_dir, square_well};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCRIPTS: [&str; 3] = [
    "scripts/slurm/submit.sh",
    "scripts/slurm/sweep.sbatch",
    "scripts/slurm/merge.sbatch",
];

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The contents of every fenced code block of a Markdown text, each ending in a newline.
fn fenced_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in markdown.lines() {
        if line.starts_with("```") {
            match open.take() {
                Some(block) => blocks.push(block),
                None => open = Some(String::new()),
            }
        } else if let Some(block) = open.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

#[test]
fn readme_quotes_each_slurm_script_verbatim() {
    let readme = std::fs::read_to_string(manifest("README.md")).unwrap();
    let blocks = fenced_blocks(&readme);
    for script in SCRIPTS {
        let text = std::fs::read_to_string(manifest(script)).unwrap();
        assert!(
            blocks.contains(&text),
            "README.md has no code block equal to {script}: paste the file into it unchanged"
        );
        assert!(
            readme.contains(&format!("`{script}`")),
            "README.md does not name {script}"
        );
    }
}

/// Runs a job script with bash, `confine` on PATH and `vars` set, as a Slurm task would.
fn run_job(script: &str, vars: &[(&str, &str)]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_confine")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let o = Command::new("bash")
        .arg(manifest(script))
        .env("PATH", path)
        .envs(vars.iter().copied())
        .output()
        .expect("bash runs");
    assert!(
        o.status.success(),
        "{script} {vars:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

#[test]
fn array_tasks_and_merge_script_reproduce_the_unsharded_summary() {
    let dir = scratch_dir("slurm-scripts");
    let config = dir.join("sweep.toml");
    std::fs::write(
        &config,
        format!(
            "{}[sweep]\npotential.depth = {{ from = 0.1, to = 0.5, points = 7 }}\n",
            square_well(20.0, 0.5, 4.0, 0.1, 20)
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let (config_s, out_s) = (config.to_str().unwrap(), out.to_str().unwrap());
    let shards = 3;
    for task in 1..=shards {
        let task = task.to_string();
        run_job(
            "scripts/slurm/sweep.sbatch",
            &[
                ("CONFINE_CONFIG", config_s),
                ("CONFINE_OUT", out_s),
                ("CONFINE_SHARDS", &shards.to_string()),
                ("SLURM_ARRAY_TASK_ID", &task),
                ("SLURM_CPUS_PER_TASK", "1"),
            ],
        );
        assert!(out.join(format!("shard-{task}/summary.csv")).is_file());
    }
    // A shard left by an earlier submission with more shards must not be merged.
    std::fs::create_dir_all(out.join("shard-4")).unwrap();
    run_job(
        "scripts/slurm/merge.sbatch",
        &[
            ("CONFINE_OUT", out_s),
            ("CONFINE_SHARDS", &shards.to_string()),
        ],
    );

    let unsharded = dir.join("unsharded");
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .arg("run")
        .arg(&config)
        .arg("--out")
        .arg(&unsharded)
        .arg("--no-figures")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let merged = std::fs::read(out.join("merged/summary.csv")).unwrap();
    assert_eq!(
        String::from_utf8(merged).unwrap(),
        std::fs::read_to_string(unsharded.join("summary.csv")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn submit_refuses_bad_arguments_before_calling_sbatch() {
    let dir = scratch_dir("slurm-submit");
    let config = dir.join("sweep.toml");
    std::fs::write(&config, square_well(20.0, 0.5, 4.0, 0.1, 20)).unwrap();
    let submit = |args: &[&str]| {
        Command::new("bash")
            .arg(manifest("scripts/slurm/submit.sh"))
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("bash runs")
    };
    let cases: [(&[&str], &str); 5] = [
        (&["sweep.toml", "out"], "usage:"),
        (
            &["sweep.toml", "out", "0"],
            "SHARDS must be a positive integer, got '0'",
        ),
        (&["sweep.toml", "out", "3x"], "got '3x'"),
        (&["sweep.toml", "out", ""], "got ''"),
        (
            &["nope.toml", "out", "3"],
            "config file 'nope.toml' not found",
        ),
    ];
    for (args, message) in cases {
        let o = submit(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: `{message}` not in {err}");
    }
    assert!(
        !dir.join("out").exists(),
        "a refused submission created OUT"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
