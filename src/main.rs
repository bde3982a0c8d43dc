//! The `confine` command line: parses arguments, calls the library, prints. No physics here.

// The binary's own modules live in src/cli/ (src/lib.rs does not declare them).
#[path = "cli/commands.rs"]
mod commands;
#[path = "cli/progress.rs"]
mod progress;

use clap::{Parser, Subcommand};
use commands::{
    run_converge, run_matrix, run_merge, run_spectrum, run_study, run_validate, Verbosity,
};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Quantum states and thermodynamics of confined particles on finite-difference grids.
#[derive(Parser)]
#[command(name = "confine", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print errors only on stderr: no warnings, notes, plans or progress (the exit status and
    /// metadata.json are unchanged; the results still go to stdout).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print the notes (what the run did on purpose), every case of a sweep as it
    /// finishes, and the wall time of every stage.
    #[arg(short, long, global = true)]
    verbose: bool,
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
        /// Print the wall time of every stage and the peak RSS (as in metadata.json).
        #[arg(long)]
        timings: bool,
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
    /// Compute and print the lowest single-particle levels of a config (for a sphere or a
    /// cylinder: the lowest levels over all angular channels, sorted by energy).
    Spectrum {
        #[command(flatten)]
        target: Target,
        /// Sphere or cylinder only: the lowest levels of angular channel L (l, or |m|) alone.
        #[arg(long, value_name = "L")]
        channel: Option<usize>,
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
    /// Sphere or cylinder: one angular channel (--channel L, required), the symmetric
    /// tridiagonal radial H~; a unit eigenvector phi gives phi_j / sqrt(W_j) = u(r) = r R(r)
    /// for the sphere and R(r) for the cylinder (W = the weight column; there phi_j /
    /// sqrt(dual width) ~ sqrt(r) R(r)). The .mtx header repeats this.
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
        /// Sphere or cylinder (required there): the angular channel L to write (l, or |m|).
        #[arg(long, value_name = "L", conflicts_with = "two_electron")]
        channel: Option<usize>,
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

fn main() -> ExitCode {
    // Errors are reported as messages; anyhow need not capture a backtrace for each of them
    // (RUST_BACKTRACE still applies to panics, which are bugs). Set before any thread starts.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = Cli::parse();
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let result = match cli.command {
        Command::Run {
            config,
            out,
            no_figures,
            shard,
            case_figures,
            memory_limit,
            dry_run,
            timings,
        } => run_study(
            &config,
            out,
            no_figures,
            shard.as_deref(),
            case_figures,
            (memory_limit.as_deref(), dry_run, timings),
            verbosity,
        ),
        Command::Merge {
            dirs,
            out,
            no_figures,
        } => run_merge(&dirs, &out, no_figures),
        Command::Spectrum { target, channel } => run_spectrum(&target, channel, verbosity),
        Command::Matrix {
            config,
            out,
            case,
            two_electron,
            eps_r,
            channel,
            memory_limit,
        } => run_matrix(
            &config,
            &out,
            case.as_deref(),
            (two_electron, eps_r, channel),
            memory_limit.as_deref(),
        ),
        Command::Validate {
            target: t,
            refinements,
        } => run_validate(&t, refinements, verbosity),
        Command::Converge {
            target: t,
            refinements,
        } => run_converge(&t, refinements, verbosity),
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
            eprintln!("error: {}", confine::pipeline::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}
