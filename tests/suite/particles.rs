//! N electrons through the study: the same thermodynamics as one particle, enumeration and
//! binned counting agreeing, the escape drops of T_E^(K), and clean refusals.

use confine::diagnostic::{Kind, Severity};
use confine::pipeline::config::parse_study;
use confine::pipeline::study::run_study;
use std::path::Path;

const BASE: &str = r#"
[system]
box_half_width = 60.0
[potential]
type = "square_well"
depth = 0.1
half_width = 20.0
[grid]
spacing = 0.25
[solve]
levels = 40
[analysis]
epsilon = 0.0008
temperatures = { from = 2e-3, to = 0.05, points = 30 }
"#;

fn study(particles: &str) -> confine::pipeline::study::StudyResult {
    let text = format!("{BASE}\n[particles]\n{particles}\n");
    let s = parse_study(&text, Path::new("particles.toml")).unwrap();
    run_study(&s).unwrap()
}

#[test]
fn one_spinless_particle_is_the_single_particle_thermodynamics() {
    let r = study("n = 1\nspin = \"none\"\nenergy_per_particle_max = 0.05");
    let case = &r.cases[0];
    let p = &case.particles[0];
    assert_eq!(p.method, "enumerated");
    // Same canonical table (same temperatures, same spectrum, different code path).
    assert_eq!(p.canonical.len(), case.canonical.len());
    for (a, b) in p.canonical.iter().zip(&case.canonical) {
        assert_eq!(a.temperature, b.temperature);
        assert!((a.energy - b.energy).abs() <= 1e-12 * a.energy.abs().max(1e-3));
        assert!((a.entropy - b.entropy).abs() <= 1e-10 * a.entropy.abs().max(1.0));
    }
    // Same per-state T^(K) and entropy as the level table.
    let t = p.per_state.as_ref().unwrap();
    for (i, l) in case.levels.iter().take(t.energy.len()).enumerate() {
        assert_eq!(t.energy[i], l.energy);
        assert_eq!(t.t_kinetic[i], l.t_kinetic);
        assert_eq!(t.entropy[i], l.entropy);
    }
}

#[test]
fn spin_half_doubles_every_single_particle_state() {
    let r = study("n = 1\nspin = \"half\"\nenergy_per_particle_max = 0.05");
    let case = &r.cases[0];
    let p = &case.particles[0];
    for row in p.grid.iter().step_by(17) {
        let below = case
            .levels
            .iter()
            .filter(|l| l.energy <= row.energy)
            .count();
        assert_eq!(row.omega, 2.0 * below as f64, "Ω at {}", row.energy);
    }
}

#[test]
fn enumeration_and_binned_counting_agree() {
    let e =
        study("n = 3\nenergy_per_particle_max = 0.0\nmethod = \"enumerate\"\nbin_width = 0.0002");
    let b = study("n = 3\nenergy_per_particle_max = 0.0\nmethod = \"binned\"\nbin_width = 0.0002");
    let (pe, pb) = (&e.cases[0].particles[0], &b.cases[0].particles[0]);
    assert_eq!(pe.method, "enumerated");
    assert_eq!(pb.method, "binned");
    assert_eq!(pe.ground_energy, pb.ground_energy);
    let total = pe.states;
    // Every state below E_max is counted by both (binning may add states of the last bin).
    assert!(
        pb.states >= total && pb.states <= total * 1.2,
        "{} vs {total}",
        pb.states
    );
    // Ω at the binned grid's energies, against the enumerated states.
    let t = pe.per_state.as_ref().unwrap();
    let mut compared = 0;
    for row in pb.grid.iter().skip(1).step_by(7) {
        if row.energy > pe.energy_max {
            break;
        }
        // The binned Ω at a bin's lower edge counts the states below that edge.
        let exact: f64 = t
            .energy
            .iter()
            .zip(&t.multiplicity)
            .filter(|(&x, _)| x < row.energy)
            .map(|(_, &g)| g as f64)
            .sum();
        let tol = 0.02 * exact + 16.0; // states within the quantization bound of an edge
        assert!(
            (row.omega - exact).abs() <= tol,
            "Ω({}) {} vs {exact}",
            row.energy,
            row.omega
        );
        compared += 1;
    }
    assert!(compared > 10);
}

