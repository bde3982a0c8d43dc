//! The plan of a study before anything is computed: per case the units of work its config sizes,
//! their memory estimates ([`crate::resources`]) checked against the memory limit, and a time
//! estimate from a reference case run on the machine ([`Calibration`]).
//!
//! A case's estimate is the sum of its units (the spectrum with the eigen-solver's buffers, the
//! copy of the orbitals for `[particles]`, the enumerations, the CI and the 2-D grid check of
//! `[coulomb]`, the canonical table, a configured energy grid, a tabulated table): an upper bound
//! of its peak, since the units never hold more than their own estimate and some of them are
//! freed before the next starts. Work sized only by the spectrum itself (the levels added for the
//! canonical tail or for the N-particle orbitals, the default energy grid, the N-particle energy
//! grids) is checked when its size is known, against the limit minus the whole plan.

use super::StudyError;
use crate::model::grid::{Grid, GridError};
use crate::model::problem::Problem;
use crate::physics::coulomb::grid2d::{self, GridOptions};
use crate::physics::coulomb::Exchange;
use crate::pipeline::config::{Case, Config, CountingMethod, Study};
use crate::resources::{self, Budget, Estimate, GridSize, MemoryLimit, ResourceError};
use crate::spectrum::SpectrumError;

/// Temperatures of the default canonical table (see [`super::run_case`]).
pub const DEFAULT_TEMPERATURE_POINTS: usize = 200;

/// The units of work of one case, sized before anything is allocated.
#[derive(Debug, Clone)]
pub struct CasePlan {
    /// Case name.
    pub name: String,
    /// Interior grid nodes.
    pub nodes: usize,
    /// Levels requested.
    pub levels: usize,
    /// How the grid's node count follows its spacing.
    pub grid: GridSize,
    /// The memory estimate of each unit of work.
    pub units: Vec<Estimate>,
    /// Bytes of the units that cases running at once share (the threads' matrix-product
    /// scratch): counted once for all of them.
    pub shared: u64,
    /// Points of the canonical table and the energy grid (the default grid's as expected from
    /// the empty box), for the time estimate.
    pub table_points: f64,
    /// The memory limit of the case.
    pub limit: MemoryLimit,
    /// The largest number of N-particle states to enumerate for each N of `[particles]` (the
    /// configured `particles.state_limit`, or a default lowered to what fits).
    pub state_limit: Option<usize>,
}

impl CasePlan {
    /// The case's memory estimate: the sum of its units (bytes).
    pub fn bytes(&self) -> u64 {
        self.units
            .iter()
            .fold(0u64, |sum, u| sum.saturating_add(u.bytes))
    }

    /// Refuses the case when its estimate exceeds the limit, naming the largest unit (checked
    /// against the limit minus the others).
    pub fn check(&self) -> Result<(), ResourceError> {
        let Some(largest) = self.units.iter().max_by_key(|u| u.bytes) else {
            return Ok(());
        };
        resources::check_held(largest, &self.limit, self.bytes() - largest.bytes)
    }

    /// The budget of work sized at run time: the limit minus this whole plan.
    pub fn budget(&self) -> Budget {
        Budget::new(self.limit.clone(), self.bytes())
    }

    /// nodes × levels, the measure of the spectrum's work that the time estimate scales with.
    pub fn work(&self) -> f64 {
        self.nodes as f64 * self.levels as f64
    }
}

/// The grid of `problem` sized without allocating it: its node count and how that follows the
/// spacing.
pub fn grid_size(problem: &Problem) -> Result<GridSize, GridError> {
    let l = problem.potential.box_half_width();
    let segments = Grid::aligned_segments(l, &problem.potential.breakpoints(), problem.spacing)?;
    let intervals: usize = segments.iter().map(|s| s.intervals).sum();
    Ok(GridSize {
        box_half_width: l,
        spacing: problem.spacing,
        segments: segments.len(),
        nodes: intervals.saturating_sub(1),
    })
}

