//! Where the time goes: `metadata.json` books every stage of a run (spectrum, one-particle
//! thermodynamics, each N's enumeration, thermodynamics, canonical table and NHC intervals, the
//! Coulomb integrals and each variant's diagonalization, M′ check and tables, the output's
//! tables and figures) and the peak RSS; `confine run --timings` prints them.

use crate::common::{confine, scratch_dir, square_well, write_file};

#[test]
fn metadata_and_timings_flag_report_every_stage_and_the_peak_rss() {
    let text = square_well(12.0, 0.5, 3.0, 0.1, 24)
        + "[particles]\nn = [1, 2]\nspin = \"half\"\nenergy_per_particle_max = 0.5\n\
           [coulomb]\neps_r = [4.0]\norbitals = 10\ncheck_orbitals = 12\nenergy_per_particle_max = 0.1\n";
    let config = write_file("timings.toml", &text);
    let out = scratch_dir("timings").join("out");
    let run = confine()
        .arg("run")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .arg("--timings")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metadata.json")).unwrap()).unwrap();
    let timings = &meta["timings"];
    let case = &timings["cases"][0];
    assert_eq!(case["case"], meta["cases"][0]["name"]);
    let stages: Vec<(String, f64)> = case["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_string(),
                s["seconds"].as_f64().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = stages.iter().map(|s| s.0.as_str()).collect();
    let expected = [
        "spectrum",
        "one_particle",
        "particles/N=1/enumeration",
        "particles/N=1/thermodynamics",
        "particles/N=1/canonical",
        "particles/N=1/nhc",
        "particles/N=2/enumeration",
        "particles/N=2/thermodynamics",
        "particles/N=2/canonical",
        "particles/N=2/nhc",
        "coulomb/integrals",
        "coulomb/W off/diagonalization",
        "coulomb/W off/tables",
        "coulomb/eps_r = 4/diagonalization",
        "coulomb/eps_r = 4/M' check",
        "coulomb/eps_r = 4/tables",
    ];
    assert_eq!(names, expected, "{stages:?}");
    for (stage, seconds) in &stages {
        assert!(seconds.is_finite() && *seconds >= 0.0, "{stage}: {seconds}");
    }
    // After the spectrum, the Coulomb study runs beside the one-particle and N-particle stages
    // (these one after another); its variants run concurrently after the integrals, each with
    // its M solve and M′ check side by side and its tables after both: the critical path
    // through them is no longer than the case.
    let booked_as = |stage: &str| stages.iter().find(|s| s.0 == stage).map_or(0.0, |s| s.1);
    let variant_path = |variant: &str| {
        let of = |part: &str| booked_as(&format!("coulomb/{variant}/{part}"));
        of("diagonalization").max(of("M' check")) + of("tables")
    };
    let beside_coulomb: f64 = stages
        .iter()
        .filter(|s| s.0 != "spectrum" && !s.0.starts_with("coulomb/"))
        .map(|s| s.1)
        .sum();
    let coulomb =
        booked_as("coulomb/integrals") + variant_path("W off").max(variant_path("eps_r = 4"));
    let booked = booked_as("spectrum") + beside_coulomb.max(coulomb);
    let seconds = &meta["cases"][0]["seconds"];
    let case_total =
        seconds["spectrum"].as_f64().unwrap() + seconds["thermodynamics"].as_f64().unwrap();
    assert!(
        booked <= case_total * (1.0 + 1e-9) + 1e-6,
        "{booked} > {case_total}"
    );
    assert_eq!(stages[0].1, seconds["spectrum"].as_f64().unwrap());
    let output: Vec<&str> = timings["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(output, ["tables", "figures"]);
    assert_eq!(timings["computation_seconds"], meta["seconds"]);
    if cfg!(target_os = "linux") {
        // At least the spectrum's wave functions were resident: 24 levels × ~240 nodes × 8 bytes.
        let rss = timings["peak_rss_bytes"].as_u64().unwrap();
        assert!(rss > 24 * 240 * 8, "{rss}");
        assert!(
            stdout.contains("peak RSS (VmHWM when metadata.json was written):"),
            "{stdout}"
        );
    }
    for stage in expected {
        assert!(
            stdout.contains(&format!(": {stage} ")),
            "{stage} missing in\n{stdout}"
        );
    }
    assert!(stdout.contains("output: tables"), "{stdout}");
    assert!(stdout.contains("output: figures"), "{stdout}");
}
