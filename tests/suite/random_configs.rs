//! Random configs through the CLI under a memory limit: valid ones and invalid ones, with huge
//! and tiny numbers (1e300, 1e-300, 0, negative, "NaN" strings, huge level and point counts).
//! Each is planned with `run --dry-run`; then `run` goes under `ulimit -v` set from that plan
//! (plus a fixed allowance for the process itself) with `--memory-limit` at the plan's estimate
//! plus room for the work sized at run time. Whatever the config, the run must end by itself:
//! no panic, no death by a signal (an allocation beyond the address-space limit aborts), exit 0
//! with the tables written, or exit 1 with one `error:` message naming a key.

use crate::common::scratch_dir;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use std::path::Path;
use std::process::{Command, Output};

/// An odd value for a key: huge, tiny, zero, negative, not a number, a fraction where a count is
/// due; the flag says whether it is invalid whatever the key (given where it is not obvious).
fn odd() -> impl Strategy<Value = (&'static str, Option<bool>)> {
    prop_oneof![
        Just(("1e300", None)),
        Just(("1e-300", None)),
        Just(("0", None)),
        Just(("-2.5", Some(true))),
        Just(("\"NaN\"", Some(true))),
        Just(("\"-inf\"", Some(true))),
        Just(("10000000", None)),
        Just(("100000000000", None)),
        Just(("1.5", None)),
    ]
}

/// The keys the generator sets, with the section they live in.
const FIELDS: [(&str, &str); 11] = [
    ("system", "box_half_width"),
    ("system", "mass"),
    ("potential", "depth"),
    ("potential", "half_width"),
    ("grid", "spacing"),
    ("solve", "levels"),
    ("analysis", "temperatures.points"),
    ("analysis", "energy_grid.step"),
    ("analysis", "epsilon"),
    ("particles", "state_limit"),
    ("resources", "memory_limit"),
];

/// One config text and whether it is surely invalid: a valid config with small grids, and in
/// half of the cases one of its keys set to an odd value.
fn config() -> impl Strategy<Value = (String, bool)> {
    let normal = (
        (20.0..80.0f64, 0.5..2.0f64, 0.01..0.5f64, 2.0..15.0f64),
        (0.25..1.0f64, 1u64..40),
        (2u64..400, 1e-3..1e-2f64, 1e-4..1e-3f64),
        (1u64..4, -0.08..0.0f64, 1000u64..100_000),
        (any::<[bool; 5]>(),),
    );
    let change = prop::option::of((0..FIELDS.len(), odd()));
    (normal, change).prop_map(|(normal, change)| {
        let ((l, m, depth, a), (h, levels), (points, step, eps), (n, e, states), (present,)) =
            normal;
        let mut values: Vec<Option<String>> = vec![
            Some(format!("{l:?}")),
            present[0].then(|| format!("{m:?}")),
            Some(format!("{depth:?}")),
            Some(format!("{a:?}")),
            Some(format!("{h:?}")),
            Some(levels.to_string()),
            present[1].then(|| points.to_string()),
            present[2].then(|| format!("{step:?}")),
            present[3].then(|| format!("{eps:?}")),
            present[4].then(|| states.to_string()),
            None,
        ];
        let mut invalid = false;
        if let Some((field, (v, bad))) = change {
            let (_, key) = FIELDS[field];
            values[field] = Some(if key == "memory_limit" {
                format!("\"{} B\"", v.trim_matches('"'))
            } else {
                v.to_string()
            });
            // What every key refuses: a negative number or not a number; a count that is not
            // a whole number or is zero; a length, energy or mass of zero.
            invalid = bad.unwrap_or(false)
                || (v == "1.5" && ["levels", "temperatures.points", "state_limit"].contains(&key))
                || (v == "0" && key != "resources.memory_limit");
        }
        let get = |i: usize| values[i].clone();
        let mut t = format!("[system]\nbox_half_width = {}\n", get(0).unwrap());
        if let Some(m) = get(1) {
            t += &format!("mass = {m}\n");
        }
        t += &format!(
            "[potential]\ntype = \"square_well\"\ndepth = {}\nhalf_width = {}\n\
             [grid]\nspacing = {}\n[solve]\nlevels = {}\n",
            get(2).unwrap(),
            get(3).unwrap(),
            get(4).unwrap(),
            get(5).unwrap()
        );
        if get(6).is_some() || get(7).is_some() || get(8).is_some() {
            t += "[analysis]\n";
            if let Some(p) = get(6) {
                t += &format!("temperatures = {{ from = 1e-4, to = 0.05, points = {p} }}\n");
            }
            if let Some(s) = get(7) {
                t += &format!("energy_grid = {{ from = -0.1, to = 0.1, step = {s} }}\n");
            }
            if let Some(e) = get(8) {
                t += &format!("epsilon = {e}\n");
            }
        }
        if get(9).is_some() || present[4] {
            t += &format!("[particles]\nn = {n}\nenergy_per_particle_max = {e:?}\n");
            if let Some(s) = get(9) {
                t += &format!("state_limit = {s}\n");
            }
        }
        if let Some(mem) = get(10) {
            t += &format!("[resources]\nmemory_limit = {mem}\n");
        }
        (t, invalid)
    })
}

