//! What each subcommand does: load the config, check the memory plan, call the library, and
//! return the text (or JSON) to print. The tables themselves are `confine::pipeline::report`.

use crate::progress::SweepProgress;
use crate::Target;
use anyhow::{bail, Context, Result};
use confine::channels::{RadialProblem, Selection};
use confine::checks::validate::{self, SquareWellCase};
use confine::checks::validate_radial::validate_radial;
use confine::diagnostic::{group, Diagnostic, Severity};
use confine::pipeline::config;
use confine::pipeline::radial_report::{
    RadialSpectrumReport, RadialSpectrumTable, RadialValidationTable,
};
use confine::pipeline::report::{
    ConvergenceTable, SpectrumReport, SpectrumTable, StudyTable, ValidationTable,
};
use confine::pipeline::study::plan;
use std::fmt::Write as _;
use std::path::PathBuf;

/// How much the command prints on stderr besides errors (`--quiet`, default, `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    /// Errors only.
    Quiet,
    /// Plans, progress and the warnings, grouped.
    Normal,
    /// Also every note, every case of a sweep and the stage timings.
    Verbose,
}

/// Prints `all` on stderr after the work is done: with `-v` every note, then the warnings once
/// per kind with the cases they concern; nothing with `--quiet`.
pub(crate) fn print_diagnostics(all: &[Diagnostic], verbosity: Verbosity) {
    if verbosity == Verbosity::Quiet {
        return;
    }
    if verbosity == Verbosity::Verbose {
        for d in all.iter().filter(|d| d.severity == Severity::Note) {
            eprintln!("{d}");
        }
    }
    for g in group(all, Severity::Warning) {
        eprintln!("{g}");
    }
}

/// Sweeps of at least this many cases get a time estimate before they start.
const CALIBRATED_SWEEP_CASES: usize = 20;

/// Reads `--memory-limit` and sets it on every case of `study`.
fn apply_memory_limit(study: &mut config::Study, limit: Option<&str>) -> Result<()> {
    if let Some(text) = limit {
        let bytes = confine::resources::parse_memory(text).with_context(|| {
            format!(
                "--memory-limit {text} is not a memory size: write e.g. \"4 GiB\", \"500 MB\" (units B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            )
        })?;
        study.set_memory_limit(bytes, &format!("--memory-limit {text}"));
    }
    Ok(())
}

impl Target {
    /// The selected case's config (with `--memory-limit` applied).
    pub(crate) fn load(&self) -> Result<config::Config> {
        let mut study = config::load_study(&self.config)?;
        apply_memory_limit(&mut study, self.memory_limit.as_deref())?;
        Ok(study.case(self.case.as_deref())?.config.clone())
    }

    /// The key that sets the number of levels: `--levels` or `solve.levels`.
    fn levels_key(&self) -> &'static str {
        if self.levels.is_some() {
            "--levels"
        } else {
            "solve.levels"
        }
    }

    /// Refuses `estimate` when it exceeds the memory limit of `cfg`.
    fn check_memory(
        &self,
        cfg: &config::Config,
        estimate: &confine::resources::Estimate,
    ) -> Result<()> {
        confine::resources::check(estimate, &cfg.memory_limit())
            .with_context(|| format!("{}", self.config.display()))?;
        Ok(())
    }

    /// The problem of `cfg` with `--levels` applied.
    fn problem(&self, cfg: &config::Config) -> Result<confine::model::problem::Problem> {
        let mut problem = cfg.problem()?;
        if let Some(k) = self.levels {
            if k == 0 {
                bail!("--levels must be at least 1");
            }
            problem.levels = k;
        }
        Ok(problem)
    }
}