/// The estimate of solving `problem` (its `levels` lowest levels, sized by `levels_key`: the
/// config's `solve.levels` or the CLI's `--levels`) in a process of its own, the threads'
/// matrix-product scratch included; refuses more levels than nodes before anything is built.
pub fn spectrum_estimate(
    problem: &Problem,
    levels_key: &str,
) -> Result<(Estimate, GridSize), SpectrumError> {
    let grid = grid_size(problem)?;
    if problem.levels > grid.nodes {
        return Err(SpectrumError::TooManyLevels {
            requested: problem.levels,
            nodes: grid.nodes,
        });
    }
    let pieces = problem.potential.pieces().len();
    let scratch = resources::scratch_estimate(rayon::current_num_threads()).bytes;
    Ok((
        resources::spectrum_estimate(grid.nodes, problem.levels, pieces, grid, levels_key)
            .plus_fixed(scratch),
        grid,
    ))
}

/// The estimate of a convergence study or validation on `refinements` nested grids of
/// `problem` (`minimum`: the fewest grids the study accepts).
pub fn refinements_estimate(
    problem: &Problem,
    refinements: usize,
    minimum: usize,
) -> Result<Estimate, SpectrumError> {
    let (_, grid) = spectrum_estimate(problem, "solve.levels")?;
    let scratch = resources::scratch_estimate(rayon::current_num_threads()).bytes;
    Ok(resources::refinements_estimate(
        refinements,
        minimum,
        problem.levels,
        problem.potential.pieces().len(),
        grid,
    )
    .plus_fixed(scratch))
}

/// Plans `case`: sizes every unit of work of its config. Fails on what would fail before any
/// work (a grid above the node limit, more levels than nodes), not on the memory limit (see
/// [`CasePlan::check`]).
pub fn plan_case(case: &Case) -> Result<CasePlan, StudyError> {
    let cfg = &case.config;
    let name = case.name.clone();
    // A sphere or cylinder is sized by its profile on [−R, R] (Config::sizing_problem).
    let problem = cfg.sizing_problem().map_err(|e| StudyError::Unsupported {
        case: name.clone(),
        message: e.to_string(),
    })?;
    let (_, grid) =
        spectrum_estimate(&problem, "solve.levels").map_err(|error| StudyError::Spectrum {
            case: name.clone(),
            error,
        })?;
    let nodes = grid.nodes;
    let pieces = problem.potential.pieces().len();
    let limit = cfg.memory_limit();
    let scratch = resources::scratch_estimate(rayon::current_num_threads());
    let shared = scratch.bytes;
    let mut units = vec![
        resources::spectrum_estimate(nodes, problem.levels, pieces, grid, "solve.levels"),
        scratch,
    ];
    let analysis = &cfg.analysis;
    let table_points = analysis
        .temperatures
        .map_or(DEFAULT_TEMPERATURE_POINTS, |t| t.points) as f64
        + analysis.energy_grid.map_or_else(
            || {
                default_energy_points(
                    problem.levels,
                    problem.mass,
                    cfg.system.box_half_width,
                    analysis.epsilon,
                )
            },
            |g| (g.to - g.from) / g.step + 1.0,
        );
    units.extend(config_units(cfg, nodes));
    if cfg.particles.is_some() {
        units.push(Estimate::new(
            "solve.levels",
            "the orbitals of [particles] (a copy of the spectrum)",
            resources::spectrum_result_bytes(nodes, problem.levels, pieces),
        ));
    }
    let state_limit = match &cfg.particles {
        Some(pc) if pc.method != CountingMethod::Binned => {
            let state_limit = if pc.state_limit_given {
                pc.state_limit
            } else {
                // The default is lowered to what fits in half of what is left divided among
                // the cases that may run at once (one per thread), so that levels added at run
                // time still fit and cases need not run one by one.
                let held = units.iter().fold(0u64, |s, u| s.saturating_add(u.bytes));
                let share = 2 * rayon::current_num_threads().max(1) as u64;
                let available = limit.bytes.saturating_sub(held) / share;
                pc.state_limit
                    .min(resources::state_limit_for(&pc.counts, available))
                    .max(1)
            };
            units.push(resources::enumeration_estimate(&pc.counts, state_limit));
            Some(state_limit)
        }
        _ => None,
    };
    Ok(CasePlan {
        name,
        nodes,
        levels: problem.levels,
        grid,
        units,
        shared,
        table_points,
        limit,
        state_limit,
    })
}

