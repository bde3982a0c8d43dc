//! Results to figures: which figures a study's results and a sweep's summary make, and the
//! data of each (series, labels, titles). The drawing is [`super::figures`]'; a new figure is
//! one more data builder here.

use super::figures::{
    write_figure, BranchesFigure, BranchesPanel, DensityFigure, EntropyFigure, FigureOutput,
    KineticFigure, LimitFigure, PlotError, Series, TemperatureFigure, XyFigure,
};
use super::{io, OutputError};
use crate::model::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use crate::pipeline::study::coulomb::{CoulombResult, CoulombVariant};
use crate::pipeline::study::particles::{ParticleResult, ParticleRow};
use crate::pipeline::study::{nhc_of, CaseResult, StudyResult, TemperatureDefinition};
use crate::pipeline::sweep::summary::{DropSummary, SummaryRow, SweepSummary};
use crate::pipeline::sweep::SweepMode;
use std::path::{Path, PathBuf};

/// The error of figure `name`.
fn figure_err(name: &str) -> impl FnOnce(PlotError) -> OutputError + '_ {
    move |source| OutputError::Figure {
        name: name.to_string(),
        source,
    }
}

/// The energies a case's figures show (Hartree): its energy grid, which the config chooses to
/// frame the physics (the default grid spans the requested levels).
fn energy_range(c: &CaseResult) -> (f64, f64) {
    match (c.temperatures.first(), c.temperatures.last()) {
        (Some(a), Some(b)) => (a.energy, b.energy),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

/// Index of the highest level with E < 0 and of the lowest with E ≥ 0 (the top of the well is
/// E = 0 whenever V = 0 outside the pieces).
fn threshold_levels(case: &CaseResult) -> (Option<usize>, Option<usize>) {
    let below = case.levels.iter().rposition(|l| l.energy < 0.0);
    let above = case.levels.iter().position(|l| l.energy >= 0.0);
    (below, above)
}

/// Draws the figures of a study into `staging` (the directory the study's files are staged
/// in); returns their paths relative to it.
pub(crate) fn study_figures(
    result: &StudyResult,
    staging: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let fig_dir = staging.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(io(&fig_dir))?;
    let mut written = Vec::new();
    // Figures show the requested levels inside the case's energy grid (the paper's range).
    let shown = |c: &CaseResult| -> Vec<usize> {
        let n = c.truncation.requested_levels.min(c.levels.len());
        let (lo, hi) = energy_range(c);
        (0..n)
            .filter(|&i| c.levels[i].energy >= lo && c.levels[i].energy <= hi)
            .collect()
    };
    // Fig. 1: <K>_n versus E_n for every case (once per distinct single-particle problem).
    let mut distinct: Vec<&CaseResult> = Vec::new();
    for c in &result.cases {
        let same = |d: &&CaseResult| {
            d.config.system == c.config.system
                && d.config.potential == c.config.potential
                && d.config.grid == c.config.grid
                && d.config.solve == c.config.solve
        };
        if !distinct.iter().any(same) {
            distinct.push(c);
        }
    }
    let fig1 = KineticFigure {
        series: distinct
            .iter()
            .map(|c| {
                let idx = shown(c);
                Series {
                    label: c.name.clone(),
                    x: idx.iter().map(|&i| c.levels[i].energy).collect(),
                    y: idx.iter().map(|&i| c.levels[i].kinetic).collect(),
                }
            })
            .collect(),
    };
    written.extend(
        write_figure(&fig_dir.join("fig1_kinetic_vs_energy"), &fig1, out)
            .map_err(figure_err("fig1"))?,
    );
    for c in &result.cases {
        // Fig. 2: ground state, highest bound and lowest unbound state, with V(x).
        let s = &c.spectrum;
        let mut x = vec![s.grid.nodes()[0]];
        x.extend_from_slice(s.grid.interior());
        x.push(*s.grid.nodes().last().expect("nodes"));
        let potential = c.config.problem().map_or_else(
            |_| vec![0.0; x.len()],
            |p| x.iter().map(|&xi| p.potential.value_at_node(xi)).collect(),
        );
        let (below, above) = threshold_levels(c);
        let mut picks = vec![0];
        for p in [below, above].into_iter().flatten() {
            if !picks.contains(&p) {
                picks.push(p);
            }
        }
        let states = picks
            .iter()
            .map(|&n| {
                let mut density = vec![0.0];
                density.extend(s.amplitude(n).iter().map(|p| p * p));
                density.push(0.0);
                Series {
                    label: format!("n = {n}, E = {:.6} Ha", c.levels[n].energy),
                    x: x.clone(),
                    y: density,
                }
            })
            .collect();
        let fig2 = DensityFigure {
            x: x.clone(),
            potential,
            states,
        };
        written.extend(
            write_figure(
                &fig_dir.join(format!("fig2_densities_{}", c.name)),
                &fig2,
                out,
            )
            .map_err(figure_err("fig2"))?,
        );
        // Fig. 3: T^(K), T^(mu), T^(C) (and T_E^(K)) versus E.
        let levels: Vec<_> = shown(c).into_iter().map(|i| &c.levels[i]).collect();
        let fig3 = TemperatureFigure {
            curves: vec![
                Series {
                    label: TemperatureDefinition::Kinetic.label().into(),
                    x: levels.iter().map(|l| l.energy).collect(),
                    y: levels.iter().map(|l| l.t_kinetic).collect(),
                },
                Series {
                    label: TemperatureDefinition::Microcanonical.label().into(),
                    x: levels.iter().map(|l| l.energy).collect(),
                    y: levels
                        .iter()
                        .map(|l| l.t_micro.unwrap_or(f64::NAN))
                        .collect(),
                },
                Series {
                    label: TemperatureDefinition::Canonical.label().into(),
                    x: c.temperatures.iter().map(|r| r.energy).collect(),
                    y: c.temperatures
                        .iter()
                        .map(|r| r.t_canonical.unwrap_or(f64::NAN))
                        .collect(),
                },
            ],
            ev_per_hartree: HARTREE_IN_EV,
            kelvin_per_hartree: HARTREE_IN_KELVIN,
            title: c.name.clone(),
        };
        written.extend(
            write_figure(
                &fig_dir.join(format!("fig3_temperatures_{}", c.name)),
                &fig3,
                out,
            )
            .map_err(figure_err("fig3"))?,
        );
        if !c.particles.is_empty() {
            written.extend(particle_figures(c, &fig_dir, out)?);
        }
        if let Some(cr) = &c.coulomb {
            written.extend(coulomb_figures(&c.name, cr, &fig_dir, out)?);
        }
    }
    Ok(written
        .into_iter()
        .filter_map(|p| p.strip_prefix(staging).ok().map(Path::to_path_buf))
        .collect())
}

/// T_E^(K) and S/N versus E/N for N = 2, W off and each ε_r on common axes.
fn coulomb_figures(
    name: &str,
    cr: &CoulombResult,
    fig_dir: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let series = |v: &CoulombVariant, f: &dyn Fn(&ParticleRow) -> Option<f64>| -> Series {
        let (x, y) = v
            .result
            .grid
            .iter()
            .map(|r| (r.energy / 2.0, f(r).unwrap_or(f64::NAN)))
            .unzip();
        Series {
            label: v.label.replace("eps_r", "ε_r"),
            x,
            y,
        }
    };
    let temperature = XyFigure {
        title: format!("{name}: two electrons, T_E^(K) with and without Coulomb"),
        x_label: "E/N (Ha)".into(),
        y_label: format!("{} (Ha)", TemperatureDefinition::KineticWindow.label()),
        series: cr
            .variants
            .iter()
            .map(|v| series(v, &|r| r.t_window))
            .collect(),
        log_x: false,
        log_y: false,
    };
    let mut written = write_figure(
        &fig_dir.join(format!("coulomb_temperature_{name}")),
        &temperature,
        out,
    )
    .map_err(figure_err("coulomb"))?;
    let entropy = EntropyFigure {
        title: format!("{name}: two electrons, S/N with and without Coulomb"),
        microcanonical: cr
            .variants
            .iter()
            .map(|v| {
                series(v, &|r| {
                    r.entropy_per_particle
                        .is_finite()
                        .then_some(r.entropy_per_particle)
                })
            })
            .collect(),
        canonical: Vec::new(),
    };
    written.extend(
        write_figure(
            &fig_dir.join(format!("coulomb_entropy_{name}")),
            &entropy,
            out,
        )
        .map_err(figure_err("coulomb"))?,
    );
    Ok(written)
}

/// Figs. 4 and 5 of a case with `[particles]`, and the thermodynamic-limit figure when it has
/// at least three particle numbers.
fn particle_figures(
    c: &CaseResult,
    fig_dir: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let per_n = |p: &ParticleResult, f: &dyn Fn(&ParticleRow) -> Option<f64>| -> Series {
        let n = p.particles as f64;
        let (x, y) = p
            .grid
            .iter()
            .map(|r| (r.energy / n, f(r).unwrap_or(f64::NAN)))
            .unzip();
        Series {
            label: format!("N = {}", p.particles),
            x,
            y,
        }
    };
    let mut written = Vec::new();
    let fig4 = BranchesFigure {
        title: format!("{}: T^(K) of every state and T_E^(K)", c.name),
        panels: c
            .particles
            .iter()
            .map(|p| {
                let n = p.particles as f64;
                let states = match &p.per_state {
                    Some(t) => Series {
                        label: TemperatureDefinition::Kinetic.label().into(),
                        x: t.energy.iter().map(|e| e / n).collect(),
                        y: t.t_kinetic.clone(),
                    },
                    None => Series::default(),
                };
                let mut window = per_n(p, &|r| r.t_window);
                window.label = TemperatureDefinition::KineticWindow.label().into();
                BranchesPanel {
                    particles: p.particles,
                    states,
                    window,
                }
            })
            .collect(),
    };
    written.extend(
        write_figure(
            &fig_dir.join(format!("fig4_branches_{}", c.name)),
            &fig4,
            out,
        )
        .map_err(figure_err("fig4"))?,
    );
    let canonical: Vec<Series> = c
        .particles
        .iter()
        .map(|p| {
            let n = p.particles as f64;
            Series {
                label: format!("N = {} canonical", p.particles),
                x: p.canonical.iter().map(|q| q.energy / n).collect(),
                y: p.canonical.iter().map(|q| q.entropy / n).collect(),
            }
        })
        .collect();
    let microcanonical: Vec<Series> = c
        .particles
        .iter()
        .map(|p| {
            per_n(p, &|r| {
                r.entropy_per_particle
                    .is_finite()
                    .then_some(r.entropy_per_particle)
            })
        })
        .collect();
    let fig5 = EntropyFigure {
        title: format!("{}: entropy per particle", c.name),
        microcanonical: microcanonical.clone(),
        canonical: canonical.clone(),
    };
    written.extend(
        write_figure(
            &fig_dir.join(format!("fig5_entropy_{}", c.name)),
            &fig5,
            out,
        )
        .map_err(figure_err("fig5"))?,
    );
    if c.particles.len() >= 3 {
        let (ns, drops): (Vec<f64>, Vec<f64>) = c
            .particles
            .iter()
            .filter_map(|p| {
                let ke = nhc_of(&p.nhc, TemperatureDefinition::KineticWindow)?;
                let d = crate::physics::thermo::nhc::largest_drop(&ke.intervals)?;
                Some((p.particles as f64, d.relative_drop))
            })
            .unzip();
        let (ns2, dents): (Vec<f64>, Vec<f64>) = c
            .particles
            .iter()
            .map(|p| (p.particles as f64, p.intruder.depth))
            .unzip();
        let largest = c.particles.last().expect("particles");
        let fig = LimitFigure {
            title: format!("{}: towards the thermodynamic limit", c.name),
            drops: vec![
                Series {
                    label: "largest relative drop of T_E^(K)".into(),
                    x: ns,
                    y: drops,
                },
                Series {
                    label: "depth of the dent of S/N (k_B)".into(),
                    x: ns2,
                    y: dents,
                },
            ],
            entropies: microcanonical,
            canonical: canonical.last().map(|s| Series {
                label: format!("canonical, N = {}", largest.particles),
                ..s.clone()
            }),
        };
        written.extend(
            write_figure(&fig_dir.join(format!("limit_{}", c.name)), &fig, out)
                .map_err(figure_err("limit"))?,
        );
    }
    Ok(written)
}

/// One figure per summary metric against the first swept key, a line per definition (and per
/// combination of the other keys' values); returns the relative paths written under `root`.
pub(crate) fn summary_figures(
    root: &Path,
    summary: &SweepSummary,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let Some(first) = summary.keys.first() else {
        return Ok(Vec::new());
    };
    let ok: Vec<&SummaryRow> = summary.rows.iter().filter(|r| r.error.is_none()).collect();
    let x_of = |r: &SummaryRow| r.swept.first().and_then(|v| v.number);
    if ok.is_empty() || ok.iter().any(|r| x_of(r).is_none()) {
        return Ok(Vec::new()); // no numeric x axis to plot against
    }
    // Groups: the `[[cases]]` entry and, in a product, the values of the other keys (zipped
    // keys vary with x and make no groups).
    let product = summary.mode != Some(SweepMode::Zip);
    let group_of = |r: &SummaryRow| -> String {
        let others = r.swept.iter().skip(1).filter(|_| product).map(|v| {
            let short = v.key.rsplit('.').next().unwrap_or(&v.key);
            format!("{short} = {}", v.text)
        });
        r.base_case
            .iter()
            .cloned()
            .chain(others)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut groups: Vec<String> = Vec::new();
    for r in &ok {
        let g = group_of(r);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let x_label = match &first.unit {
        Some(u) => format!("{} ({u})", first.key),
        None => format!("{} (atomic units)", first.key),
    };
    let fig_dir = root.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(io(&fig_dir))?;
    type Metric = fn(&DropSummary) -> Option<f64>;
    let metrics: [(&str, &str, Metric); 4] = [
        ("summary_nhc_intervals", "number of NHC intervals", |d| {
            Some(d.intervals as f64)
        }),
        (
            "summary_largest_drop",
            "largest temperature drop (Ha)",
            |d| d.largest_drop,
        ),
        (
            "summary_relative_drop",
            "largest relative temperature drop",
            |d| d.relative_drop,
        ),
        (
            "summary_drop_energy",
            "energy where the largest drop starts (Ha)",
            |d| d.drop_energy,
        ),
    ];
    // With several groups only T^(K) and T_E^(K), the paper's pair, keep the figures readable.
    let definitions: &[TemperatureDefinition] = if groups.len() > 1 {
        &[
            TemperatureDefinition::Kinetic,
            TemperatureDefinition::KineticWindow,
        ]
    } else {
        &TemperatureDefinition::ALL
    };
    let mut written = Vec::new();
    for (stem, y_label, metric) in metrics {
        let mut series = Vec::new();
        for g in &groups {
            for &definition in definitions {
                let pretty = definition.label();
                let pts: Vec<(f64, f64)> = ok
                    .iter()
                    .filter(|r| group_of(r) == *g)
                    .filter_map(|r| {
                        let d = r.drops.iter().find(|d| d.definition == definition.tag())?;
                        Some((x_of(r)?, metric(d)?))
                    })
                    .collect();
                let label = if g.is_empty() {
                    pretty.to_string()
                } else {
                    format!("{pretty}, {g}")
                };
                series.push(Series::new(
                    label,
                    pts.iter().map(|p| p.0).collect(),
                    pts.iter().map(|p| p.1).collect(),
                ));
            }
        }
        let fig = XyFigure {
            title: format!("{y_label} vs {}", first.key),
            x_label: x_label.clone(),
            y_label: y_label.to_string(),
            series,
            log_x: first.log,
            log_y: false,
        };
        for p in write_figure(&fig_dir.join(stem), &fig, out).map_err(figure_err("summary"))? {
            written.push(p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p));
        }
    }
    let bound: Vec<Series> = groups
        .iter()
        .map(|g| {
            let pts: Vec<(f64, f64)> = ok
                .iter()
                .filter(|r| group_of(r) == *g)
                .filter_map(|r| Some((x_of(r)?, r.bound_states? as f64)))
                .collect();
            Series::new(
                if g.is_empty() {
                    "bound states".to_string()
                } else {
                    g.clone()
                },
                pts.iter().map(|p| p.0).collect(),
                pts.iter().map(|p| p.1).collect(),
            )
        })
        .collect();
    let fig = XyFigure {
        title: format!("bound states vs {}", first.key),
        x_label,
        y_label: "bound states (E < 0)".into(),
        series: bound,
        log_x: first.log,
        log_y: false,
    };
    for p in write_figure(&fig_dir.join("summary_bound_states"), &fig, out)
        .map_err(figure_err("summary"))?
    {
        written.push(p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p));
    }
    Ok(written)
}