/// The keys a message may name.
const KEYS: [&str; 9] = [
    "system.",
    "potential.",
    "grid.",
    "solve.",
    "analysis.",
    "particles.",
    "resources.",
    "the number of threads",
    "[system]",
];

fn run(args: &[&str], address_space_kib: Option<u64>) -> Output {
    let confine = env!("CARGO_BIN_EXE_confine");
    let script = match address_space_kib {
        Some(kib) => format!("ulimit -v {kib} && exec \"$0\" \"$@\""),
        None => "exec \"$0\" \"$@\"".to_string(),
    };
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(confine)
        .args(args)
        // glibc's per-thread arenas and rayon's thread count inflate the virtual size.
        .env("MALLOC_ARENA_MAX", "2")
        .env("RAYON_NUM_THREADS", "2")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("sh runs")
}

/// Virtual memory of the process beyond its heap (binary, libraries, thread stacks, glibc's
/// arenas), allowed on top of confine's own limit (KiB).
const PROCESS_KIB: u64 = 160 << 10;

fn check(text: &str, invalid: bool, dir: &Path) -> Result<(), TestCaseError> {
    let cfg = dir.join("random.toml");
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let plan = run(&["run", cfg, "--dry-run", "--no-figures"], None);
    let plan_text = String::from_utf8_lossy(&plan.stdout).into_owned();
    let estimate = plan_text
        .lines()
        .find_map(|l| l.strip_prefix("largest case: "))
        .and_then(|l| l.split(" needs ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|b| b.parse::<u64>().ok());
    let (limit, kib) = match estimate {
        // Room for the levels added at run time and the energy grids sized by the spectrum.
        Some(bytes) => {
            let limit = bytes + bytes / 4 + (32 << 20);
            (limit, limit / 1024 + PROCESS_KIB)
        }
        // Not planned (a config error): it must fail before anything large.
        None => (1 << 30, (1 << 20) + PROCESS_KIB),
    };
    let limit = format!("{limit} B");
    let o = run(
        &[
            "run",
            cfg,
            "--no-figures",
            "--memory-limit",
            &limit,
            "--out",
            out,
        ],
        Some(kib),
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let context = format!("config:\n{text}\nplan:\n{plan_text}\nstderr:\n{err}");
    prop_assert!(o.status.code().is_some(), "killed by a signal: {context}");
    prop_assert!(!err.contains("panicked"), "panic: {context}");
    prop_assert!(
        !err.contains("memory allocation"),
        "allocation failure: {context}"
    );
    match o.status.code() {
        Some(0) => {
            prop_assert!(!invalid, "an invalid config ran: {context}");
            prop_assert!(Path::new(out).join("metadata.json").exists(), "{context}");
        }
        Some(1) => {
            prop_assert!(err.starts_with("error: "), "{context}");
            prop_assert_eq!(err.matches("error: ").count(), 1, "{}", context);
            prop_assert!(
                KEYS.iter().any(|k| err.contains(k)),
                "no key named: {context}"
            );
        }
        other => prop_assert!(false, "exit {other:?}: {context}"),
    }
    let _ = std::fs::remove_dir_all(out);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        // Deterministic: the same 48 configs on every run.
        rng_seed: RngSeed::Fixed(0x00C0_FF1E),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_configs_end_cleanly_within_their_stated_memory((text, invalid) in config()) {
        let dir = scratch_dir("random-config");
        let result = check(&text, invalid, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        result?;
    }
}