/// The units of `cfg` besides the spectrum and the enumerations: the tabulated table, the
/// canonical table, a configured energy grid, the CI and the 2-D grid check.
fn config_units(cfg: &Config, nodes: usize) -> Vec<Estimate> {
    let mut units = Vec::new();
    if let crate::pipeline::config::PotentialConfig::Tabulated { table, .. } = &cfg.potential {
        units.push(resources::table_estimate(table.len()));
    }
    let temperatures = cfg
        .analysis
        .temperatures
        .map_or(DEFAULT_TEMPERATURE_POINTS, |t| t.points);
    units.push(resources::temperatures_estimate(temperatures));
    if let Some(g) = cfg.analysis.energy_grid {
        units.push(resources::energy_grid_estimate(
            (g.to - g.from) / g.step + 1.0,
            "analysis.energy_grid.step",
            "the energy grid",
        ));
    }
    if let Some(cc) = &cfg.coulomb {
        units.push(resources::ci_estimate(
            nodes,
            cc.orbitals,
            cc.check_orbitals,
        ));
        if let Some(gc) = &cc.grid_check {
            units.push(grid_check_estimate(
                nodes,
                gc.levels,
                cfg.grid.spacing,
                cfg.system.box_half_width,
            ));
        }
    }
    units
}

/// The 2-D grid check of both exchange sectors on `nodes` nodes per axis, `levels` states each
/// ([`grid2d::estimate_memory`]).
fn grid_check_estimate(nodes: usize, levels: usize, spacing: f64, box_half_width: f64) -> Estimate {
    let options = GridOptions {
        levels,
        ..Default::default()
    };
    let bytes = [Exchange::Symmetric, Exchange::Antisymmetric]
        .iter()
        .map(|&x| grid2d::estimate_memory(nodes, x, &options).total_bytes)
        .fold(0u64, u64::saturating_add);
    Estimate::new(
        "coulomb.grid_check",
        format!("the 2-D grid check ({nodes} x {nodes} nodes, {levels} states per sector)"),
        bytes,
    )
    .with_fits(move |available| {
        // The memory grows like (L/h)^2.5 (the Cholesky factor dominates).
        let factor = (bytes as f64 / available.max(1) as f64).powf(0.4) * 1.1;
        if factor <= 1.0 {
            return Vec::new();
        }
        vec![
            format!(
                "grid.spacing >= {} bohr",
                resources::round_up_2(spacing * factor)
            ),
            format!(
                "system.box_half_width <= {} bohr",
                resources::round_down_2(box_half_width / factor)
            ),
        ]
    })
}

/// The memory limit the 2-D grid check may use: `coulomb.grid_check.memory_limit` (default
/// 4 GiB) capped at the run's limit (itself at most the physical memory).
pub fn grid_check_limit(configured_bytes: u64, run: &MemoryLimit) -> MemoryLimit {
    if configured_bytes <= run.bytes {
        MemoryLimit {
            bytes: configured_bytes,
            origin: format!(
                "coulomb.grid_check.memory_limit = {}",
                resources::human(configured_bytes)
            ),
            setting: "coulomb.grid_check.memory_limit",
        }
    } else {
        MemoryLimit {
            bytes: run.bytes,
            origin: format!(
                "coulomb.grid_check.memory_limit = {} capped at the run's limit, {}",
                resources::human(configured_bytes),
                run.origin
            ),
            setting: resources::RUN_LIMIT,
        }
    }
}

/// Plans and checks `case` before it runs: the plan when every unit fits, else the refusal.
pub fn checked_plan(case: &Case) -> Result<CasePlan, StudyError> {
    let plan = plan_case(case)?;
    plan.check().map_err(|error| StudyError::Memory {
        case: case.name.clone(),
        error,
    })?;
    if let Some(cc) = &case.config.coulomb {
        if let Some(gc) = &cc.grid_check {
            let unit = grid_check_estimate(
                plan.nodes,
                gc.levels,
                case.config.grid.spacing,
                case.config.system.box_half_width,
            );
            let limit = grid_check_limit(gc.memory_limit_bytes, &plan.limit);
            resources::check(&unit, &limit).map_err(|error| StudyError::Memory {
                case: case.name.clone(),
                error,
            })?;
        }
    }
    Ok(plan)
}

/// How long a reference case takes on this machine, to scale per case: its spectrum (which
/// grows like nodes × levels), its thermodynamics (levels × table points) and writing its
/// output (levels + table points, and the figures).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Interior nodes of the reference problem.
    pub nodes: usize,
    /// Levels solved.
    pub levels: usize,
    /// Wall time of its spectrum (s), the best of two.
    pub spectrum_seconds: f64,
    /// Table points (temperatures and energies) of the reference case.
    pub table_points: f64,
    /// Wall time of the rest of the reference case (s): the thermodynamics.
    pub thermo_seconds: f64,
    /// Wall time of writing its tables, metadata and the figures asked for (s).
    pub output_seconds: f64,
}