/// `confine spectrum`.
pub(crate) fn run_spectrum(
    target: &Target,
    channel: Option<usize>,
    verbosity: Verbosity,
) -> Result<String> {
    let (path, json) = (target.config.as_path(), target.json);
    let cfg = target.load()?;
    if let Some(radial) = cfg.radial_problem()? {
        return run_radial_spectrum(target, &cfg, &radial, channel);
    }
    if channel.is_some() {
        bail!(
            "{}: --channel needs system.geometry = \"sphere\" or \"cylinder\" (the slab has no angular channels)",
            path.display()
        );
    }
    let problem = target.problem(&cfg)?;
    let (estimate, _) = plan::spectrum_estimate(&problem, target.levels_key())
        .with_context(|| format!("{}: computing the spectrum", path.display()))?;
    target.check_memory(&cfg, &estimate)?;
    let start = std::time::Instant::now();
    let s = problem
        .spectrum()
        .with_context(|| format!("{}: computing the spectrum", path.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    print_diagnostics(&s.warnings, verbosity);
    if json {
        return Ok(SpectrumReport::new(path, &s, seconds).to_json()?);
    }
    let pieces = problem.potential.pieces().len();
    Ok(SpectrumTable {
        spectrum: &s,
        pieces,
        seconds,
    }
    .to_string())
}

/// `confine spectrum` of a sphere or cylinder: the `--levels` (or solve.levels) lowest levels
/// over all channels, or of `--channel` alone.
fn run_radial_spectrum(
    target: &Target,
    cfg: &config::Config,
    problem: &RadialProblem,
    channel: Option<usize>,
) -> Result<String> {
    let path = target.config.as_path();
    let levels = target.levels.unwrap_or(cfg.solve.levels);
    if levels == 0 {
        bail!("--levels must be at least 1");
    }
    let start = std::time::Instant::now();
    let s = problem
        .spectrum(Selection::Lowest(levels), channel)
        .with_context(|| {
            format!(
                "{}: computing the {} spectrum",
                path.display(),
                problem.geometry.name()
            )
        })?;
    let seconds = start.elapsed().as_secs_f64();
    if target.json {
        return Ok(RadialSpectrumReport::new(path, &s, seconds).to_json()?);
    }
    Ok(RadialSpectrumTable {
        spectrum: &s,
        seconds,
    }
    .to_string())
}

/// `confine validate` of a sphere or cylinder: every channel of the lowest levels against the
/// exact finite well.
fn run_radial_validate(
    target: &Target,
    cfg: &config::Config,
    problem: &RadialProblem,
    refinements: usize,
) -> Result<String> {
    let path = target.config.as_path();
    let levels = target.levels.unwrap_or(cfg.solve.levels).max(1);
    let context = || format!("{}: validation", path.display());
    let base = problem
        .spectrum(Selection::Lowest(levels), None)
        .with_context(context)?;
    let channels = base.channel_counts();
    let checks = validate_radial(problem, &channels, refinements).with_context(context)?;
    if target.json {
        return Ok(serde_json::to_string_pretty(&checks)? + "\n");
    }
    Ok(RadialValidationTable { checks: &checks }.to_string())
}

/// `confine validate`.
pub(crate) fn run_validate(
    target: &Target,
    refinements: usize,
    verbosity: Verbosity,
) -> Result<String> {
    let (path, json) = (target.config.as_path(), target.json);
    let cfg = target.load()?;
    if let Some(radial) = cfg.radial_problem()? {
        return run_radial_validate(target, &cfg, &radial, refinements);
    }
    let problem = target.problem(&cfg)?;
    let case =
        SquareWellCase::from_problem(&problem).with_context(|| path.display().to_string())?;
    let estimate = plan::refinements_estimate(&problem, refinements, 2)
        .with_context(|| format!("{}: validation", path.display()))?;
    target.check_memory(&cfg, &estimate)?;
    let v = validate::validate_square_well(&case, refinements, &problem.options)
        .with_context(|| format!("{}: validation", path.display()))?;
    let on_grids: Vec<Diagnostic> = v
        .grids
        .iter()
        .enumerate()
        .flat_map(|(i, g)| {
            g.warnings.iter().map(move |w| Diagnostic {
                message: format!("grid {i}: {}", w.message),
                ..w.clone()
            })
        })
        .collect();
    print_diagnostics(&on_grids, verbosity);
    if json {
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    Ok(ValidationTable {
        case: &case,
        validation: &v,
    }
    .to_string())
}

fn figure_output(no_figures: bool) -> confine::pipeline::output::figures::FigureOutput {
    confine::pipeline::output::figures::FigureOutput {
        png: !no_figures,
        svg: !no_figures,
    }
}

fn run_sweep(
    study: &config::Study,
    dir: &std::path::Path,
    no_figures: bool,
    shard: Option<confine::pipeline::config::sweep::Shard>,
    case_figures: bool,
    verbosity: Verbosity,
) -> Result<String> {
    let options = confine::pipeline::sweep::runner::SweepOptions {
        shard,
        figures: figure_output(no_figures),
        case_figures,
    };
    let progress = SweepProgress::new(verbosity);
    // Say how big the sweep is before it starts, and run fewer cases at once when the largest
    // ones would not fit in memory together.
    let plan = plan::StudyPlan::new(study);
    let at_once = plan.concurrency();
    if let Some(p) = plan.largest() {
        // The time estimate runs a reference case first (~0.1 s): worth it for large sweeps only.
        let time = if study.cases.len() >= CALIBRATED_SWEEP_CASES {
            let calibration = confine::pipeline::sweep::runner::calibrate(&figure_output(
                no_figures || !case_figures,
            ));
            format!(
                "about {:.1} s with {at_once} case(s) at a time ({})",
                plan.seconds(&calibration),
                calibration.describe()
            )
        } else {
            format!("{at_once} case(s) at a time")
        };
        if verbosity > Verbosity::Quiet {
            eprintln!(
                "sweep plan: {} case(s); largest {} needs {} of memory (limit {}); {time}; `run --dry-run` prints the plan",
                study.cases.len(),
                p.name,
                confine::resources::human(p.bytes()),
                p.limit,
            );
        }
    }
    let threads = rayon::current_num_threads();
    let report = if at_once < threads {
        if verbosity > Verbosity::Quiet {
            eprintln!(
            "sweep plan: {at_once} case(s) at a time instead of {threads}, so that they fit in the memory limit together"
            );
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(at_once)
            .build()?
            .install(|| confine::pipeline::sweep::runner::run_sweep(study, dir, &options, &progress))
    } else {
        confine::pipeline::sweep::runner::run_sweep(study, dir, &options, &progress)
    }
    .with_context(|| format!("writing the sweep to {}", dir.display()))?;
    progress.finish();
    print_diagnostics(&report.diagnostics, verbosity);
    let mut o = String::new();
    writeln!(
        o,
        "sweep of {}: {} case(s){} -> {}: {} computed, {} reused, {} failed in {:.2} s",
        study.path.display(),
        report.summary.rows.len(),
        shard.map_or(String::new(), |s| format!(
            " (shard {}/{})",
            s.index, s.count
        )),
        dir.join("summary.csv").display(),
        report.computed,
        report.reused,
        report.failed,
        report.seconds
    )?;
    if report.failed > 0 {
        for r in report.summary.rows.iter().filter(|r| r.error.is_some()) {
            eprintln!(
                "error: case {}: {}",
                r.name,
                r.error.as_deref().unwrap_or("")
            );
        }
        bail!(
            "{} of {} case(s) failed (recorded in {}); the others are complete. Fix the cause and re-run the same command: finished cases are not recomputed",
            report.failed,
            report.summary.rows.len(),
            dir.join("summary.csv").display()
        );
    }
    Ok(o)
}

/// `confine merge`.
pub(crate) fn run_merge(
    dirs: &[PathBuf],
    out: &std::path::Path,
    no_figures: bool,
) -> Result<String> {
    let summary = confine::pipeline::sweep::runner::merge(dirs, out, &figure_output(no_figures))?;
    let failed = summary.rows.iter().filter(|r| r.error.is_some()).count();
    Ok(format!(
        "merged {} shard(s): {} case(s), {failed} failed -> {}\n",
        dirs.len(),
        summary.rows.len(),
        out.join("summary.csv").display()
    ))
}

/// `confine study`.
pub(crate) fn run_study(
    path: &std::path::Path,
    out: Option<PathBuf>,
    no_figures: bool,
    shard: Option<&str>,
    case_figures: bool,
    (memory_limit, dry_run, timings): (Option<&str>, bool, bool),
    verbosity: Verbosity,
) -> Result<String> {
    let start = std::time::Instant::now();
    let mut study = config::load_study(path)?;
    apply_memory_limit(&mut study, memory_limit)?;
    if dry_run {
        let plan = plan::StudyPlan::new(&study);
        let figures = figure_output(no_figures || (study.sweep.is_some() && !case_figures));
        return Ok(
            plan.describe(&confine::pipeline::sweep::runner::calibrate(&figures), 20)
                + "dry run: nothing computed\n",
        );
    }
    let dir = out.unwrap_or_else(|| PathBuf::from("out").join(&study.name));
    if study.sweep.is_none() && (shard.is_some() || case_figures) {
        bail!(
            "{}: --shard and --case-figures apply to sweeps, and this config has no [sweep] table",
            path.display()
        );
    }
    let shard = shard
        .map(confine::pipeline::config::sweep::Shard::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    // Held until the results are written: a second run into DIR is refused before computing.
    let _lock = confine::pipeline::output::commit::lock_output(&dir)
        .with_context(|| format!("output directory {} cannot be written", dir.display()))?;
    if study.sweep.is_some() {
        if timings {
            bail!("{}: --timings applies to a study without [sweep]; a sweep's case times are in its summary", path.display());
        }
        return run_sweep(&study, &dir, no_figures, shard, case_figures, verbosity);
    }
    let result = confine::pipeline::study::run_study(&study)
        .with_context(|| format!("{}: running the study", path.display()))?;
    let figures = figure_output(no_figures);
    let written = confine::pipeline::output::write::write_study(&result, &dir, &figures)
        .with_context(|| format!("writing the results to {}", dir.display()))?;
    let mut o = String::new();
    let diagnostics: Vec<Diagnostic> = result
        .cases
        .iter()
        .flat_map(|c| c.diagnostics.iter().cloned())
        .collect();
    writeln!(
        o,
        "{} case(s) of {} -> {} ({} files) in {:.2} s",
        result.cases.len(),
        path.display(),
        dir.display(),
        written.len(),
        start.elapsed().as_secs_f64()
    )?;
    if timings || verbosity == Verbosity::Verbose {
        let meta = dir.join("metadata.json");
        let text = std::fs::read_to_string(&meta)
            .with_context(|| format!("reading {} for the stage timings", meta.display()))?;
        let meta: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("reading {} for the stage timings", meta.display()))?;
        let report = confine::pipeline::study::timing::timings_report(&meta);
        if timings {
            writeln!(o, "\n{report}")?;
        } else {
            eprint!("stage timings (s):\n{report}");
        }
    }
    print_diagnostics(&diagnostics, verbosity);
    write!(
        o,
        "{}",
        StudyTable {
            cases: &result.cases
        }
    )?;
    Ok(o)
}

/// `confine converge`.
pub(crate) fn run_converge(
    target: &Target,
    refinements: usize,
    verbosity: Verbosity,
) -> Result<String> {
    let (path, json) = (target.config.as_path(), target.json);
    let cfg = target.load()?;
    let context = || format!("{}: convergence study", path.display());
    let c = if let Some(radial) = cfg.radial_problem()? {
        let levels = target.levels.unwrap_or(cfg.solve.levels);
        if levels == 0 {
            bail!("--levels must be at least 1");
        }
        // One channel at a time, sized by the profile on [−R, R] (an upper bound).
        let mut sizing = cfg.sizing_problem()?;
        sizing.levels = levels;
        let estimate = plan::refinements_estimate(&sizing, refinements, 3).with_context(context)?;
        target.check_memory(&cfg, &estimate)?;
        confine::checks::converge::radial_convergence(&radial, levels, refinements)
            .with_context(context)?
    } else {
        let problem = target.problem(&cfg)?;
        let estimate =
            plan::refinements_estimate(&problem, refinements, 3).with_context(context)?;
        target.check_memory(&cfg, &estimate)?;
        confine::checks::converge::self_convergence(&problem, refinements).with_context(context)?
    };
    print_diagnostics(&c.warnings, verbosity);
    if json {
        return Ok(serde_json::to_string_pretty(&c)? + "\n");
    }
    Ok(ConvergenceTable {
        config: path,
        convergence: &c,
    }
    .to_string())
}

/// `confine matrix`: the assembled Hamiltonian of a case (a two-electron sector, or a sphere's or
/// cylinder's channel) as Matrix Market, with its grid table.
pub(crate) fn run_matrix(
    config_path: &std::path::Path,
    out: &std::path::Path,
    case: Option<&str>,
    (two_electron, eps_r, channel): (Option<crate::TwoElectronSector>, Option<f64>, Option<usize>),
    memory_limit: Option<&str>,
) -> Result<String> {
    use confine::physics::coulomb::Exchange;
    use confine::pipeline::output::matrix::{self, MatrixChoice};
    let mut study = config::load_study(config_path)?;
    apply_memory_limit(&mut study, memory_limit)?;
    let choice = match two_electron {
        None => channel.map_or(MatrixChoice::OneParticle, MatrixChoice::Channel),
        Some(sector) => MatrixChoice::TwoElectron {
            exchange: match sector {
                crate::TwoElectronSector::Singlet => Exchange::Symmetric,
                crate::TwoElectronSector::Triplet => Exchange::Antisymmetric,
            },
            eps_r,
        },
    };
    let assembled = matrix::assemble(&study, case, choice)?;
    let (mtx, table) = matrix::write_matrix(out, &assembled)?;
    Ok(format!(
        "{}: {} x {}, {} entries (Hartree)\n{}\n{}\n",
        assembled.description,
        assembled.matrix.rows(),
        assembled.matrix.cols(),
        assembled.matrix.nnz(),
        mtx.display(),
        table.display()
    ))
}
