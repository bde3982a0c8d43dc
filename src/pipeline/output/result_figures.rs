//! Results to figures: which figures a study's results and a sweep's summary make, and the
//! data of each (series, labels, titles). The drawing is [`super::figures`]'; a new figure is
//! one more data builder here.

use super::figures::{
    write_figure, BranchesFigure, BranchesPanel, DensityFigure, EntropyFigure, Figure,
    FigureOutput, KineticFigure, LimitFigure, PlotError, Series, TemperatureFigure, XyFigure,
};
use super::{io, OutputError};
use crate::channels::RadialSpectrum;
use crate::model::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use crate::pipeline::config::sweep::SweepMode;
use crate::pipeline::radial_figures;
use crate::pipeline::study::coulomb::{CoulombResult, CoulombVariant};
use crate::pipeline::study::particles::{ParticleResult, ParticleRow};
use crate::pipeline::study::{
    nhc_of, CaseResult, CaseSpectrum, StudyResult, TemperatureDefinition,
};
use crate::pipeline::sweep::summary::{DropSummary, KeyInfo, SummaryRow, SweepSummary};
use rayon::prelude::*;
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

/// Draws `figure` into `stem` (PNG and/or SVG as `out` asks); a failure names the figure.
fn draw<'a>(
    stem: &Path,
    figure: impl Into<Figure<'a>>,
    out: &FigureOutput,
    name: &str,
) -> Result<Vec<PathBuf>, OutputError> {
    write_figure(stem, figure, out).map_err(figure_err(name))
}

/// One figure to draw (its files, relative to nothing yet): the unit of parallel work.
type FigureJob<'a> = Box<dyn FnOnce() -> Result<Vec<PathBuf>, OutputError> + Send + 'a>;

/// Draws the figures of a study into `staging` (the directory the study's files are staged
/// in); returns their paths relative to it.
pub(crate) fn study_figures(
    result: &StudyResult,
    staging: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let fig_dir = staging.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(io(&fig_dir))?;
    let fig_dir = fig_dir.as_path();
    let mut jobs: Vec<FigureJob<'_>> = vec![Box::new(move || {
        draw(
            &fig_dir.join("fig1_kinetic_vs_energy"),
            &kinetic_figure(result),
            out,
            "fig1",
        )
    })];
    for c in &result.cases {
        case_figures(c, fig_dir, out, &mut jobs);
    }
    // Every figure is a separate file: all of them are drawn concurrently, one task each
    // (rasterizing is the slow part, and a case can have many more figures than another),
    // and listed in the order of `jobs`.
    let drawn = jobs
        .into_par_iter()
        .with_max_len(1)
        .map(|job| job())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(drawn
        .into_iter()
        .flatten()
        .filter_map(|p| p.strip_prefix(staging).ok().map(Path::to_path_buf))
        .collect())
}

/// Adds the figures of one case (densities, temperatures, particles, Coulomb) in `fig_dir` to
/// `jobs`.
fn case_figures<'a>(
    c: &'a CaseResult,
    fig_dir: &'a Path,
    out: &'a FigureOutput,
    jobs: &mut Vec<FigureJob<'a>>,
) {
    let stem = move |prefix: &str| fig_dir.join(format!("{prefix}_{}", c.name));
    if let CaseSpectrum::Radial(r) = &c.spectrum {
        jobs.push(Box::new(move || radial_case_figures(c, r, &stem, out)));
    } else {
        jobs.push(Box::new(move || {
            draw(&stem("fig2_densities"), &density_figure(c), out, "fig2")
        }));
        jobs.push(Box::new(move || {
            draw(
                &stem("fig3_temperatures"),
                &temperature_figure(c),
                out,
                "fig3",
            )
        }));
    }
    if !c.particles.is_empty() {
        particle_figures(c, stem, out, jobs);
    }
    if let Some(cr) = &c.coulomb {
        coulomb_figures(&c.name, cr, fig_dir, out, jobs);
    }
}