impl Calibration {
    /// Runs the reference case (the paper's square well, 1599 nodes, 200 levels, the default
    /// tables) twice and keeps the faster times; returns them with the reference result, whose
    /// output the caller times (`output_seconds` is 0 here: the study layer does not write;
    /// `confine::pipeline::sweep::runner::calibrate` does both).
    pub fn compute() -> (Self, Option<super::StudyResult>) {
        let text = "[system]\nbox_half_width = 200.0\n[potential]\ntype = \"square_well\"\n\
                    depth = 0.1\nhalf_width = 20.0\n[grid]\nspacing = 0.25\n[solve]\nlevels = 200\n";
        let mut best = Self {
            nodes: 1599,
            levels: 200,
            spectrum_seconds: f64::INFINITY,
            table_points: 1.0,
            thermo_seconds: f64::INFINITY,
            output_seconds: 0.0,
        };
        let Ok(study) =
            crate::pipeline::config::parse_study(text, std::path::Path::new("calibration.toml"))
        else {
            return (best, None);
        };
        let mut result = None;
        for _ in 0..2 {
            if let Ok(r) = super::run_case(&study.cases[0]) {
                best.spectrum_seconds = best.spectrum_seconds.min(r.spectrum_seconds);
                best.thermo_seconds = best.thermo_seconds.min(r.thermo_seconds);
                best.table_points = (r.canonical.len() + r.temperatures.len()) as f64;
                best.levels = r.levels.len();
                result = Some(r);
            }
        }
        let reference = result.map(|r| super::StudyResult {
            study: study.clone(),
            cases: vec![r],
            seconds: 0.0,
        });
        (best, reference)
    }

    /// Estimated wall time of a case (s): the reference spectrum scaled by nodes × levels, its
    /// thermodynamics by levels × table points, its output by levels + table points.
    pub fn seconds(&self, plan: &CasePlan) -> f64 {
        let (k, points) = (plan.levels as f64, plan.table_points);
        let spectrum =
            self.spectrum_seconds * plan.work() / (self.nodes as f64 * self.levels as f64);
        let thermo = self.thermo_seconds * k * points / (self.levels as f64 * self.table_points);
        let output = self.output_seconds * (k + points) / (self.levels as f64 + self.table_points);
        spectrum + thermo + output
    }

    /// How the estimate is made, for the plan's text.
    pub fn describe(&self) -> String {
        format!(
            "from a reference case run on this machine ({} nodes x {} levels, {:.0} table points: spectrum {:.1} ms, thermodynamics {:.1} ms, output {:.1} ms), scaled per case by nodes x levels, levels x table points and levels + table points; [particles], [coulomb] and levels added at run time are not included",
            self.nodes,
            self.levels,
            self.table_points,
            1e3 * self.spectrum_seconds,
            1e3 * self.thermo_seconds,
            1e3 * self.output_seconds
        )
    }
}

/// Points of the default energy grid expected for `levels` levels of mass `mass` in a box of
/// half-width `box_half_width` (steps of ε/4 from E₀ to the highest level, with the levels of
/// the empty box: E_top − E₀ ≈ π²(k² − 1)/(8 m L²)), for the time estimate.
fn default_energy_points(levels: usize, mass: f64, box_half_width: f64, epsilon: f64) -> f64 {
    let k = levels as f64;
    let width = std::f64::consts::PI.powi(2) * (k * k - 1.0)
        / (8.0 * mass * box_half_width * box_half_width);
    (width / (epsilon / 4.0)).min(1e12) + 1.0
}

/// Every case of a study, planned.
#[derive(Debug, Clone)]
pub struct StudyPlan {
    /// One entry per case: its plan, or why it cannot run (the case name and the message).
    pub cases: Vec<Result<CasePlan, (String, String)>>,
    /// Worker threads the cases share.
    pub threads: usize,
}

impl StudyPlan {
    /// Plans every case of `study` (nothing is computed).
    pub fn new(study: &Study) -> Self {
        let cases = study
            .cases
            .iter()
            .map(|c| plan_case(c).map_err(|e| (c.name.clone(), e.to_string())))
            .collect();
        Self {
            cases,
            threads: rayon::current_num_threads(),
        }
    }

