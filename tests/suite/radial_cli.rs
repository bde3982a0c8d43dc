//! `confine` on spheres and cylinders: `spectrum --json` with the channel and degeneracy
//! arrays, `--channel`, `validate`, and bad geometry input ending in a clear message, non-zero
//! exit and nothing written.

use crate::common::{assert_clean_failure, confine_output as confine, stderr, write_file};

fn array<T: serde::de::DeserializeOwned>(v: &serde_json::Value, key: &str) -> Vec<T> {
    serde_json::from_value(v[key].clone()).unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn sphere_spectrum_json_lists_channels_and_degeneracies_sorted_by_energy() {
    let o = confine(&[
        "spectrum",
        "configs/geometry/sphere_paper.toml",
        "--levels",
        "40",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let energy: Vec<f64> = array(&v, "energy");
    let l: Vec<usize> = array(&v, "l");
    let g: Vec<u64> = array(&v, "degeneracy");
    let kinetic: Vec<f64> = array(&v, "kinetic");
    let potential: Vec<f64> = array(&v, "potential");
    assert_eq!((energy.len(), l.len(), g.len()), (40, 40, 40));
    assert!(energy.windows(2).all(|w| w[0] <= w[1]));
    for i in 0..40 {
        assert_eq!(g[i], 2 * l[i] as u64 + 1);
        assert!((kinetic[i] + potential[i] - energy[i]).abs() < 1e-15);
    }
    assert!(l.iter().any(|&x| x >= 5), "{l:?}");
    assert_eq!(v["geometry"], "sphere");
    assert_eq!(v["channels"]["next_count_below_cap"], 0);
    let next = v["channels"]["next_channel"].as_u64().unwrap() as usize;
    assert!(l.iter().all(|&x| x < next));
    // The ground state is 1s, within the O(h²) error of the exact spherical well (2.0e-6 Ha at
    // h = 0.25 bohr, measured in radial::sphere_matches_the_exact_finite_well_for_l_0_to_10).
    let exact = confine::checks::radial_exact::RadialWellExact::new(
        confine::model::radial::Geometry::Sphere,
        200.0,
        20.0,
        0.1,
        1.0,
        1.0,
    )
    .unwrap()
    .level(0, 0);
    assert!(
        (energy[0] - exact).abs() < 2.1e-6,
        "{} vs {exact}",
        energy[0]
    );

    // --channel 3: the f levels alone.
    let o = confine(&[
        "spectrum",
        "configs/geometry/sphere_paper.toml",
        "--levels",
        "5",
        "--channel",
        "3",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let l: Vec<usize> = array(&v, "l");
    let n: Vec<usize> = array(&v, "n");
    assert_eq!(l, vec![3; 5]);
    assert_eq!(n, vec![0, 1, 2, 3, 4]);
    // The text table names the channels solved and the proof of completeness.
    let o = confine(&[
        "spectrum",
        "configs/geometry/gaas_nanowire.toml",
        "--levels",
        "12",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("channels solved") && text.contains("Sturm count 0"),
        "{text}"
    );
}

#[test]
fn validate_sphere_and_cylinder_configs_at_order_two() {
    for geometry in ["sphere", "cylinder"] {
        let config = write_file(
            &format!("radial_validate_{geometry}.toml"),
            &format!(
                "[system]\ngeometry = \"{geometry}\"\nbox_half_width = 60.0\n[potential]\n\
                 type = \"square_well\"\ndepth = 0.1\nhalf_width = 20.0\n[grid]\nspacing = 0.25\n\
                 [solve]\nlevels = 8\n"
            ),
        );
        let o = confine(&[
            "validate",
            config.to_str().unwrap(),
            "--refinements",
            "3",
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let checks = v.as_array().unwrap();
        assert_eq!(checks.len(), 8);
        for c in checks {
            let order = c["observed_order"].as_f64().unwrap();
            let errors: Vec<f64> = array(c, "errors_by_grid");
            if errors[0].abs() > 1e-7 {
                assert!((order - 2.0).abs() < 0.1, "{geometry}: {c}");
            }
            assert!(
                c["richardson_error"].as_f64().unwrap().abs() < 1e-8,
                "{geometry}: {c}"
            );
        }
    }
}

#[test]
fn bad_geometry_input_is_a_clear_error_and_writes_nothing() {
    let base = |system: &str, potential: &str| {
        format!("[system]\n{system}\n[potential]\n{potential}\n[grid]\nspacing = 0.5\n[solve]\nlevels = 4\n")
    };
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "unknown geometry",
            base("geometry = \"ball\"\nbox_half_width = 50.0", "type = \"square_well\"\ndepth = 0.1\nhalf_width = 10.0"),
            &["system.geometry", "\"sphere\"", "\"cylinder\"", "\"ball\""],
        ),
        (
            "pieces at negative r",
            base(
                "geometry = \"sphere\"\nbox_half_width = 50.0",
                "type = \"piecewise\"\n[[potential.pieces]]\nfrom = -10.0\nto = 10.0\nshape = \"constant\"\nvalue = -0.1",
            ),
            &["potential.pieces[0].from", "-10", "r"],
        ),
        (
            "R <= 0",
            base("geometry = \"cylinder\"\nbox_half_width = -5.0", "type = \"square_well\"\ndepth = 0.1\nhalf_width = 1.0"),
            &["system.box_half_width"],
        ),
        (
            "tabulated r < 0",
            base("geometry = \"sphere\"\nbox_half_width = 50.0", "type = \"tabulated\"\nfile = \"radial_table.csv\""),
            &["potential.file", "-2"],
        ),
        (
            "cap beyond the grid",
            base("geometry = \"sphere\"\nbox_half_width = 4.0", "type = \"square_well\"\ndepth = 0.1\nhalf_width = 1.0")
                .replace("levels = 4", "levels = 40"),
            &["cannot be reached", "points per half wavelength", "grid.spacing <="],
        ),
    ];
    write_file(
        "radial_table.csv",
        "x [bohr],V [Ha]\n-2.0,0.0\n5.0,-0.1\n10.0,0.0\n",
    );
    for (what, text, needles) in cases {
        let config = write_file(
            &format!(
                "radial_bad_{}.toml",
                what.replace(' ', "_").replace('<', "")
            ),
            &text,
        );
        let o = confine(&["spectrum", config.to_str().unwrap()]);
        assert_clean_failure(&o, needles);
        assert!(o.stdout.is_empty(), "{what}");
    }
    // `matrix` of a sphere needs --channel (more in matrix_of_a_channel_has_the_spectrum_…).
    let o = confine(&[
        "matrix",
        "configs/geometry/sphere_paper.toml",
        "--out",
        "/nonexistent/H.mtx",
    ]);
    assert_clean_failure(&o, &["system.geometry", "--channel L"]);
    assert!(o.stdout.is_empty());
    // --channel on a slab.
    let o = confine(&["spectrum", "configs/paper.toml", "--channel", "1"]);
    assert_clean_failure(&o, &["--channel", "sphere"]);
}

#[test]
fn every_preset_reads_as_a_function_of_r() {
    let presets = [
        "type = \"square_well\"\ndepth = 0.1\nhalf_width = 10.0",
        "type = \"double_well\"\ndepth = 0.1\nwell_width = 5.0\nbarrier_width = 4.0",
        "type = \"core_shell\"\ncore_depth = 0.2\ncore_half_width = 5.0\nshell_depth = 0.1\nshell_half_width = 12.0",
        "type = \"harmonic\"\nspring = 0.001\ndepth = 0.05",
        "type = \"smooth_well\"\ndepth = 0.1\nhalf_width = 10.0\nedge_width = 1.0",
    ];
    for body in presets {
        let text = format!(
            "[system]\ngeometry = \"sphere\"\nbox_half_width = 40.0\n[potential]\n{body}\n\
             [grid]\nspacing = 0.25\n[solve]\nlevels = 5\n"
        );
        let cfg = confine::pipeline::config::parse(&text, std::path::Path::new("p.toml")).unwrap();
        let slab = cfg.potential.potential(cfg.system.box_half_width).unwrap();
        let radial = cfg.radial_problem().unwrap().unwrap();
        let pieces = radial.potential.pieces();
        assert_eq!(pieces[0].from, 0.0, "{body}");
        assert!(pieces.iter().all(|p| p.from >= 0.0), "{body}");
        // V(r) is the slab profile at x = r ≥ 0.
        for r in [0.5, 3.0, 7.5, 11.0, 20.0, 39.0] {
            assert_eq!(
                radial.potential.value_right(r),
                slab.value_right(r),
                "{body} at r = {r}"
            );
        }
        let spectrum = radial
            .spectrum(confine::channels::Selection::Lowest(5), None)
            .unwrap();
        assert!(spectrum.levels[0].energy < 0.0, "{body}");
    }
}

/// `converge` of a sphere and a cylinder: text with the l and g columns, --json with `l` and
/// `degeneracy` per level (and the slab's JSON without them).
#[test]
fn converge_runs_on_spheres_and_cylinders_with_channel_and_degeneracy() {
    for (config, dimension) in [
        ("configs/geometry/sphere_paper.toml", 3),
        ("configs/geometry/gaas_nanowire.toml", 2),
    ] {
        let o = confine(&["converge", config, "--levels", "6"]);
        assert!(o.status.success(), "{config}: {}", stderr(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        let head = text.lines().nth(1).unwrap();
        assert!(head.trim_start().starts_with("l    g    n"), "{head}");
        let o = confine(&["converge", config, "--levels", "6", "--json"]);
        assert!(o.status.success(), "{config}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let levels = v["levels"].as_array().unwrap();
        assert_eq!(levels.len(), 6);
        for level in levels {
            let l = level["l"].as_u64().unwrap();
            let g = level["degeneracy"].as_u64().unwrap();
            let expected = if dimension == 3 {
                2 * l + 1
            } else {
                1 + u64::from(l > 0)
            };
            assert_eq!(g, expected, "{config}: {level}");
            assert_eq!(level["energy"]["values"].as_array().unwrap().len(), 4);
        }
    }
    // The slab's guards: too few grids, and nested grids beyond the memory limit.
    let sphere = "configs/geometry/sphere_paper.toml";
    let o = confine(&["converge", sphere, "--refinements", "2"]);
    assert_clean_failure(&o, &["refinements >= 3"]);
    let o = confine(&["converge", sphere, "--memory-limit", "1 KiB"]);
    assert_clean_failure(&o, &["--refinements", "--memory-limit 1 KiB"]);
    assert!(o.stdout.is_empty());
    let o = confine(&["converge", "configs/paper.toml", "--levels", "3", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["levels"][0].get("l").is_none());
}

/// The eigenvalues of a matrix file, by a dense symmetric eigen-solver (ascending, Hartree).
fn dense_eigenvalues(path: &std::path::Path) -> Vec<f64> {
    let m: sprs::CsMat<f64> = sprs::io::read_matrix_market::<f64, usize, _>(path)
        .unwrap()
        .to_csr();
    let dense = faer::Mat::<f64>::from_fn(m.rows(), m.cols(), |i, j| {
        m.get(i, j).copied().unwrap_or(0.0)
    });
    let mut e = confine::eigen::dense::symmetric_eigenvalues(dense.as_ref()).unwrap();
    e.sort_by(f64::total_cmp);
    e
}

/// `matrix --channel L` of a sphere and of a cylinder (with a mass interface): the written
/// matrix is symmetric tridiagonal, its dense eigenvalues are the `spectrum --channel L` levels,
/// the grid table lists the channel's unknown nodes, and the header says what an eigenvector
/// is (u = rR for the sphere, √r R for the cylinder).
#[test]
fn matrix_of_a_channel_has_the_spectrum_of_that_channel() {
    let dir = crate::common::scratch_dir("radial_matrix");
    let sphere = "[system]\ngeometry = \"sphere\"\nbox_half_width = 40.0\nmass = 1.0\n\
                  [potential]\ntype = \"square_well\"\ndepth = 0.1\nhalf_width = 10.0\n\
                  [grid]\nspacing = 0.25\n[solve]\nlevels = 5\n";
    let cylinder = "[system]\ngeometry = \"cylinder\"\nbox_half_width = 30.0\nmass = 0.5\n\
                    [potential]\ntype = \"piecewise\"\n[[potential.pieces]]\nfrom = 0.0\n\
                    to = 12.0\nshape = \"constant\"\nvalue = -0.2\nmass = 0.25\n\
                    [grid]\nspacing = 0.2\n[solve]\nlevels = 5\n";
    let cases = [
        ("sphere", sphere, 2, "u(r_j) = r R(r_j)", 0.25),
        ("cylinder", cylinder, 0, "sqrt(r) R(r)", 0.0),
        ("cylinder", cylinder, 3, "sqrt(r) R(r)", 0.2),
    ];
    for (name, text, channel, relation, first_r) in cases {
        let config = write_file(&format!("radial_matrix_{name}.toml"), text);
        let out = dir.join(format!("{name}_{channel}.mtx"));
        let l = channel.to_string();
        let args = [
            "matrix",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        let o = confine(&[&args[..], &["--channel", &l]].concat());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let header = std::fs::read_to_string(&out).unwrap();
        assert!(header
            .lines()
            .take(4)
            .any(|h| h.starts_with('%') && h.contains(relation)));
        let table =
            std::fs::read_to_string(dir.join(format!("{name}_{channel}.grid.csv"))).unwrap();
        let rows: Vec<&str> = table.lines().skip(1).collect();
        let r0: f64 = rows[0].split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(r0, first_r, "{name} channel {channel}: first row");

        // Bit for bit the matrix the library's channel solve uses.
        let cfg = confine::pipeline::config::load_study(&config)
            .unwrap()
            .cases[0]
            .config
            .clone();
        let radial = cfg.radial_problem().unwrap().unwrap();
        let h = radial
            .hamiltonian(&radial.grid().unwrap(), channel)
            .unwrap()
            .to_csmat();
        let back: sprs::CsMat<f64> = sprs::io::read_matrix_market::<f64, usize, _>(&out)
            .unwrap()
            .to_csr();
        let bits = |m: &sprs::CsMat<f64>| -> Vec<(usize, usize, u64)> {
            m.iter().map(|(v, (i, j))| (i, j, v.to_bits())).collect()
        };
        assert_eq!(bits(&back), bits(&h), "{name} channel {channel}");
        let eigen = dense_eigenvalues(&out);
        assert_eq!(eigen.len(), rows.len());
        let o = confine(&[
            "spectrum",
            config.to_str().unwrap(),
            "--channel",
            &l,
            "--levels",
            "5",
            "--json",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let levels: Vec<f64> = array(&v, "energy");
        assert_eq!(levels.len(), 5);
        assert!(array::<usize>(&v, "l").iter().all(|&c| c == channel));
        for (n, (e, d)) in levels.iter().zip(&eigen).enumerate() {
            assert!(
                (e - d).abs() < 1e-11 * d.abs().max(1e-3),
                "{name} channel {channel} level {n}: spectrum {e} vs matrix {d}"
            );
        }
    }
    // Without --channel, beyond the channels, --channel on the slab: clear errors, no file.
    let config = write_file("radial_matrix_sphere.toml", sphere);
    let out = dir.join("refused.mtx");
    let args = [
        "matrix",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let o = confine(&args);
    assert_clean_failure(&o, &["system.geometry", "--channel L"]);
    let o = confine(&[&args[..], &["--channel", "100000"]].concat());
    assert_clean_failure(&o, &["--channel 100000", "0 to 99999"]);
    let o = confine(&[&args[..], &["--two-electron", "singlet"]].concat());
    assert_clean_failure(&o, &["--two-electron", "--channel"]);
    let slab = [
        "matrix",
        "configs/paper.toml",
        "--out",
        out.to_str().unwrap(),
        "--channel",
        "1",
    ];
    assert_clean_failure(&confine(&slab), &["--channel", "sphere"]);
    assert!(!out.exists() && !dir.join("refused.grid.csv").exists());
}