/// The figures of a sphere or cylinder case: ⟨K⟩ versus E coloured by the channel, the radial
/// densities and the temperatures ([`crate::pipeline::radial_figures`]).
fn radial_case_figures(
    c: &CaseResult,
    spectrum: &RadialSpectrum,
    stem: &dyn Fn(&str) -> PathBuf,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = draw(
        &stem("fig1_channels"),
        &radial_figures::kinetic_figure(spectrum),
        out,
        "fig1",
    )?;
    if let Ok(Some(problem)) = c.config.radial_problem() {
        written.extend(draw(
            &stem("fig2_radial_densities"),
            &radial_figures::density_figure(spectrum, &problem.potential),
            out,
            "fig2",
        )?);
    }
    written.extend(draw(
        &stem("fig3_temperatures"),
        &radial_figures::temperature_figure(spectrum, &c.levels, &c.temperatures),
        out,
        "fig3",
    )?);
    Ok(written)
}

/// The requested levels of `c` inside its energy grid: what figures show (the paper's range).
fn shown_levels(c: &CaseResult) -> Vec<usize> {
    let n = c.truncation.requested_levels.min(c.levels.len());
    let (lo, hi) = energy_range(c);
    (0..n)
        .filter(|&i| c.levels[i].energy >= lo && c.levels[i].energy <= hi)
        .collect()
}

/// Fig. 1: ⟨K⟩_n versus E_n, one series per distinct single-particle problem of the study.
fn kinetic_figure(result: &StudyResult) -> KineticFigure {
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
    KineticFigure {
        series: distinct
            .iter()
            .map(|c| {
                let idx = shown_levels(c);
                Series {
                    label: c.name.clone(),
                    x: idx.iter().map(|&i| c.levels[i].energy).collect(),
                    y: idx.iter().map(|&i| c.levels[i].kinetic).collect(),
                }
            })
            .collect(),
    }
}

/// Fig. 2: the ground state, the highest bound and the lowest unbound state, with V(x).
fn density_figure(c: &CaseResult) -> DensityFigure {
    let Some(s) = c.spectrum.slab() else {
        return DensityFigure {
            x: Vec::new(),
            potential: Vec::new(),
            states: Vec::new(),
        };
    };
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
    DensityFigure {
        x,
        potential,
        states,
    }
}

/// Fig. 3: T^(K), T^(μ) per shown level and T^(C) on the energy grid, versus E.
fn temperature_figure(c: &CaseResult) -> TemperatureFigure {
    let levels: Vec<_> = shown_levels(c).into_iter().map(|i| &c.levels[i]).collect();
    TemperatureFigure {
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
    }
}

/// T_E^(K) and S/N versus E/N for N = 2, W off and each ε_r on common axes: two jobs.
fn coulomb_figures<'a>(
    name: &'a str,
    cr: &'a CoulombResult,
    fig_dir: &'a Path,
    out: &'a FigureOutput,
    jobs: &mut Vec<FigureJob<'a>>,
) {
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
    jobs.push(Box::new(move || {
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
        write_figure(
            &fig_dir.join(format!("coulomb_temperature_{name}")),
            &temperature,
            out,
        )
        .map_err(figure_err("coulomb"))
    }));
    jobs.push(Box::new(move || {
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
        write_figure(
            &fig_dir.join(format!("coulomb_entropy_{name}")),
            &entropy,
            out,
        )
        .map_err(figure_err("coulomb"))
    }));
}

