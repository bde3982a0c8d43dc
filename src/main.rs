//! The `confine` command line: parses arguments, calls the library, prints. No physics here.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use confine::checks::validate::{self, SquareWellCase};
use confine::model::units::HARTREE_IN_EV;
use confine::pipeline::config;
use confine::pipeline::study::plan;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Quantum states and thermodynamics of confined particles on finite-difference grids.
#[derive(Parser)]
#[command(name = "confine", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What `spectrum`, `converge` and `validate` act on.
#[derive(clap::Args)]
struct Target {
    /// The TOML config file.
    config: PathBuf,
    /// Which case of a config with [[cases]] (default: the first).
    #[arg(long)]
    case: Option<String>,
    /// Number of levels (overrides solve.levels).
    #[arg(long)]
    levels: Option<usize>,
    /// Print one JSON object to stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Largest memory the computation may use, e.g. "4 GiB" (overrides [resources]
    /// memory_limit; default 80% of the physical memory, and never above it).
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a study: every case of CONFIG through spectrum and thermodynamics; write tables,
    /// metadata.json and figures to DIR.
    Run {
        /// The TOML config file.
        config: PathBuf,
        /// Output directory (default: out/<config file stem>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip the figures (tables and metadata only).
        #[arg(long)]
        no_figures: bool,
        /// Sweeps only: run the i-th of n slices of the cases (1 <= i <= n), e.g. one task of
        /// a SLURM job array; combine the slices with `confine merge`.
        #[arg(long, value_name = "i/n")]
        shard: Option<String>,
        /// Sweeps only: also draw each case's own figures (the summary figures are always drawn).
        #[arg(long)]
        case_figures: bool,
        /// Largest memory the run may use, e.g. "4 GiB" (overrides [resources] memory_limit;
        /// default 80% of the physical memory, and never above it).
        #[arg(long, value_name = "SIZE")]
        memory_limit: Option<String>,
        /// Print the plan (cases, memory estimate per case and the largest, a time estimate and
        /// how it was made) and exit without computing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Combine the summaries of the shards of one sweep (`run --shard i/n`) into one.
    Merge {
        /// Output directories of the shards.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged summary.csv, summary.json and figures go.
        #[arg(long)]
        out: PathBuf,
        /// Skip the figures.
        #[arg(long)]
        no_figures: bool,
    },
    /// Compute and print the lowest single-particle levels of a config.
    Spectrum {
        #[command(flatten)]
        target: Target,
    },
    /// Self-convergence of any config on grids h, h/2, h/4, h/8: observed order and Richardson
    /// estimate with its error estimate per level.
    Converge {
        #[command(flatten)]
        target: Target,
        /// Number of nested grids (h, h/2, …): at least 3.
        #[arg(long, default_value_t = 4)]
        refinements: usize,
    },
    /// Write a case's assembled Hamiltonian as a Matrix Market file (Hartree), with a CSV of its
    /// rows (nodes, positions, dual widths w, potential).
    ///
    /// One particle: the symmetrized H~ = W^-1/2 A W^-1/2 on the interior nodes (non-uniform
    /// in general). Its eigenvalues are the energies; a unit eigenvector phi is not the wave
    /// function: psi_j = phi_j / sqrt(w_j), w = the dual_width column of the grid table.
    /// Two electrons: one exchange sector of the [coulomb] grid-check Hamiltonian in the
    /// orthonormal pair basis (rows = the (a, b) pairs of the table).
    Matrix {
        /// The TOML config file.
        config: PathBuf,
        /// The Matrix Market file to write, e.g. H.mtx (its table goes to H.grid.csv).
        #[arg(long)]
        out: PathBuf,
        /// Which case of a config with [[cases]] or a [sweep] (default: the first).
        #[arg(long)]
        case: Option<String>,
        /// Write a two-electron exchange sector instead of the one-particle H~.
        #[arg(long, value_name = "SECTOR")]
        two_electron: Option<TwoElectronSector>,
        /// With --two-electron: which of coulomb.eps_r (needed when it lists several).
        #[arg(long, value_name = "EPS_R", requires = "two_electron")]
        eps_r: Option<f64>,
        /// Largest memory the assembly may use, e.g. "4 GiB" (overrides [resources]
        /// memory_limit).
        #[arg(long, value_name = "SIZE")]
        memory_limit: Option<String>,
    },
    /// Compare a square-well config (potential.type = "square_well") with the exact solution
    /// on grids h, h/2, h/4, …
    Validate {
        #[command(flatten)]
        target: Target,
        /// Number of nested grids (h, h/2, …): at least 2.
        #[arg(long, default_value_t = 4)]
        refinements: usize,
    },
}

/// The two-electron exchange sectors `confine matrix --two-electron` can write.
#[derive(Clone, Copy, clap::ValueEnum)]
enum TwoElectronSector {
    /// The symmetric spatial sector (spin singlet).
    Singlet,
    /// The antisymmetric spatial sector (spin triplet).
    Triplet,
}

/// Sweeps of at least this many cases get a time estimate before they start.
const CALIBRATED_SWEEP_CASES: usize = 20;

fn main() -> ExitCode {
    // Errors are reported as messages; anyhow need not capture a backtrace for each of them
    // (RUST_BACKTRACE still applies to panics, which are bugs). Set before any thread starts.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            config,
            out,
            no_figures,
            shard,
            case_figures,
            memory_limit,
            dry_run,
        } => run_study(
            &config,
            out,
            no_figures,
            shard.as_deref(),
            case_figures,
            (memory_limit.as_deref(), dry_run),
        ),
        Command::Merge {
            dirs,
            out,
            no_figures,
        } => run_merge(&dirs, &out, no_figures),
        Command::Spectrum { target } => run_spectrum(&target),
        Command::Matrix {
            config,
            out,
            case,
            two_electron,
            eps_r,
            memory_limit,
        } => run_matrix(
            &config,
            &out,
            case.as_deref(),
            (two_electron, eps_r),
            memory_limit.as_deref(),
        ),
        Command::Validate {
            target: t,
            refinements,
        } => run_validate(&t, refinements),
        Command::Converge {
            target: t,
            refinements,
        } => run_converge(&t, refinements),
    };
    match result {
        Ok(text) => {
            // A closed pipe (`confine … | head`) is not an error of ours.
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: writing to stdout: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by ": ", each text once: a cause whose text its error
/// already shows is not repeated.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

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
    fn load(&self) -> Result<config::Config> {
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

fn run_matrix(
    config_path: &std::path::Path,
    out: &std::path::Path,
    case: Option<&str>,
    (two_electron, eps_r): (Option<TwoElectronSector>, Option<f64>),
    memory_limit: Option<&str>,
) -> Result<String> {
    use confine::physics::coulomb::Exchange;
    use confine::pipeline::output::matrix::{self, MatrixChoice};
    let mut study = config::load_study(config_path)?;
    apply_memory_limit(&mut study, memory_limit)?;
    let choice = match two_electron {
        None => MatrixChoice::OneParticle,
        Some(sector) => MatrixChoice::TwoElectron {
            exchange: match sector {
                TwoElectronSector::Singlet => Exchange::Symmetric,
                TwoElectronSector::Triplet => Exchange::Antisymmetric,
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

fn run_spectrum(target: &Target) -> Result<String> {
    let (path, json) = (target.config.as_path(), target.json);
    let cfg = target.load()?;
    let problem = target.problem(&cfg)?;
    let (estimate, _) = plan::spectrum_estimate(&problem, target.levels_key())
        .with_context(|| format!("{}: computing the spectrum", path.display()))?;
    target.check_memory(&cfg, &estimate)?;
    let start = std::time::Instant::now();
    let s = problem
        .spectrum()
        .with_context(|| format!("{}: computing the spectrum", path.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        let out = serde_json::json!({
            "config": path.display().to_string(),
            "units": {"energy": "hartree", "length": "bohr", "mass": "electron_mass"},
            "grid_points": s.grid.interior_len(),
            "grid": s.grid.summary(),
            "mass": s.mass,
            "energy": s.energies(),
            "kinetic": s.kinetic(),
            "potential": s.levels.iter().map(|l| l.potential).collect::<Vec<_>>(),
            "piece_probability": s.levels.iter().map(|l| l.piece_probability.clone()).collect::<Vec<_>>(),
            "outside_probability": s.levels.iter().map(|l| l.outside_probability).collect::<Vec<_>>(),
            "residual": s.levels.iter().map(|l| l.residual).collect::<Vec<_>>(),
            "solver": s.report,
            "seconds": seconds,
            "warnings": s.warnings,
        });
        return Ok(serde_json::to_string_pretty(&out)? + "\n");
    }
    let mut o = String::new();
    let pieces = problem.potential.pieces().len();
    write!(
        o,
        "{:>5} {:>22} {:>14} {:>20} {:>20}",
        "n", "E (Ha)", "E (eV)", "<K> (Ha)", "<V> (Ha)"
    )?;
    for p in 0..pieces {
        write!(o, " {:>10}", format!("P(piece {p})"))?;
    }
    writeln!(o, " {:>10} {:>9}", "P(out)", "residual")?;
    for l in &s.levels {
        write!(
            o,
            "{:>5} {:>22.15e} {:>14.6} {:>20.12e} {:>20.12e}",
            l.n,
            l.energy,
            l.energy * HARTREE_IN_EV,
            l.kinetic,
            l.potential
        )?;
        for p in &l.piece_probability {
            write!(o, " {:>10.6}", p)?;
        }
        writeln!(o, " {:>10.6} {:>9.1e}", l.outside_probability, l.residual)?;
    }
    let r = &s.report;
    writeln!(
        o,
        "\n{} interior nodes ({} grid, spacing {:.6}..{:.6} bohr), {} levels in {:.3} s",
        s.grid.interior_len(),
        if s.grid.is_uniform() {
            "uniform"
        } else {
            "piecewise-uniform"
        },
        s.grid.min_spacing(),
        s.grid.max_spacing(),
        s.levels.len(),
        seconds
    )?;
    writeln!(
        o,
        "Sturm count below {:.9e} Ha = {} (no level missed); max residual {:.1e} Ha (‖H‖ ≤ {:.3e}); max |<i|j> - δij| = {:.1e}",
        r.sturm_cutoff, r.sturm_count_at_cutoff, r.max_residual, r.norm_bound, r.max_orthogonality_error
    )?;
    Ok(o)
}

fn run_validate(target: &Target, refinements: usize) -> Result<String> {
    let (path, json) = (target.config.as_path(), target.json);
    let cfg = target.load()?;
    let problem = target.problem(&cfg)?;
    let case =
        SquareWellCase::from_problem(&problem).with_context(|| path.display().to_string())?;
    let mass_inside = case.well_mass();
    let estimate = plan::refinements_estimate(&problem, refinements, 2)
        .with_context(|| format!("{}: validation", path.display()))?;
    target.check_memory(&cfg, &estimate)?;
    let v = validate::validate_square_well(&case, refinements, &problem.options)
        .with_context(|| format!("{}: validation", path.display()))?;
    for (i, g) in v.grids.iter().enumerate() {
        for w in &g.warnings {
            eprintln!("warning: grid {i}: {w}");
        }
    }
    if json {
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut o = String::new();
    writeln!(
        o,
        "Square well U0 = {} Ha, a = {} bohr, L = {} bohr, m = {} m_e inside, {} m_e outside: {} levels on {} nested grids",
        case.depth,
        case.half_width,
        case.box_half_width,
        mass_inside,
        case.mass,
        case.levels,
        v.grids.len()
    )?;
    for (i, g) in v.grids.iter().enumerate() {
        writeln!(
            o,
            "  grid {i}: h = {:.6} bohr, {} nodes, max residual {:.1e} Ha, {:.3} s",
            g.grid.max_spacing, g.grid.interior_nodes, g.solver.max_residual, g.seconds
        )?;
    }
    write!(o, "\n{:>4} {:>22}", "n", "E exact (Ha)")?;
    for i in 0..v.grids.len() {
        write!(o, " {:>10}", format!("err h/{}", 1 << i))?;
    }
    writeln!(
        o,
        " {:>6} {:>10} {:>20} {:>10} {:>6} {:>10}",
        "order", "Rich err", "<K> exact (Ha)", "<K> err", "order", "Rich err"
    )?;
    for (l, order) in v.levels.iter().zip(&v.observed_order) {
        write!(o, "{:>4} {:>22.15e}", l.n, l.exact)?;
        for e in &l.errors_by_grid {
            write!(o, " {:>10.2e}", e)?;
        }
        writeln!(
            o,
            " {:>6.3} {:>10.2e} {:>20.13e} {:>10.2e} {:>6.3} {:>10.2e}",
            order,
            l.richardson_error,
            l.kinetic_exact,
            l.kinetic_error,
            l.kinetic_observed_order,
            l.kinetic_richardson_error
        )?;
    }
    let max_rich = v
        .richardson_error
        .iter()
        .fold(0.0_f64, |m, e| m.max(e.abs()));
    let (omin, omax) = v
        .observed_order
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &o| {
            (a.min(o), b.max(o))
        });
    writeln!(
        o,
        "\nobserved order of E_n: {omin:.3} .. {omax:.3}; max |Richardson error| = {max_rich:.2e} Ha"
    )?;
    Ok(o)
}

fn figure_output(no_figures: bool) -> confine::pipeline::output::figures::FigureOutput {
    confine::pipeline::output::figures::FigureOutput {
        png: !no_figures,
        svg: !no_figures,
    }
}

/// Sweep progress: a bar on a terminal, one line per case otherwise (logs, batch jobs).
struct SweepProgress {
    bar: Option<indicatif::ProgressBar>,
    done: std::sync::atomic::AtomicUsize,
    total: std::sync::atomic::AtomicUsize,
}

impl confine::pipeline::sweep::runner::Progress for SweepProgress {
    fn start(&self, total: usize, reused: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.total.store(total, Relaxed);
        self.done.store(reused, Relaxed);
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_position(reused as u64);
            }
            None => eprintln!(
                "sweep: {total} case(s), {reused} already done, {} to compute",
                total - reused
            ),
        }
    }

    fn finished(
        &self,
        row: &confine::pipeline::sweep::summary::SummaryRow,
        outcome: confine::pipeline::sweep::runner::Outcome,
        seconds: f64,
    ) {
        use std::sync::atomic::Ordering::Relaxed;
        let done = self.done.fetch_add(1, Relaxed) + 1;
        let status = match (&row.error, outcome) {
            (Some(e), _) => format!("FAILED: {e}"),
            _ => "ok".to_string(),
        };
        match &self.bar {
            Some(bar) => {
                if row.error.is_some() {
                    bar.println(format!("case {}: {status}", row.name));
                }
                bar.set_message(row.name.clone());
                bar.inc(1);
            }
            None => eprintln!(
                "[{done}/{}] case {} ({seconds:.2} s): {status}",
                self.total.load(Relaxed),
                row.name
            ),
        }
    }
}

fn run_sweep(
    study: &config::Study,
    dir: &std::path::Path,
    no_figures: bool,
    shard: Option<confine::pipeline::config::sweep::Shard>,
    case_figures: bool,
) -> Result<String> {
    use std::io::IsTerminal as _;
    let options = confine::pipeline::sweep::runner::SweepOptions {
        shard,
        figures: figure_output(no_figures),
        case_figures,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} cases, {elapsed} elapsed, ~{eta} left  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = SweepProgress {
        bar,
        done: Default::default(),
        total: Default::default(),
    };
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
        eprintln!(
            "sweep plan: {} case(s); largest {} needs {} of memory (limit {}); {time}; `run --dry-run` prints the plan",
            study.cases.len(),
            p.name,
            confine::resources::human(p.bytes()),
            p.limit,
        );
    }
    let threads = rayon::current_num_threads();
    let report = if at_once < threads {
        eprintln!(
            "sweep plan: {at_once} case(s) at a time instead of {threads}, so that they fit in the memory limit together"
        );
        rayon::ThreadPoolBuilder::new()
            .num_threads(at_once)
            .build()?
            .install(|| confine::pipeline::sweep::runner::run_sweep(study, dir, &options, &progress))
    } else {
        confine::pipeline::sweep::runner::run_sweep(study, dir, &options, &progress)
    }
    .with_context(|| format!("writing the sweep to {}", dir.display()))?;
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
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

fn run_merge(dirs: &[PathBuf], out: &std::path::Path, no_figures: bool) -> Result<String> {
    let summary = confine::pipeline::sweep::runner::merge(dirs, out, &figure_output(no_figures))?;
    let failed = summary.rows.iter().filter(|r| r.error.is_some()).count();
    Ok(format!(
        "merged {} shard(s): {} case(s), {failed} failed -> {}\n",
        dirs.len(),
        summary.rows.len(),
        out.join("summary.csv").display()
    ))
}

fn run_study(
    path: &std::path::Path,
    out: Option<PathBuf>,
    no_figures: bool,
    shard: Option<&str>,
    case_figures: bool,
    (memory_limit, dry_run): (Option<&str>, bool),
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
        return run_sweep(&study, &dir, no_figures, shard, case_figures);
    }
    let result = confine::pipeline::study::run_study(&study)
        .with_context(|| format!("{}: running the study", path.display()))?;
    let figures = figure_output(no_figures);
    let written = confine::pipeline::output::write::write_study(&result, &dir, &figures)
        .with_context(|| format!("writing the results to {}", dir.display()))?;
    let mut o = String::new();
    for c in &result.cases {
        for w in &c.warnings {
            eprintln!("warning: case {}: {w}", c.name);
        }
    }
    writeln!(
        o,
        "{} case(s) of {} -> {} ({} files) in {:.2} s",
        result.cases.len(),
        path.display(),
        dir.display(),
        written.len(),
        start.elapsed().as_secs_f64()
    )?;
    writeln!(
        o,
        "\nNegative heat capacity: energy intervals where the temperature falls as E rises"
    )?;
    writeln!(
        o,
        "{:<24} {:<5} {:>9} {:>16} {:>16} {:>14} {:>9}",
        "case", "T", "intervals", "largest: E from", "to (Ha)", "drop (Ha)", "drop (%)"
    )?;
    for c in &result.cases {
        for set in &c.nhc {
            let largest = confine::physics::thermo::nhc::largest_drop(&set.intervals);
            match largest {
                Some(i) => writeln!(
                    o,
                    "{:<24} {:<5} {:>9} {:>16.6e} {:>16.6e} {:>14.4e} {:>9.2}",
                    c.name,
                    set.definition,
                    set.intervals.len(),
                    i.e_start,
                    i.e_end,
                    i.drop,
                    100.0 * i.relative_drop
                )?,
                None => writeln!(
                    o,
                    "{:<24} {:<5} {:>9} {:>16} {:>16} {:>14} {:>9}",
                    c.name, set.definition, 0, "-", "-", "-", "-"
                )?,
            }
        }
    }
    for c in &result.cases {
        let Some(cr) = &c.coulomb else { continue };
        writeln!(
            o,
            "\nTwo electrons, case {} (CI, M = {} orbitals; e_1 - e_0 = {:.4e} Ha)",
            c.name, cr.orbitals, cr.level_spacing
        )?;
        writeln!(
            o,
            "{:<14} {:>20} {:>8} {:>12} {:>10} {:>10} {:>18} {:>12}",
            "variant",
            "E_ground (Ha)",
            "spin",
            "shift (Ha)",
            "spacings",
            "T_KE NHC",
            "largest from E/N",
            "M->M' max"
        )?;
        for (i, v) in cr.variants.iter().enumerate() {
            let shift = cr.shift(i);
            let ke = confine::pipeline::study::nhc_of(
                &v.result.nhc,
                confine::pipeline::study::TemperatureDefinition::KineticWindow,
            );
            let largest =
                ke.and_then(|s| confine::physics::thermo::nhc::largest_drop(&s.intervals));
            writeln!(
                o,
                "{:<14} {:>20.12e} {:>8} {:>12.4e} {:>10.3} {:>10} {:>18} {:>12}",
                v.label,
                v.result.ground_energy,
                v.ground_spin,
                shift.ground_shift,
                shift.shift_in_spacings,
                ke.map_or(0, |s| s.intervals.len()),
                largest.map_or("-".to_string(), |d| format!("{:.4e}", d.e_start / 2.0)),
                v.convergence
                    .as_ref()
                    .map_or("-".to_string(), |c| format!("{:.1e}", c.max_abs_change()))
            )?;
        }
        if let Some(worst) = cr
            .grid_check
            .iter()
            .map(|r| r.difference.abs())
            .reduce(f64::max)
        {
            writeln!(
                o,
                "CI against the 2-D grid solve: {} states, max |E_CI - E_grid| = {worst:.2e} Ha",
                cr.grid_check.len()
            )?;
        }
    }
    Ok(o)
}

fn run_converge(target: &Target, refinements: usize) -> Result<String> {
    let (path, json) = (target.config.as_path(), target.json);
    let cfg = target.load()?;
    let problem = target.problem(&cfg)?;
    let estimate = plan::refinements_estimate(&problem, refinements, 3)
        .with_context(|| format!("{}: convergence study", path.display()))?;
    target.check_memory(&cfg, &estimate)?;
    let c = confine::checks::converge::self_convergence(&problem, refinements)
        .with_context(|| format!("{}: convergence study", path.display()))?;
    for w in &c.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        return Ok(serde_json::to_string_pretty(&c)? + "\n");
    }
    let mut o = String::new();
    writeln!(
        o,
        "{}: {} levels on {} nested grids (h = {:.6} .. {:.6} bohr)",
        path.display(),
        c.levels.len(),
        c.grids.len(),
        c.grids[0].max_spacing,
        c.grids[c.grids.len() - 1].max_spacing
    )?;
    writeln!(
        o,
        "{:>4} {:>22} {:>6} {:>22} {:>10} {:>20} {:>6} {:>10}",
        "n",
        "E finest (Ha)",
        "order",
        "E Richardson (Ha)",
        "error est",
        "<K> Richardson (Ha)",
        "order",
        "error est"
    )?;
    let order = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.3}"));
    for l in &c.levels {
        writeln!(
            o,
            "{:>4} {:>22.15e} {:>6} {:>22.15e} {:>10.2e} {:>20.13e} {:>6} {:>10.2e}{}",
            l.n,
            l.energy.values.last().copied().unwrap_or(f64::NAN),
            order(l.energy.observed_order),
            l.energy.richardson,
            l.energy.error_estimate,
            l.kinetic.richardson,
            order(l.kinetic.observed_order),
            l.kinetic.error_estimate,
            if l.flagged {
                "  <- order far from 2"
            } else {
                ""
            }
        )?;
    }
    Ok(o)
}