    /// The plans that could be made.
    pub fn planned(&self) -> impl Iterator<Item = &CasePlan> {
        self.cases.iter().filter_map(|c| c.as_ref().ok())
    }

    /// The case with the largest memory estimate.
    pub fn largest(&self) -> Option<&CasePlan> {
        self.planned().max_by_key(|p| p.bytes())
    }

    /// How many cases may run at once so that the largest of them together fit in the limit
    /// (at least 1, at most the worker threads and the cases).
    pub fn concurrency(&self) -> usize {
        let mut bytes: Vec<u64> = self.planned().map(|p| p.bytes() - p.shared).collect();
        bytes.sort_unstable_by(|a, b| b.cmp(a));
        let limit = self.largest().map_or(u64::MAX, |p| p.limit.bytes);
        let mut sum = self.planned().map(|p| p.shared).max().unwrap_or(0);
        let mut fit = 0;
        for b in bytes.iter().take(self.threads.max(1)) {
            sum = sum.saturating_add(*b);
            if sum > limit {
                break;
            }
            fit += 1;
        }
        fit.max(1)
    }

    /// Estimated wall time of all cases (s): the sum over the cases, since the reference case
    /// already used every thread.
    pub fn seconds(&self, calibration: &Calibration) -> f64 {
        // (An empty f64 sum is -0.)
        self.planned().map(|p| calibration.seconds(p)).sum::<f64>() + 0.0
    }

    /// The plan as text: the cases (all when at most `detail` of them, else the largest), the
    /// limit, the memory and time estimates and how they were made.
    pub fn describe(&self, calibration: &Calibration, detail: usize) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        let total = self.cases.len();
        let failing: Vec<&(String, String)> =
            self.cases.iter().filter_map(|c| c.as_ref().err()).collect();
        let over: Vec<&CasePlan> = self.planned().filter(|p| p.check().is_err()).collect();
        let limit = self.largest().map(|p| p.limit.clone());
        let _ = writeln!(
            o,
            "plan: {total} case(s){}",
            limit.as_ref().map_or(String::new(), |l| format!(
                ", memory limit {} bytes, {l}",
                l.bytes
            ))
        );
        let line = |o: &mut String, p: &CasePlan| {
            let _ = writeln!(
                o,
                "case {}: {} nodes x {} levels, memory estimate {} bytes ({}), time estimate {:.3} s{}",
                p.name,
                p.nodes,
                p.levels,
                p.bytes(),
                resources::human(p.bytes()),
                calibration.seconds(p),
                if p.check().is_err() { ", OVER THE LIMIT" } else { "" }
            );
            for u in &p.units {
                let _ = writeln!(
                    o,
                    "  {}: {} bytes ({}) [{}]",
                    u.what,
                    u.bytes,
                    resources::human(u.bytes),
                    u.key
                );
            }
        };
        if total <= detail {
            for c in &self.cases {
                match c {
                    Ok(p) => line(&mut o, p),
                    Err((_, e)) => {
                        let _ = writeln!(o, "cannot run: {e}");
                    }
                }
            }
        }
        if let Some(p) = self.largest() {
            let _ = writeln!(
                o,
                "largest case: {} needs {} bytes ({})",
                p.name,
                p.bytes(),
                resources::human(p.bytes())
            );
            if total > detail {
                line(&mut o, p);
            }
        }
        let at_once = self.concurrency().min(total.max(1));
        let _ = writeln!(
            o,
            "time estimate: {:.3} s for all cases, {at_once} case(s) at a time on {} thread(s) (the reference case used them all), {}",
            self.seconds(calibration),
            self.threads,
            calibration.describe()
        );
        if !over.is_empty() {
            let _ = writeln!(
                o,
                "{} case(s) over the memory limit (first: {}): {}",
                over.len(),
                over[0].name,
                over[0]
                    .check()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            );
        }
        if !failing.is_empty() {
            let _ = writeln!(
                o,
                "{} case(s) cannot run; the first: {}",
                failing.len(),
                failing[0].1
            );
        }
        let _ = writeln!(
            o,
            "levels added at run time (the canonical tail, orbitals for [particles]) and the energy grids sized by the spectrum are checked when their size is known"
        );
        o
    }
}