/// Figs. 4 and 5 of a case with `[particles]`, and the thermodynamic-limit figure when it has
/// at least three particle numbers (files named by `stem`): one job each.
fn particle_figures<'a>(
    c: &'a CaseResult,
    stem: impl Fn(&str) -> PathBuf + Copy + Send + 'a,
    out: &'a FigureOutput,
    jobs: &mut Vec<FigureJob<'a>>,
) {
    jobs.push(Box::new(move || {
        draw(&stem("fig4_branches"), &branches_figure(c), out, "fig4")
    }));
    // Fig. 5 and the limit figure draw the same series: built once, each job owns its copy.
    let (microcanonical, canonical) = entropy_series(c);
    let fig5 = EntropyFigure {
        title: format!("{}: entropy per particle", c.name),
        microcanonical: microcanonical.clone(),
        canonical: canonical.clone(),
    };
    jobs.push(Box::new(move || {
        draw(&stem("fig5_entropy"), &fig5, out, "fig5")
    }));
    if c.particles.len() >= 3 {
        jobs.push(Box::new(move || {
            let limit = limit_figure(c, microcanonical, &canonical);
            draw(&stem("limit"), &limit, out, "limit")
        }));
    }
}

/// The grid quantity `f` of `p` versus E/N, labelled "N = …".
fn per_particle(p: &ParticleResult, f: &dyn Fn(&ParticleRow) -> Option<f64>) -> Series {
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
}

/// Fig. 4: per particle number, T^(K) of every state and T_E^(K) versus E/N.
fn branches_figure(c: &CaseResult) -> BranchesFigure {
    BranchesFigure {
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
                let mut window = per_particle(p, &|r| r.t_window);
                window.label = TemperatureDefinition::KineticWindow.label().into();
                BranchesPanel {
                    particles: p.particles,
                    states,
                    window,
                }
            })
            .collect(),
    }
}

/// S/N versus E/N per particle number: (microcanonical, canonical).
fn entropy_series(c: &CaseResult) -> (Vec<Series>, Vec<Series>) {
    let canonical = c
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
    let microcanonical = c
        .particles
        .iter()
        .map(|p| {
            per_particle(p, &|r| {
                r.entropy_per_particle
                    .is_finite()
                    .then_some(r.entropy_per_particle)
            })
        })
        .collect();
    (microcanonical, canonical)
}

/// The thermodynamic-limit figure: the largest T_E^(K) drop and the depth of the dent of S/N
/// versus N, next to S/N of every N and the canonical curve of the largest.
fn limit_figure(c: &CaseResult, microcanonical: Vec<Series>, canonical: &[Series]) -> LimitFigure {
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
    LimitFigure {
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
    }
}

/// The quantities of the sweep summary figures, from each definition's [`DropSummary`]: (file
/// stem, y label, value). A new summary figure of a drop quantity is one more entry.
type Metric = fn(&DropSummary) -> Option<f64>;
const SUMMARY_METRICS: [(&str, &str, Metric); 4] = [
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

/// One figure per summary metric against the first swept key, a line per definition (and per
/// combination of the other keys' values), and the bound states against that key; returns the
/// relative paths written under `root`.
pub(crate) fn summary_figures(
    root: &Path,
    summary: &SweepSummary,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let Some(plot) = SummaryPlot::new(summary) else {
        return Ok(Vec::new()); // no numeric x axis to plot against
    };
    let fig_dir = root.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(io(&fig_dir))?;
    let mut figures: Vec<(&str, XyFigure)> = SUMMARY_METRICS
        .iter()
        .map(|&(stem, y_label, metric)| (stem, plot.metric_figure(y_label, metric)))
        .collect();
    figures.push(("summary_bound_states", plot.bound_states_figure()));
    let mut written = Vec::new();
    for (stem, fig) in &figures {
        for p in draw(&fig_dir.join(stem), fig, out, "summary")? {
            written.push(p.strip_prefix(root).map(Path::to_path_buf).unwrap_or(p));
        }
    }
    Ok(written)
}

/// The successful rows of a sweep summary against the first swept key, in groups: the
/// `[[cases]]` entry and, in a product, the values of the other keys (zipped keys vary with x
/// and make no groups).
struct SummaryPlot<'a> {
    /// The first swept key: the x axis.
    key: &'a KeyInfo,
    /// The rows without an error.
    rows: Vec<&'a SummaryRow>,
    /// Whether the keys were combined as a product.
    product: bool,
    /// The group names, in order of first appearance ("" for the only group).
    groups: Vec<String>,
}

