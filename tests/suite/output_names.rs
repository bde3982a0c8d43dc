//! Issue 10, item 1: a case name never leaves `--out` nor takes a name the output directory uses
//! for itself. Case names, sweep case names and Coulomb variant directories are checked when
//! the config is loaded, with a message naming the file and the key.

use crate::common::{confine, output_files, scratch_dir, square_well};
use confine::pipeline::config::parse_study;
use std::path::Path;

fn well() -> String {
    square_well(20.0, 0.5, 4.0, 0.2, 12)
}

fn load_error(text: &str) -> String {
    match parse_study(text, Path::new("names.toml")) {
        Ok(study) => panic!(
            "accepted; cases: {:?}",
            study.cases.iter().map(|c| &c.name).collect::<Vec<_>>()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unsafe_case_names_are_refused_when_the_config_is_loaded() {
    let long = "a".repeat(300);
    for (name, why) in [
        (".", "starts with '.'"),
        ("..", "starts with '.'"),
        (".staging-1-0", "starts with '.'"),
        ("figures", "output directory's own figures"),
        ("metadata.json", "output directory's own metadata.json"),
        ("Summary.CSV", "output directory's own summary.csv"),
        ("summary.json", "output directory's own summary.json"),
        (long.as_str(), "300 bytes long"),
    ] {
        // The second case, so that the key names the right entry.
        let text = format!(
            "{}[[cases]]\nname = \"ok\"\n[[cases]]\nname = \"{name}\"\n",
            well()
        );
        let e = load_error(&text);
        assert!(
            e.starts_with("names.toml: cases[1].name") && e.contains(why),
            "{name}: {e}"
        );
    }
    // Names differing only in case would share a directory on a case-insensitive file system.
    let e = load_error(&format!(
        "{}[[cases]]\nname = \"Deep\"\n[[cases]]\nname = \"deep\"\n",
        well()
    ));
    assert!(e.contains("cases[1].name") && e.contains("\"Deep\""), "{e}");
    // The longest name allowed passes.
    let ok = format!("{}[[cases]]\nname = \"{}\"\n", well(), "b".repeat(200));
    parse_study(&ok, Path::new("names.toml")).unwrap();
}

#[test]
fn a_sweep_label_that_makes_the_case_name_too_long_is_refused_naming_the_case() {
    let text = format!(
        "{}[[cases]]\nname = \"{}\"\n[sweep]\npotential.depth = [0.3, 0.4]\n",
        well(),
        "c".repeat(190)
    );
    let e = load_error(&text);
    assert!(
        e.contains("cases[0].name with the sweep label") && e.contains("bytes long"),
        "{e}"
    );
}

#[test]
fn coulomb_variant_directories_must_be_distinct_and_of_a_sane_length() {
    let coulomb = |eps: &str| {
        format!(
            "{}[coulomb]\neps_r = {eps}\norbitals = 8\nenergy_per_particle_max = 0.0\n",
            well()
        )
    };
    let e = load_error(&coulomb("[12.9, 4.0, 12.9]"));
    assert!(
        e.contains("coulomb.eps_r holds 12.9 twice"),
        "two variants would share coulomb/eps_r=12.9/: {e}"
    );
    let e = load_error(&coulomb("[1e300]"));
    assert!(
        e.contains("coulomb.eps_r = 1e300") && e.contains("bytes long"),
        "{e}"
    );
    parse_study(&coulomb("[1.0, 12.9]"), Path::new("names.toml")).unwrap();
}

#[test]
fn a_config_file_whose_stem_is_reserved_is_refused_only_when_the_stem_names_the_case() {
    let e = parse_study(&well(), Path::new("/x/figures.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/x/figures.toml: file name"), "{e}");
    // With [[cases]] the stem only names the default output directory.
    let text = format!("{}[[cases]]\nname = \"a\"\n", well());
    parse_study(&text, Path::new("/x/figures.toml")).unwrap();
}

#[test]
fn run_refuses_a_case_named_dot_dot_and_writes_nothing_beside_out() {
    let root = scratch_dir("escape");
    let cfg = root.join("escape.toml");
    std::fs::write(&cfg, format!("{}[[cases]]\nname = \"..\"\n", well())).unwrap();
    // A user's file in the parent of --out, which a case ".." used to overwrite.
    let parent = root.join("runs");
    std::fs::create_dir_all(&parent).unwrap();
    std::fs::write(parent.join("levels.csv"), "mine\n").unwrap();
    let out = parent.join("out");
    let o = confine()
        .arg("run")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .arg("--no-figures")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("escape.toml") && err.contains("cases[0].name"),
        "{err}"
    );
    let left = output_files(&parent, true);
    assert_eq!(left.keys().collect::<Vec<_>>(), ["levels.csv"], "{left:?}");
    assert_eq!(left["levels.csv"], b"mine\n");
    let _ = std::fs::remove_dir_all(&root);
}