#[test]
fn each_escaping_electron_makes_a_temperature_drop() {
    let r = study("n = [1, 2]\nenergy_per_particle_max = 0.02");
    let levels = &r.cases[0].levels;
    let e5 = levels[5].energy;
    for p in &r.cases[0].particles {
        let n = p.particles;
        let ke = confine::pipeline::study::nhc_of(
            &p.nhc,
            confine::pipeline::study::TemperatureDefinition::KineticWindow,
        )
        .unwrap();
        // The first escape: N − 1 electrons in the lowest spin-orbitals and one crossing from
        // the top bound level E5 to the continuum (E ≈ 0): a drop between E_gs(N−1) + E5 and
        // E_gs(N−1) (spin ½: orbital j holds spin-orbitals 2j and 2j + 1).
        let rest: f64 = (0..n - 1).map(|s| levels[s / 2].energy).sum();
        let (lo, hi) = (rest + e5, rest);
        // T_E^(K) averages over [E, E + ε): the fall ends within ε of the escape energy and
        // starts inside [lo, hi].
        let eps = 0.0008;
        let found = ke.intervals.iter().any(|i| {
            i.e_start >= lo - eps && i.e_start < hi && i.e_end >= hi - eps && i.relative_drop > 0.5
        });
        assert!(
            found,
            "N = {n}: no T_E^(K) drop across [{lo}, {hi}]: {:?}",
            ke.intervals
        );
        // The entropy per particle has a dent below its concave envelope.
        assert!(p.intruder.depth > 0.0);
        // The canonical tables stay within the truncation tolerance.
        assert!(p.canonical_bound <= 1e-10);
    }
    let dents: Vec<f64> = r.cases[0]
        .particles
        .iter()
        .map(|p| p.intruder.depth)
        .collect();
    assert!(
        dents[1] < dents[0],
        "the dent should shrink from N = 1 to N = 2: {dents:?}"
    );
}

#[test]
fn impossible_particle_requests_are_refused_clearly() {
    let run = |particles: &str| -> Result<(), String> {
        let text = format!("{BASE}\n[particles]\n{particles}\n");
        let s = parse_study(&text, Path::new("bad.toml")).map_err(|e| e.to_string())?;
        run_study(&s)
            .map(|_| ())
            .map_err(|e| confine::pipeline::error_chain(&e))
    };
    let e = run("n = 0\nenergy_per_particle_max = 0.01").unwrap_err();
    assert!(e.contains("particles.n"), "{e}");
    let e = run("n = [2, 2]\nenergy_per_particle_max = 0.01").unwrap_err();
    assert!(e.contains("particles.n"), "{e}");
    let e = run("n = 2").unwrap_err();
    assert!(e.contains("energy_per_particle_max"), "{e}");
    let e = run("n = 2\nenergy_per_particle_max = 0.01\nbin_width = 0.0").unwrap_err();
    assert!(e.contains("particles.bin_width"), "{e}");
    let e = run("n = 2\nenergy_per_particle_max = -0.2").unwrap_err();
    assert!(e.contains("ground"), "E_max below the ground state: {e}");
    let e = run("n = 100000\nenergy_per_particle_max = 0.01").unwrap_err();
    assert!(e.contains("spin-orbitals") || e.contains("orbitals"), "{e}");
    let e = run("n = 3\nenergy_per_particle_max = 0.05\nstate_limit = 100\nmethod = \"enumerate\"")
        .unwrap_err();
    assert!(e.contains("binned"), "state limit: {e}");
    // With method = "auto" the same request falls back to binned counting, with a note (binned
    // counting is exact to its stated bound: nothing is less accurate than claimed).
    let text =
        format!("{BASE}\n[particles]\nn = 3\nenergy_per_particle_max = 0.05\nstate_limit = 100\n");
    let s = parse_study(&text, Path::new("auto.toml")).unwrap();
    let r = run_study(&s).unwrap();
    assert_eq!(r.cases[0].particles[0].method, "binned");
    let fallback = r.cases[0]
        .diagnostics
        .iter()
        .find(|d| d.kind == Kind::BinnedCounting)
        .expect("a note on the fallback");
    assert_eq!(fallback.severity, Severity::Note);
    assert!(fallback.message.contains("energy bins"), "{fallback}");
    assert_eq!(fallback.case.as_deref(), Some(r.cases[0].name.as_str()));
    assert_eq!(fallback.numbers["state_limit"], 100.0);
}