impl<'a> SummaryPlot<'a> {
    /// `None` when there is no swept key, no successful row, or a row without a numeric x.
    fn new(summary: &'a SweepSummary) -> Option<Self> {
        let key = summary.keys.first()?;
        let rows: Vec<&SummaryRow> = summary.rows.iter().filter(|r| r.error.is_none()).collect();
        if rows.is_empty() || rows.iter().any(|r| Self::x(r).is_none()) {
            return None;
        }
        let mut plot = Self {
            key,
            rows,
            product: summary.mode != Some(SweepMode::Zip),
            groups: Vec::new(),
        };
        for r in &plot.rows {
            let g = plot.group_of(r);
            if !plot.groups.contains(&g) {
                plot.groups.push(g);
            }
        }
        Some(plot)
    }

    /// The value of the first swept key of `r`.
    fn x(r: &SummaryRow) -> Option<f64> {
        r.swept.first().and_then(|v| v.number)
    }

    /// The group of `r`: its `[[cases]]` entry and the other keys' values in a product.
    fn group_of(&self, r: &SummaryRow) -> String {
        let others = r.swept.iter().skip(1).filter(|_| self.product).map(|v| {
            let short = v.key.rsplit('.').next().unwrap_or(&v.key);
            format!("{short} = {}", v.text)
        });
        r.base_case
            .iter()
            .cloned()
            .chain(others)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The (x, y) points of group `g`, y from `f` (rows where it is `None` are left out).
    fn series(&self, label: String, g: &str, f: impl Fn(&SummaryRow) -> Option<f64>) -> Series {
        let pts: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter(|r| self.group_of(r) == g)
            .filter_map(|r| Some((Self::x(r)?, f(r)?)))
            .collect();
        Series::new(
            label,
            pts.iter().map(|p| p.0).collect(),
            pts.iter().map(|p| p.1).collect(),
        )
    }

    /// An x–y figure of `series` against the swept key.
    fn figure(&self, title: String, y_label: &str, series: Vec<Series>) -> XyFigure {
        XyFigure {
            title,
            x_label: match &self.key.unit {
                Some(u) => format!("{} ({u})", self.key.key),
                None => format!("{} (atomic units)", self.key.key),
            },
            y_label: y_label.to_string(),
            series,
            log_x: self.key.log,
            log_y: false,
        }
    }

    /// `metric` of every temperature definition (with several groups only T^(K) and T_E^(K),
    /// the paper's pair, to keep the figure readable), a line per definition and group.
    fn metric_figure(&self, y_label: &str, metric: Metric) -> XyFigure {
        let definitions: &[TemperatureDefinition] = if self.groups.len() > 1 {
            &[
                TemperatureDefinition::Kinetic,
                TemperatureDefinition::KineticWindow,
            ]
        } else {
            &TemperatureDefinition::ALL
        };
        let mut series = Vec::new();
        for g in &self.groups {
            for &definition in definitions {
                let pretty = definition.label();
                let label = if g.is_empty() {
                    pretty.to_string()
                } else {
                    format!("{pretty}, {g}")
                };
                series.push(self.series(label, g, |r| {
                    let d = r.drops.iter().find(|d| d.definition == definition.tag())?;
                    metric(d)
                }));
            }
        }
        self.figure(format!("{y_label} vs {}", self.key.key), y_label, series)
    }

    /// The number of bound states (E < 0), a line per group.
    fn bound_states_figure(&self) -> XyFigure {
        let series = self
            .groups
            .iter()
            .map(|g| {
                let label = if g.is_empty() {
                    "bound states".to_string()
                } else {
                    g.clone()
                };
                self.series(label, g, |r| Some(r.bound_states? as f64))
            })
            .collect();
        self.figure(
            format!("bound states vs {}", self.key.key),
            "bound states (E < 0)",
            series,
        )
    }
}
