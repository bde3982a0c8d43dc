//! `confine run` (and `run_study` / `run_case`) on spheres and cylinders: the study pipeline on
//! (n, l) levels with degeneracies, against independent references — the channels' own
//! spectrum (`confine spectrum --json`), the exact Bessel zeros of the hard sphere enumerated by
//! hand, and the explicit enumeration of N-fermion states.

use crate::common::{
    assert_clean_failure, confine_output as confine, read_csv, scratch, write_file,
};
use confine::channels::{RadialProblem, Selection};
use confine::checks::radial_exact::RadialWellExact;
use confine::model::potential::Potential;
use confine::model::radial::Geometry;
use confine::physics::many_body::{binned_counts, enumerate, EnumerationSettings, Spin};
use confine::physics::radial::orbitals;
use confine::physics::thermo::kinetic::window_averages;
use confine::pipeline::study::{run_case, CaseSpectrum};

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name || h.starts_with(&format!("{name} [")))
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn sphere_paper_run_levels_are_the_spectrum_json_levels_with_l_and_degeneracy() {
    let out = scratch("sphere_paper_run");
    let o = confine(&[
        "run",
        "configs/geometry/sphere_paper.toml",
        "--out",
        out.to_str().unwrap(),
        "--no-figures",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = confine(&["spectrum", "configs/geometry/sphere_paper.toml", "--json"]);
    assert!(o.status.success());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (header, rows) = read_csv(&out.join("sphere_paper").join("levels.csv"));
    assert_eq!(&header[..3], ["n", "l", "degeneracy"]);
    let (n, l, g) = (0, 1, 2);
    let e = column(&header, "energy");
    let k = column(&header, "kinetic");
    let requested = json["energy"].as_array().unwrap().len();
    assert_eq!(requested, 200);
    // The run solves more levels (below a cap, for the canonical tail); its lowest 200 are the
    // spectrum's 200, level by level, to the solver's rounding.
    assert!(rows.len() >= requested, "{}", rows.len());
    let mut worst_kinetic = 0.0_f64;
    for (i, row) in rows.iter().take(requested).enumerate() {
        let want = |key: &str| json[key][i].as_f64().unwrap();
        assert_eq!(row[n].parse::<f64>().unwrap(), want("n"), "n of level {i}");
        assert_eq!(row[l].parse::<f64>().unwrap(), want("l"), "l of level {i}");
        assert_eq!(
            row[g].parse::<f64>().unwrap(),
            want("degeneracy"),
            "g of level {i}"
        );
        // Both solve the same channel matrices, the run below a higher cap: E is a Rayleigh
        // quotient (second order in the eigenvector's rounding), ⟨K⟩ first order.
        let de = (row[e].parse::<f64>().unwrap() - want("energy")).abs();
        let dk = (row[k].parse::<f64>().unwrap() - want("kinetic")).abs();
        worst_kinetic = worst_kinetic.max(dk / want("kinetic"));
        assert!(
            de < 1e-12 && dk < 1e-8 * want("kinetic"),
            "level {i}: dE {de:e}, dK {dk:e}"
        );
    }
    println!("largest relative difference of <K>: {worst_kinetic:e}");
    // T^(K) = (2/3)⟨K⟩ in a sphere; S = ln Σ g.
    let t = column(&header, "T_K");
    let s = column(&header, "S");
    let mut states = 0u64;
    for row in &rows {
        let kin: f64 = row[k].parse().unwrap();
        let tk: f64 = row[t].parse().unwrap();
        assert!(
            (tk - 2.0 / 3.0 * kin).abs() <= 1e-15 * kin.max(1.0),
            "{row:?}"
        );
        states += row[g].parse::<u64>().unwrap();
        let entropy: f64 = row[s].parse().unwrap();
        // Ties at equal energy share Ω(E): only rows with a higher next energy check exactly.
        if entropy > 0.0 {
            assert!(entropy <= (states as f64).ln() + 1e-12, "{row:?}");
        }
    }
    // The completeness proof and the dimension are in the metadata.
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metadata.json")).unwrap()).unwrap();
    let case = &meta["cases"][0];
    assert_eq!(case["geometry"], "sphere");
    assert_eq!(case["dimension"], 3);
    let channels = &case["channels"];
    assert_eq!(channels["next_count_below_cap"], 0);
    let next = channels["next_channel"].as_u64().unwrap();
    assert_eq!(channels["solved"].as_array().unwrap().len() as u64, next);
    assert!(case["truncation"]["bound"].as_f64().unwrap() <= 1e-10);
    assert!(case["warnings"].as_array().unwrap().is_empty(), "{case}");
    std::fs::remove_dir_all(&out).unwrap();
}

/// A hard sphere of radius `r` (no well) with spacing `h`, N fermions of spin ½.
fn hard_sphere_config(name: &str, r: f64, h: f64, extra: &str) -> std::path::PathBuf {
    write_file(
        name,
        &format!(
            "[system]\ngeometry = \"sphere\"\nbox_half_width = {r:?}\n\
             [potential]\ntype = \"piecewise\"\n[[potential.pieces]]\nfrom = 0.0\nto = {r:?}\n\
             shape = \"constant\"\nvalue = 0.0\n\
             [grid]\nspacing = {h:?}\n[solve]\nlevels = 40\n{extra}"
        ),
    )
}

#[test]
fn two_fermions_in_a_hard_sphere_fill_1s_and_their_canonical_energy_is_the_bessel_enumeration() {
    let r = 10.0;
    let path = hard_sphere_config(
        "hard_sphere_n2.toml",
        r,
        0.02,
        "[analysis]\ntemperatures = { from = 0.005, to = 0.05, points = 10 }\n\
         [particles]\nn = [2, 4, 8]\nspin = \"half\"\nenergy_per_particle_max = 0.3\n",
    );
    let study = confine::load_study(&path).unwrap();
    let case = run_case(&study.cases[0]).unwrap();
    let CaseSpectrum::Radial(spectrum) = &case.spectrum else {
        panic!("a sphere gives radial levels");
    };
    let level = |n: usize, l: usize| {
        spectrum
            .levels
            .iter()
            .find(|x| x.n == n && x.channel == l)
            .unwrap()
            .energy
    };
    let (e1s, e1p) = (level(0, 0), level(0, 1));
    let exact = RadialWellExact::new(Geometry::Sphere, r, r, 0.0, 1.0, 1.0).unwrap();
    // Closed shells: 1s² and 1s² 1p⁶; 1s² 1p² is open: C(6, 2) = 15 states at the ground.
    let by_n = |n: usize| case.particles.iter().find(|p| p.particles == n).unwrap();
    assert_eq!(by_n(2).ground_energy, 2.0 * e1s);
    assert!((by_n(8).ground_energy - (2.0 * e1s + 6.0 * e1p)).abs() < 1e-14);
    for (n, exact_ground) in [
        (2, 2.0 * exact.level(0, 0)),
        (8, 2.0 * exact.level(0, 0) + 6.0 * exact.level(1, 0)),
    ] {
        let rel = (by_n(n).ground_energy - exact_ground).abs() / exact_ground;
        assert!(rel < 1e-5, "N = {n}: relative error {rel:e}");
    }
    let four = by_n(4).per_state.as_ref().unwrap();
    let ground: u64 = four
        .energy
        .iter()
        .zip(&four.multiplicity)
        .filter(|(&e, _)| e - four.energy[0] < 1e-12)
        .map(|(_, &g)| g)
        .sum();
    assert_eq!(ground, 15);
    assert_eq!(by_n(2).per_state.as_ref().unwrap().multiplicity[0], 1);

    // Canonical U(T) of N = 2 against pairs of spin-orbitals from the exact Bessel zeros:
    // every level below E_1s + 40 T_max, each (2l + 1) × 2 spin-orbitals.
    let canonical = &by_n(2).canonical;
    // The table ends where the omitted orbitals' bound passes the tolerance (a note): here
    // after 9 of the 10 temperatures.
    assert!(
        canonical.len() >= 9,
        "{} temperatures kept",
        canonical.len()
    );
    let t_max = canonical.last().unwrap().temperature;
    let mut spin_orbitals = Vec::new();
    for (l, _, e) in exact.levels_below(exact.level(0, 0) + 40.0 * t_max) {
        spin_orbitals.extend(std::iter::repeat_n(e, 2 * (2 * l + 1)));
    }
    let e0 = 2.0 * exact.level(0, 0);
    let mut worst = 0.0_f64;
    for point in canonical {
        let (mut z, mut ez) = (0.0, 0.0);
        for i in 0..spin_orbitals.len() {
            for j in i + 1..spin_orbitals.len() {
                let e = spin_orbitals[i] + spin_orbitals[j];
                let w = (-(e - e0) / point.temperature).exp();
                z += w;
                ez += e * w;
            }
        }
        let u = ez / z;
        let rel = (point.energy - u).abs() / u;
        worst = worst.max(rel);
        // The grid error of E_1s, (k h)²/12 = 3.3e-6 with k = π/R, h = 0.02, dominates.
        assert!(
            rel < 1e-5,
            "T = {}: U {} vs {u}",
            point.temperature,
            point.energy
        );
    }
    println!(
        "N = 2 canonical U(T): largest relative difference from the Bessel enumeration {worst:e}"
    );
}

#[test]
fn binned_window_temperature_of_two_fermions_in_a_sphere_uses_d_3() {
    let r = 10.0;
    let problem = RadialProblem::new(
        Potential::new(r, vec![]).unwrap(),
        1.0,
        0.05,
        Geometry::Sphere,
    )
    .unwrap();
    let spectrum = problem.spectrum(Selection::Below(1.0), None).unwrap();
    let orbitals = orbitals(&spectrum).unwrap();
    assert_eq!(orbitals.dimension(), 3);
    let e_max = 2.0 * spectrum.levels[0].energy + 0.3;
    let eps = 4e-3;
    let states = enumerate(&orbitals, &EnumerationSettings::new(2, Spin::Half, e_max)).unwrap();
    let list = states.to_state_list().unwrap();
    assert_eq!(list.dimension(), 3.0);
    let bins = binned_counts(&orbitals, 2, Spin::Half, e_max, eps / 4.0).unwrap();
    let binned = bins.window_kinetic(eps).unwrap();
    let grid: Vec<f64> = binned.iter().map(|w| w.energy).collect();
    let listed = window_averages(&list, &grid, eps).unwrap();
    let mut compared = 0;
    for (b, w) in binned.iter().zip(&listed) {
        let (lo, hi) = (b.energy, b.energy + eps);
        // Windows that reach above E_max hold states the enumeration did not list.
        if hi > e_max {
            continue;
        }
        assert_eq!(w.weight as f64, b.count, "states in [{lo}, {hi})");
        if b.count == 0.0 {
            continue;
        }
        // T_E^(K) = (2/d) K_E / N with d = 3: from the states listed one by one, by hand.
        let (mut k, mut g) = (0.0, 0.0);
        for i in 0..list.len() {
            if list.energy()[i] >= lo && list.energy()[i] < hi {
                k += list.kinetic()[i] * list.multiplicity()[i] as f64;
                g += list.multiplicity()[i] as f64;
            }
        }
        let by_hand = 2.0 / (3.0 * 2.0) * k / g;
        let t = b.temperature.unwrap();
        assert!(
            (t - by_hand).abs() <= 1e-12 * by_hand,
            "E = {lo}: {t} vs {by_hand}"
        );
        assert!((w.temperature.unwrap() - by_hand).abs() <= 1e-12 * by_hand);
        compared += 1;
    }
    assert!(compared >= 20, "{compared} windows compared");
}

#[test]
fn coulomb_with_a_sphere_is_a_config_error_naming_coulomb_and_nothing_is_written() {
    let path = hard_sphere_config(
        "sphere_coulomb.toml",
        10.0,
        0.1,
        "[coulomb]\norbitals = 10\nenergy_per_particle_max = 0.1\n",
    );
    let out = scratch("sphere_coulomb");
    let o = confine(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        &["sphere_coulomb.toml", "coulomb", "slab-only", "sphere"],
    );
    assert!(!out.exists());
}

#[test]
fn a_cylinder_run_draws_the_radial_figures_and_a_sweep_summarizes_radial_cases() {
    let path = write_file(
        "cylinder_sweep.toml",
        "[system]\ngeometry = \"cylinder\"\nbox_half_width = 60.0\n\
         [potential]\ntype = \"square_well\"\ndepth = 0.1\nhalf_width = 20.0\n\
         [grid]\nspacing = 0.5\n[solve]\nlevels = 30\n\
         [sweep]\nsystem.box_half_width = [60.0, 80.0]\n",
    );
    let out = scratch("cylinder_sweep");
    let o = confine(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--case-figures",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (header, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(rows.len(), 2, "{header:?}");
    let mut cases: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("levels.csv").exists())
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 2);
    for dir in &cases {
        let (header, rows) = read_csv(&dir.join("levels.csv"));
        assert_eq!(&header[..3], ["n", "l", "degeneracy"]);
        // m = 0 once, ±m twice.
        for row in &rows {
            let g = if row[1] == "0" { "1" } else { "2" };
            assert_eq!(row[2], g, "{row:?}");
        }
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("metadata.json")).unwrap())
                .unwrap();
        assert_eq!(meta["cases"][0]["dimension"], 2);
        let figures: Vec<String> = meta["figures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
        for stem in [
            "fig1_channels",
            "fig2_radial_densities",
            "fig3_temperatures",
        ] {
            assert!(
                figures.iter().any(|f| f.contains(stem)),
                "{stem} in {figures:?}"
            );
        }
        let svg = figures
            .iter()
            .find(|f| f.contains("fig2_radial_densities") && f.ends_with(".svg"));
        if let Some(svg) = svg {
            let text = std::fs::read_to_string(dir.join(svg)).unwrap();
            assert!(text.contains("r|R|²: n = "), "{svg}");
        }
        let kinetic = figures
            .iter()
            .find(|f| f.contains("fig1_channels") && f.ends_with(".svg"));
        if let Some(svg) = kinetic {
            let text = std::fs::read_to_string(dir.join(svg)).unwrap();
            assert!(text.contains("m = 0") && text.contains("m = 1"));
        }
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_omitted_weight_bounds_the_levels_an_over_complete_solve_finds_above_the_cap() {
    for geometry in [Geometry::Sphere, Geometry::Cylinder] {
        let problem =
            RadialProblem::new(Potential::new(10.0, vec![]).unwrap(), 1.0, 0.1, geometry).unwrap();
        let few = problem.spectrum(Selection::Lowest(30), None).unwrap();
        let cap = few.completeness.cap;
        // Every level up to cap + 4 Ha in every channel: what the 30 left out below that.
        let many = problem.spectrum(Selection::Below(cap + 4.0), None).unwrap();
        assert!(many.levels.len() > 3 * few.levels.len());
        // The count that sizes a solve before it is made is the solve's.
        assert_eq!(problem.count_below(cap + 4.0).unwrap(), many.levels.len());
        for t in [0.02, 0.1, 0.5] {
            let left_out: f64 = many
                .levels
                .iter()
                .filter(|l| l.energy >= cap)
                .map(|l| l.degeneracy as f64 * (-(l.energy - cap) / t).exp())
                .sum();
            let bound = few.omitted_weight(t);
            assert!(
                left_out <= bound && bound.is_finite(),
                "{geometry:?} T = {t}: {left_out} > {bound}"
            );
        }
    }
}
