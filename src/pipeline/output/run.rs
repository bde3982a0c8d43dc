//! Writes a study's results: per case `levels.csv`, `canonical.csv`, `temperatures.csv` and
//! `nhc.csv`, for the run `metadata.json` (provenance, with a manifest of every file) and
//! `figures/`.
//!
//! # Commit protocol
//!
//! An output directory `OUT` is written only while its [`OutputLock`] is held. Every write is
//! one *commit* of a set of files into `OUT` — the files of a study, of one sweep case
//! (`OUT/<case>/…`) or of a sweep's summary — and each set has a *marker*, the file that says
//! the set is complete: `metadata.json`, whose `files` manifest lists every other file of the
//! set with its size and FNV-1a hash, or `summary.json`.
//!
//! 1. **Stage**: every file is written under `OUT/.staging-<pid>-<k>/files/` at its final
//!    relative path; `journal.json` beside it names the marker and the *stale* files, those of
//!    the old output that the new one lacks (from the old manifest at the top of a study; every
//!    other file of a sweep case directory; old summary figures).
//! 2. **Seal**: rename `.staging-<pid>-<k>` to `.commit-<pid>-<k>` (one atomic rename). Until
//!    then the old output is untouched; from then on the commit is completed, never undone.
//! 3. **Move**: delete the old marker, rename every staged file over its old version, delete the
//!    stale files, rename the marker into place last, delete `.commit-<pid>-<k>`.
//!
//! So at every instant a present marker means a complete set, and for `metadata.json` every
//! listed file matches its recorded size and hash ([`verified_metadata`]; a sweep's resume uses
//! it, so a case whose table was deleted, truncated or altered is recomputed). An absent marker
//! means the set is being replaced. A process killed in step 1 leaves the old output complete
//! and a `.staging-*` directory; one killed in steps 2–3 leaves `.commit-*`. The next confine
//! process that takes the lock on `OUT` (any `run` or `merge` into it) first deletes every
//! `.staging-*` and repeats step 3 from every `.commit-*` journal ([`recover`]; step 3 is
//! idempotent), so the directory ends as the complete new output. The tables depend only on the
//! config and the code: a re-run gives byte-identical tables (`metadata.json` also records wall
//! times).
//!
//! # Test hook
//!
//! `CONFINE_FAULT=rename:N` aborts the process just before its N-th commit rename (the seal of
//! step 2 counts), `CONFINE_FAULT=write:N` just before its N-th staged table write. The
//! fault-injection tests use them to stop a run at exact points; normal use leaves it unset.

use super::lock::OutputLock;
use super::plots::{
    branches_figure, density_figure, entropy_figure, kinetic_figure, limit_figure,
    temperature_figure, xy_figure, BranchesFigure, BranchesPanel, DensityFigure, EntropyFigure,
    FigureOutput, KineticFigure, LimitFigure, Series, TemperatureFigure, XyFigure,
};
use super::tables::{Cell, Csv};
use crate::model::units::{HARTREE_IN_EV, HARTREE_IN_KELVIN};
use crate::pipeline::config::directory_name;
use crate::pipeline::study::coulomb::{CoulombResult, CoulombVariant};
use crate::pipeline::study::particles::{
    ParticleResult, ParticleRow, StateTable, STATES_CSV_LIMIT,
};
use crate::pipeline::study::{CaseResult, NhcSet, StudyResult};
use serde_json::json;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use thiserror::Error;

/// Why outputs could not be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// A file or directory could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error("figure {name}: {message}")]
    Figure {
        /// Figure name.
        name: String,
        /// The cause.
        message: String,
    },
    /// Another process holds the lock on the output directory.
    #[error("{} is being written by another confine process ({holder}): wait until it ends, or choose another output directory", dir.display())]
    Locked {
        /// The output directory.
        dir: PathBuf,
        /// The holder as its lock file describes it (pid, start time, command).
        holder: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The points where the `CONFINE_FAULT` test hook can abort the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Before a staged table write.
    Write = 0,
    /// Before a commit rename.
    Rename = 1,
}

/// Counts the fault points of `kind` and aborts at the one `CONFINE_FAULT` names.
fn fault_point(kind: Fault) {
    static PLAN: OnceLock<Option<(Fault, usize)>> = OnceLock::new();
    static COUNTS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let plan = PLAN.get_or_init(|| {
        let value = std::env::var("CONFINE_FAULT").ok()?;
        let (what, n) = value.split_once(':')?;
        let kind = match what {
            "write" => Fault::Write,
            "rename" => Fault::Rename,
            _ => return None,
        };
        Some((kind, n.trim().parse().ok()?))
    });
    if let Some((planned, n)) = *plan {
        if planned == kind && COUNTS[kind as usize].fetch_add(1, Ordering::SeqCst) + 1 == n {
            eprintln!("CONFINE_FAULT: aborting before {kind:?} {n}");
            std::process::abort();
        }
    }
}

/// The files of one commit into a locked output directory (see the module doc): staged under
/// `.staging-<pid>-<k>/files/`, moved into place by [`Staging::commit`], deleted if dropped
/// before it is sealed.
pub(crate) struct Staging {
    /// The output directory (canonical); staged paths are relative to it.
    target: PathBuf,
    /// `.staging-<pid>-<k>`, or `.commit-<pid>-<k>` once sealed.
    root: PathBuf,
    /// Staged files, relative to `target`.
    files: Vec<PathBuf>,
    sealed: bool,
    _lock: OutputLock,
}

impl Staging {
    /// Locks `target` (re-entrant within this process) and opens a fresh staging area in it.
    pub(crate) fn new(target: &Path) -> Result<Self, OutputError> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let lock = OutputLock::acquire(target)?;
        let root = lock.dir().join(format!(
            ".staging-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let files = root.join("files");
        std::fs::create_dir_all(&files).map_err(io(&files))?;
        Ok(Self {
            target: lock.dir().to_path_buf(),
            root,
            files: Vec::new(),
            sealed: false,
            _lock: lock,
        })
    }

    /// Where staged files go: their final paths relative to the output directory, under this.
    pub(crate) fn content(&self) -> PathBuf {
        self.root.join("files")
    }

    /// Writes `text` to the staged file `relative`.
    pub(crate) fn write(&mut self, relative: &Path, text: &str) -> Result<(), OutputError> {
        fault_point(Fault::Write);
        let path = self.content().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        self.files.push(relative.to_path_buf());
        Ok(())
    }

    /// Records files already written under [`Staging::content`] (figures).
    pub(crate) fn add(&mut self, relative: impl IntoIterator<Item = PathBuf>) {
        self.files.extend(relative);
    }

    /// The `files` manifest of `metadata.json` for the staged files under `prefix`: path
    /// (relative to `prefix`, `/`-separated), size in bytes and FNV-1a hash, sorted by path.
    fn manifest(&self, prefix: &Path) -> Result<serde_json::Value, OutputError> {
        let mut entries = Vec::new();
        for rel in &self.files {
            let Ok(inner) = rel.strip_prefix(prefix) else {
                continue;
            };
            let path = self.content().join(rel);
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            entries.push((
                slash_path(inner),
                bytes.len(),
                format!("{:016x}", crate::hash::fnv1a(&bytes)),
            ));
        }
        entries.sort();
        Ok(entries
            .into_iter()
            .map(|(path, bytes, hash)| json!({"path": path, "bytes": bytes, "fnv1a64": hash}))
            .collect())
    }

    /// Seals the staged files and moves them into place (steps 2 and 3 of the module doc):
    /// `marker` (a staged file) last, after deleting the `stale` files that are not staged.
    /// Returns the paths written.
    pub(crate) fn commit(
        mut self,
        marker: &Path,
        stale: Vec<PathBuf>,
    ) -> Result<Vec<PathBuf>, OutputError> {
        debug_assert!(self.files.iter().any(|f| f == marker), "marker not staged");
        let stale: Vec<String> = stale
            .iter()
            .filter(|s| !self.files.contains(s))
            .map(|s| slash_path(s))
            .collect();
        let journal = json!({"marker": slash_path(marker), "stale": stale});
        let path = self.root.join(JOURNAL);
        std::fs::write(&path, journal.to_string()).map_err(io(&path))?;
        let name = self
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let sealed = self.root.with_file_name(name.unwrap_or_default().replacen(
            STAGING_PREFIX,
            COMMIT_PREFIX,
            1,
        ));
        fault_point(Fault::Rename);
        std::fs::rename(&self.root, &sealed).map_err(io(&sealed))?;
        // From here on a failure leaves the journal for the next process to complete.
        self.sealed = true;
        self.root = sealed;
        roll_forward(&self.target, &self.root)?;
        Ok(self.files.iter().map(|f| self.target.join(f)).collect())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.sealed {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

const STAGING_PREFIX: &str = ".staging-";
const COMMIT_PREFIX: &str = ".commit-";
const JOURNAL: &str = "journal.json";

/// `path` with `/` between its components (the manifest's and the journal's form).
fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A manifest or journal path as a relative path that stays inside its directory (`None` for
/// an absolute path, an empty one or one with `.` or `..`).
fn inner_path(text: &str) -> Option<PathBuf> {
    let path = PathBuf::from(text);
    let inside = !text.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    inside.then_some(path)
}

/// Every file (anything but a directory) under `root`, relative to it, sorted.
fn files_under(root: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let mut found = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let dir = root.join(&rel);
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            let child = rel.join(entry.file_name());
            if kind.is_dir() {
                todo.push(child);
            } else {
                found.push(child);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Step 3 of the commit protocol from the journal in `journal_dir` (a sealed `.commit-*`
/// directory of `target`); safe to repeat after an interruption.
fn roll_forward(target: &Path, journal_dir: &Path) -> Result<(), OutputError> {
    let path = journal_dir.join(JOURNAL);
    let damaged = |message: String| OutputError::Io {
        path: path.clone(),
        source: std::io::Error::other(message),
    };
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let journal: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
    let marker = journal["marker"]
        .as_str()
        .and_then(inner_path)
        .ok_or_else(|| damaged("no marker".into()))?;
    let staged = journal_dir.join("files");
    let staged_marker = staged.join(&marker);
    let remove = |p: &Path| match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(p)(e)),
        _ => Ok(()),
    };
    if staged_marker.exists() {
        remove(&target.join(&marker))?;
    }
    for rel in files_under(&staged)? {
        if rel == marker {
            continue;
        }
        let to = target.join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fault_point(Fault::Rename);
        std::fs::rename(staged.join(&rel), &to).map_err(io(&to))?;
    }
    let stale = journal["stale"].as_array().cloned().unwrap_or_default();
    for rel in stale.iter().filter_map(|s| s.as_str().and_then(inner_path)) {
        let old = target.join(&rel);
        remove(&old)?;
        // Directories the stale files leave empty go too (never `target` itself).
        let mut dir = old.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(target) && *d != target) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    if staged_marker.exists() {
        let to = target.join(&marker);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fault_point(Fault::Rename);
        std::fs::rename(&staged_marker, &to).map_err(io(&to))?;
    }
    std::fs::remove_dir_all(journal_dir).map_err(io(journal_dir))
}

/// Cleans up after writers of `dir` that were killed: deletes every unsealed `.staging-*`
/// directory and completes every sealed `.commit-*` one (see the module doc). Called by
/// [`OutputLock::acquire`], whose lock guarantees that no such writer is still running.
pub fn recover(dir: &Path) -> Result<(), OutputError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(STAGING_PREFIX) || n.starts_with(COMMIT_PREFIX))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        if name.starts_with(COMMIT_PREFIX) && path.join(JOURNAL).is_file() {
            roll_forward(dir, &path)?;
        } else {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// The `metadata.json` of output directory `dir` when the directory is complete: every file of
/// its manifest present with the recorded size and hash. Otherwise what is wrong.
pub fn verified_metadata(dir: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(dir.join("metadata.json"))
        .map_err(|e| format!("metadata.json cannot be read: {e}"))?;
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("metadata.json is not valid JSON: {e}"))?;
    let files = meta["files"]
        .as_array()
        .ok_or("metadata.json has no file manifest (written by an older confine)")?;
    for f in files {
        let (Some(name), Some(bytes), Some(hash)) = (
            f["path"].as_str(),
            f["bytes"].as_u64(),
            f["fnv1a64"].as_str(),
        ) else {
            return Err(format!("metadata.json has a bad manifest entry: {f}"));
        };
        let rel = inner_path(name).ok_or(format!("metadata.json lists the bad path {name}"))?;
        let data = std::fs::read(dir.join(rel)).map_err(|e| format!("{name}: {e}"))?;
        if data.len() as u64 != bytes {
            return Err(format!(
                "{name} has {} bytes, metadata.json records {bytes}",
                data.len()
            ));
        }
        if format!("{:016x}", crate::hash::fnv1a(&data)) != hash {
            return Err(format!(
                "{name} differs from the file metadata.json records (hash)"
            ));
        }
    }
    Ok(meta)
}

/// The files (relative to `dir`) that `dir/metadata.json`'s manifest lists, without checking
/// them; empty when there is no readable manifest.
fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(dir.join("metadata.json")) else {
        return Vec::new();
    };
    let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    meta["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f["path"].as_str().and_then(inner_path))
                .collect()
        })
        .unwrap_or_default()
}

/// Column headers of the probability columns: one per piece of the potential, named by
/// [`crate::pipeline::config::PotentialConfig::region_names`] ("P_well" for the square well).
fn piece_headers(case: &CaseResult) -> Vec<String> {
    case.config
        .potential
        .region_names()
        .iter()
        .map(|name| format!("P_{name} [-]"))
        .collect()
}

fn levels_csv(case: &CaseResult) -> Csv {
    let pieces = piece_headers(case);
    let mut header: Vec<&str> = vec![
        "n",
        "energy [Ha]",
        "kinetic [Ha]",
        "potential [Ha]",
        "T_K [Ha]",
        "S [k_B]",
        "T_mu [Ha]",
    ];
    header.extend(pieces.iter().map(String::as_str));
    header.push("residual [Ha]");
    let mut t = Csv::new(&header);
    for l in &case.levels {
        let mut cells = vec![
            Cell::Int(l.n as u64),
            Cell::Num(l.energy),
            Cell::Num(l.kinetic),
            Cell::Num(l.potential),
            Cell::Num(l.t_kinetic),
            Cell::Num(l.entropy),
            Cell::Opt(l.t_micro),
        ];
        cells.extend(l.piece_probability.iter().map(|p| Cell::Num(*p)));
        cells.push(Cell::Num(l.residual));
        t.row(&cells);
    }
    t
}

fn canonical_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&["T [Ha]", "T [K]", "U [Ha]", "S [k_B]", "C [k_B]", "F [Ha]"]);
    for p in &case.canonical {
        t.row(&[
            Cell::Num(p.temperature),
            Cell::Num(p.temperature * HARTREE_IN_KELVIN),
            Cell::Num(p.energy),
            Cell::Num(p.entropy),
            Cell::Num(p.heat_capacity),
            Cell::Num(p.free_energy),
        ]);
    }
    t
}

fn temperatures_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&["E [Ha]", "T_C [Ha]", "T_KE [Ha]", "window_states [-]"]);
    for r in &case.temperatures {
        t.row(&[
            Cell::Num(r.energy),
            Cell::Opt(r.t_canonical),
            Cell::Opt(r.t_window),
            Cell::Int(r.window_states),
        ]);
    }
    t
}

fn nhc_csv(case: &CaseResult) -> Csv {
    let mut t = Csv::new(&NHC_HEADER);
    nhc_rows(&mut t, &case.nhc);
    t
}

fn particle_grid_csv(p: &ParticleResult) -> Csv {
    let n = p.particles as f64;
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "Omega [-]",
        "S/N [k_B]",
        "T_KE [Ha]",
        "T_C [Ha]",
    ]);
    for r in &p.grid {
        t.row(&[
            Cell::Num(r.energy),
            Cell::Num(r.energy / n),
            Cell::Num(r.omega),
            Cell::Opt(
                r.entropy_per_particle
                    .is_finite()
                    .then_some(r.entropy_per_particle),
            ),
            Cell::Opt(r.t_window),
            Cell::Opt(r.t_canonical),
        ]);
    }
    t
}

fn particle_canonical_csv(p: &ParticleResult) -> Csv {
    let n = p.particles as f64;
    let mut t = Csv::new(&[
        "T [Ha]",
        "T [K]",
        "U [Ha]",
        "U/N [Ha]",
        "S/N [k_B]",
        "C/N [k_B]",
    ]);
    for c in &p.canonical {
        t.row(&[
            Cell::Num(c.temperature),
            Cell::Num(c.temperature * HARTREE_IN_KELVIN),
            Cell::Num(c.energy),
            Cell::Num(c.energy / n),
            Cell::Num(c.entropy / n),
            Cell::Num(c.heat_capacity / n),
        ]);
    }
    t
}

fn particle_states_csv(p: &ParticleResult, table: &StateTable) -> Csv {
    let n = p.particles;
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "kinetic [Ha]",
        "multiplicity [-]",
        "T_K [Ha]",
        "S [k_B]",
        "T_mu [Ha]",
        "occupied orbitals",
    ]);
    for i in 0..table.energy.len() {
        let occ: Vec<String> = table.occupations[i * n..(i + 1) * n]
            .iter()
            .map(|o| o.to_string())
            .collect();
        let occ = occ.join(" ");
        t.row(&[
            Cell::Num(table.energy[i]),
            Cell::Num(table.energy[i] / n as f64),
            Cell::Num(table.kinetic[i]),
            Cell::Int(table.multiplicity[i]),
            Cell::Num(table.t_kinetic[i]),
            Cell::Num(table.entropy[i]),
            Cell::Opt(table.t_micro[i]),
            Cell::Text(&occ),
        ]);
    }
    t
}

fn nhc_rows(t: &mut Csv, sets: &[NhcSet]) {
    for set in sets {
        for i in &set.intervals {
            t.row(&[
                Cell::Text(set.definition),
                Cell::Num(i.e_start),
                Cell::Num(i.e_end),
                Cell::Num(i.t_start),
                Cell::Num(i.t_end),
                Cell::Num(i.drop),
                Cell::Num(i.relative_drop),
                Cell::Int(i.points as u64),
            ]);
        }
    }
}

const NHC_HEADER: [&str; 8] = [
    "definition",
    "e_start [Ha]",
    "e_end [Ha]",
    "t_start [Ha]",
    "t_end [Ha]",
    "drop [Ha]",
    "relative_drop [-]",
    "points [-]",
];

/// The Coulomb comparison: one row per variant (W off first), with the ground-state shift
/// against W off and how the largest T_E^(K) drop moves.
fn coulomb_csv(cr: &CoulombResult) -> Csv {
    let mut t = Csv::new(&[
        "variant",
        "eps_r [-]",
        "E_ground [Ha]",
        "ground_spin",
        "ground <W> [Ha]",
        "shift [Ha]",
        "shift [e_1 - e_0]",
        "states [-]",
        "T_KE_intervals [-]",
        "T_KE_largest_drop [Ha]",
        "T_KE_largest_relative_drop [-]",
        "T_KE_drop_from E/N [Ha]",
        "T_KE_drop_to E/N [Ha]",
        "drop_from shift vs W off E/N [Ha]",
        "T_K_intervals [-]",
        "CI max |E(M') - E(M)| below E_max [Ha]",
    ]);
    let largest = |v: &CoulombVariant| {
        v.result
            .nhc
            .iter()
            .find(|s| s.definition == "T_KE")
            .and_then(|s| crate::physics::thermo::nhc::largest_drop(&s.intervals).cloned())
    };
    let reference = cr.variants.first().and_then(largest);
    for (i, v) in cr.variants.iter().enumerate() {
        let shift = cr.shift(i);
        let d = largest(v);
        let k_intervals = v
            .result
            .nhc
            .iter()
            .find(|s| s.definition == "T_K")
            .map_or(0, |s| s.intervals.len());
        let ke_intervals = v
            .result
            .nhc
            .iter()
            .find(|s| s.definition == "T_KE")
            .map_or(0, |s| s.intervals.len());
        t.row(&[
            Cell::Text(&v.label),
            Cell::Opt(v.eps_r),
            Cell::Num(v.result.ground_energy),
            Cell::Text(v.ground_spin),
            Cell::Num(v.ground_interaction),
            Cell::Num(shift.ground_shift),
            Cell::Num(shift.shift_in_spacings),
            Cell::Num(v.result.states),
            Cell::Int(ke_intervals as u64),
            Cell::Opt(d.as_ref().map(|i| i.drop)),
            Cell::Opt(d.as_ref().map(|i| i.relative_drop)),
            Cell::Opt(d.as_ref().map(|i| i.e_start / 2.0)),
            Cell::Opt(d.as_ref().map(|i| i.e_end / 2.0)),
            Cell::Opt(
                d.as_ref()
                    .zip(reference.as_ref())
                    .map(|(a, b)| (a.e_start - b.e_start) / 2.0),
            ),
            Cell::Int(k_intervals as u64),
            Cell::Opt(v.convergence.as_ref().map(|c| c.max_abs_change())),
        ]);
    }
    t
}

/// Every CI state of a variant below E_max: energy split into ⟨K⟩, ⟨V⟩, ⟨W⟩, spin and its
/// multiplicity, parity, and the leading orbital pair with its weight.
fn ci_states_csv(v: &CoulombVariant) -> Csv {
    let mut t = Csv::new(&[
        "E [Ha]",
        "E/N [Ha]",
        "<K1+K2> [Ha]",
        "<V1+V2> [Ha]",
        "<W> [Ha]",
        "spin",
        "multiplicity [-]",
        "parity",
        "rank in sector [-]",
        "leading pair",
        "leading weight [-]",
    ]);
    for s in &v.states {
        let pair = format!("{} {}", s.leading_pair.0, s.leading_pair.1);
        let multiplicity = s.exchange.multiplicity(v.result.spin).unwrap_or(0);
        t.row(&[
            Cell::Num(s.energy),
            Cell::Num(s.energy / 2.0),
            Cell::Num(s.kinetic),
            Cell::Num(s.potential),
            Cell::Num(s.interaction),
            Cell::Text(match (v.result.spin, s.exchange) {
                (crate::physics::many_body::Spin::None, _) => "spinless",
                (_, e) => e.spin_name(),
            }),
            Cell::Int(multiplicity),
            Cell::Text(match s.parity {
                Some(crate::checks::analytic::Parity::Even) => "even",
                Some(crate::checks::analytic::Parity::Odd) => "odd",
                None => "",
            }),
            Cell::Int(s.sector_index as u64),
            Cell::Text(&pair),
            Cell::Num(s.leading_weight),
        ]);
    }
    t
}

/// Every state below E_max with M and M′ orbitals, per variant with W on.
fn coulomb_convergence_csv(cr: &CoulombResult) -> Csv {
    let mut t = Csv::new(&[
        "variant",
        "sector",
        "index",
        "M",
        "M'",
        "E(M) [Ha]",
        "E(M') [Ha]",
        "E(M') - E(M) [Ha]",
    ]);
    for v in &cr.variants {
        let Some(c) = &v.convergence else { continue };
        for r in &c.rows {
            t.row(&[
                Cell::Text(&v.label),
                Cell::Text(r.exchange.spin_name()),
                Cell::Int(r.index as u64),
                Cell::Int(c.coarse_orbitals as u64),
                Cell::Int(c.fine_orbitals as u64),
                Cell::Num(r.coarse),
                Cell::Num(r.fine),
                Cell::Num(r.change),
            ]);
        }
    }
    t
}

/// One row per N: the approach to the thermodynamic limit.
fn particles_summary_csv(c: &CaseResult) -> Csv {
    let mut t = Csv::new(&[
        "N",
        "spin",
        "method",
        "E_ground [Ha]",
        "E_max [Ha]",
        "states [-]",
        "occupations [-]",
        "T_KE_intervals [-]",
        "T_KE_largest_drop [Ha]",
        "T_KE_largest_relative_drop [-]",
        "T_KE_drop_from E/N [Ha]",
        "T_KE_drop_to E/N [Ha]",
        "S/N_dent_depth [k_B]",
        "S/N_dent_width E/N [Ha]",
        "canonical_truncation_bound [-]",
    ]);
    for p in &c.particles {
        let n = p.particles as f64;
        let ke = p.nhc.iter().find(|s| s.definition == "T_KE");
        let largest = ke.and_then(|s| crate::physics::thermo::nhc::largest_drop(&s.intervals));
        let spin = match p.spin {
            crate::physics::many_body::Spin::Half => "half",
            crate::physics::many_body::Spin::None => "none",
        };
        t.row(&[
            Cell::Int(p.particles as u64),
            Cell::Text(spin),
            Cell::Text(p.method),
            Cell::Num(p.ground_energy),
            Cell::Num(p.energy_max),
            Cell::Num(p.states),
            Cell::Opt(p.occupations.map(|o| o as f64)),
            Cell::Int(ke.map_or(0, |s| s.intervals.len()) as u64),
            Cell::Opt(largest.map(|i| i.drop)),
            Cell::Opt(largest.map(|i| i.relative_drop)),
            Cell::Opt(largest.map(|i| i.e_start / n)),
            Cell::Opt(largest.map(|i| i.e_end / n)),
            Cell::Num(p.intruder.depth),
            Cell::Num(p.intruder.width),
            Cell::Num(p.canonical_bound),
        ]);
    }
    t
}

fn metadata(result: &StudyResult, figures: &[String]) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = result
        .cases
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "config": c.config,
                "grid": c.spectrum.grid.summary(),
                "solver": c.spectrum.report,
                "levels_computed": c.levels.len(),
                "bound_levels": c.levels.iter().filter(|l| l.energy < 0.0).count(),
                "truncation": c.truncation,
                "nhc_intervals": c.nhc.iter().map(|s| json!({
                    "definition": s.definition,
                    "count": s.intervals.len(),
                    "largest_drop": s.intervals.iter().map(|i| i.drop).fold(0.0, f64::max),
                })).collect::<Vec<_>>(),
                "particles": c.particles.iter().map(|p| json!({
                    "N": p.particles,
                    "spin": p.spin,
                    "method": p.method,
                    "energy_max": p.energy_max,
                    "ground_energy": p.ground_energy,
                    "states": p.states,
                    "occupations": p.occupations,
                    "orbitals_needed": p.orbitals_needed,
                    "canonical_truncation_bound": p.canonical_bound,
                    "entropy_dent": p.intruder,
                    "states_csv": p.occupations.is_some_and(|o| o <= STATES_CSV_LIMIT),
                    "seconds": p.seconds,
                })).collect::<Vec<_>>(),
                "coulomb": c.coulomb.as_ref().map(|cr| json!({
                    "orbitals": cr.orbitals,
                    "level_spacing": cr.level_spacing,
                    "grid_check_max_abs_difference": cr.grid_check.iter().map(|r| r.difference.abs()).fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d)))),
                    "seconds": cr.seconds,
                    "variants": cr.variants.iter().enumerate().map(|(i, v)| json!({
                        "label": v.label,
                        "eps_r": v.eps_r,
                        "ground_energy": v.result.ground_energy,
                        "ground_spin": v.ground_spin,
                        "ground_interaction": v.ground_interaction,
                        "shift": cr.shift(i),
                        "states": v.result.states,
                        "energy_max": v.result.energy_max,
                        "canonical_truncation_estimate": v.result.canonical_bound,
                        "convergence": v.convergence.as_ref().map(|c| json!({
                            "M": c.coarse_orbitals,
                            "M_prime": c.fine_orbitals,
                            "ground_M": c.coarse_ground,
                            "ground_M_prime": c.fine_ground,
                            "max_abs_change_below_energy_max": c.max_abs_change(),
                        })),
                        "seconds": v.result.seconds,
                    })).collect::<Vec<_>>(),
                })),
                "warnings": c.warnings,
                "seconds": {"spectrum": c.spectrum_seconds, "thermodynamics": c.thermo_seconds},
            })
        })
        .collect();
    json!({
        "generator": {"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")},
        "config_file": result.study.path.display().to_string(),
        "units": {
            "energy": "hartree", "temperature": "hartree (k_B = 1)", "length": "bohr",
            "mass": "electron_mass", "entropy": "k_B",
            "hartree_in_ev": HARTREE_IN_EV, "hartree_in_kelvin": HARTREE_IN_KELVIN,
        },
        "conventions": {
            "dimension": 1,
            "T_K": "2<K>_n / (d N)",
            "S": "Hertz entropy ln Omega(E), Omega = number of states with E_i <= E",
            "T_mu": "Delta E / Delta S over distinct levels (see config analysis.difference)",
            "T_C": "canonical temperature with U(T) = E",
            "T_KE": "2 K_E / (d N), K_E = mean <K> over states in [E, E + epsilon)",
        },
        "cases": cases,
        "figures": figures,
        "seconds": result.seconds,
    })
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

/// Draws the figures of a study into the staging area; returns their relative paths.
fn draw_figures(
    result: &StudyResult,
    staging: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let fig_dir = staging.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(io(&fig_dir))?;
    let figure_err = |name: &str| {
        let name = name.to_string();
        move |e: super::plots::PlotError| OutputError::Figure {
            name,
            message: e.to_string(),
        }
    };
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
        kinetic_figure(&fig_dir.join("fig1_kinetic_vs_energy"), &fig1, out)
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
            density_figure(
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
                    label: "T^(K)".into(),
                    x: levels.iter().map(|l| l.energy).collect(),
                    y: levels.iter().map(|l| l.t_kinetic).collect(),
                },
                Series {
                    label: "T^(μ)".into(),
                    x: levels.iter().map(|l| l.energy).collect(),
                    y: levels
                        .iter()
                        .map(|l| l.t_micro.unwrap_or(f64::NAN))
                        .collect(),
                },
                Series {
                    label: "T^(C)".into(),
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
            temperature_figure(
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

/// Figs. 4 and 5 of a case with `[particles]`, and the thermodynamic-limit figure when it has
/// at least three particle numbers.
/// T_E^(K) and S/N versus E/N for N = 2, W off and each ε_r on common axes.
fn coulomb_figures(
    name: &str,
    cr: &CoulombResult,
    fig_dir: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let figure_err = |e: super::plots::PlotError| OutputError::Figure {
        name: "coulomb".into(),
        message: e.to_string(),
    };
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
        y_label: "T_E^(K) (Ha)".into(),
        series: cr
            .variants
            .iter()
            .map(|v| series(v, &|r| r.t_window))
            .collect(),
        log_x: false,
        log_y: false,
    };
    let mut written = xy_figure(
        &fig_dir.join(format!("coulomb_temperature_{name}")),
        &temperature,
        out,
    )
    .map_err(figure_err)?;
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
        entropy_figure(
            &fig_dir.join(format!("coulomb_entropy_{name}")),
            &entropy,
            out,
        )
        .map_err(figure_err)?,
    );
    Ok(written)
}

fn particle_figures(
    c: &CaseResult,
    fig_dir: &Path,
    out: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let figure_err = |name: &'static str| {
        move |e: super::plots::PlotError| OutputError::Figure {
            name: name.to_string(),
            message: e.to_string(),
        }
    };
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
                        label: "T^(K)".into(),
                        x: t.energy.iter().map(|e| e / n).collect(),
                        y: t.t_kinetic.clone(),
                    },
                    None => Series::default(),
                };
                let mut window = per_n(p, &|r| r.t_window);
                window.label = "T_E^(K)".into();
                BranchesPanel {
                    particles: p.particles,
                    states,
                    window,
                }
            })
            .collect(),
    };
    written.extend(
        branches_figure(
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
        entropy_figure(
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
                let ke = p.nhc.iter().find(|s| s.definition == "T_KE")?;
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
            limit_figure(&fig_dir.join(format!("limit_{}", c.name)), &fig, out)
                .map_err(figure_err("limit"))?,
        );
    }
    Ok(written)
}

/// Stages the tables of case `c` under `case_dir` (relative to the staging root).
fn stage_case_tables(
    staging: &mut Staging,
    case_dir: &Path,
    c: &CaseResult,
) -> Result<(), OutputError> {
    staging.write(&case_dir.join("levels.csv"), levels_csv(c).as_str())?;
    staging.write(&case_dir.join("canonical.csv"), canonical_csv(c).as_str())?;
    staging.write(
        &case_dir.join("temperatures.csv"),
        temperatures_csv(c).as_str(),
    )?;
    staging.write(&case_dir.join("nhc.csv"), nhc_csv(c).as_str())?;
    if !c.particles.is_empty() {
        staging.write(
            &case_dir.join("particles.csv"),
            particles_summary_csv(c).as_str(),
        )?;
    }
    if let Some(cr) = &c.coulomb {
        staging.write(&case_dir.join("coulomb.csv"), coulomb_csv(cr).as_str())?;
        staging.write(
            &case_dir.join("coulomb_convergence.csv"),
            coulomb_convergence_csv(cr).as_str(),
        )?;
        if !cr.grid_check.is_empty() {
            let mut t = Csv::new(&[
                "variant",
                "sector",
                "index",
                "E_CI [Ha]",
                "E_grid [Ha]",
                "E_CI - E_grid [Ha]",
                "grid residual [Ha]",
            ]);
            for r in &cr.grid_check {
                t.row(&[
                    Cell::Text(&r.variant),
                    Cell::Text(r.sector),
                    Cell::Int(r.index as u64),
                    Cell::Num(r.ci),
                    Cell::Num(r.grid),
                    Cell::Num(r.difference),
                    Cell::Num(r.grid_residual),
                ]);
            }
            staging.write(&case_dir.join("coulomb_grid_check.csv"), t.as_str())?;
        }
        for v in &cr.variants {
            let dir = case_dir.join("coulomb").join(directory_name(&v.label));
            stage_particle_tables(staging, &dir, &v.result)?;
            staging.write(&dir.join("ci_states.csv"), ci_states_csv(v).as_str())?;
        }
    }
    for p in &c.particles {
        let dir = case_dir.join(format!("N{}", p.particles));
        stage_particle_tables(staging, &dir, p)?;
    }
    Ok(())
}

/// `grid.csv`, `canonical.csv`, `nhc.csv` and (if not too long) `states.csv` of one
/// N-particle result under `dir`.
fn stage_particle_tables(
    staging: &mut Staging,
    dir: &Path,
    p: &ParticleResult,
) -> Result<(), OutputError> {
    staging.write(&dir.join("grid.csv"), particle_grid_csv(p).as_str())?;
    staging.write(
        &dir.join("canonical.csv"),
        particle_canonical_csv(p).as_str(),
    )?;
    let mut t = Csv::new(&NHC_HEADER);
    nhc_rows(&mut t, &p.nhc);
    staging.write(&dir.join("nhc.csv"), t.as_str())?;
    if let Some(table) = &p.per_state {
        if table.energy.len() <= STATES_CSV_LIMIT {
            staging.write(
                &dir.join("states.csv"),
                particle_states_csv(p, table).as_str(),
            )?;
        }
    }
    Ok(())
}

/// Writes one case of a sweep into its own directory `dir` (inside the sweep's output
/// directory, which is locked): its tables, optionally its figures, and `metadata.json` with
/// `extra` under the key `"sweep"`, in one commit (see the module doc); every other file left in
/// `dir` by an earlier run is deleted.
pub fn write_case(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
    extra: serde_json::Value,
) -> Result<Vec<PathBuf>, OutputError> {
    let (parent, name) = match (dir.parent(), dir.file_name()) {
        (Some(p), Some(n)) => (
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            },
            n,
        ),
        _ => {
            return Err(OutputError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other("a case directory needs a parent and a name"),
            })
        }
    };
    let prefix = Path::new(name);
    // Locked (and recovered) before looking at what the directory holds.
    let _lock = OutputLock::acquire(parent)?;
    let old = parent.join(prefix);
    let stale = if old.is_dir() {
        files_under(&old)?
            .into_iter()
            .map(|f| prefix.join(f))
            .collect()
    } else {
        Vec::new()
    };
    write_results(result, parent, prefix, figures, false, Some(extra), stale)
}

/// Stages the tables of every case (in `<case>/` when `case_dirs`, else directly) under
/// `prefix`, the figures and `metadata.json` (with its manifest, and `extra` under `"sweep"`),
/// then commits them into `target` with `metadata.json` as the marker.
fn write_results(
    result: &StudyResult,
    target: &Path,
    prefix: &Path,
    figures: &FigureOutput,
    case_dirs: bool,
    extra: Option<serde_json::Value>,
    stale: Vec<PathBuf>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut staging = Staging::new(target)?;
    for c in &result.cases {
        let case_dir = if case_dirs { c.name.as_str() } else { "" };
        stage_case_tables(&mut staging, &prefix.join(case_dir), c)?;
    }
    let figure_files = if figures.png || figures.svg {
        draw_figures(result, &staging.content().join(prefix), figures)?
    } else {
        Vec::new()
    };
    staging.add(figure_files.iter().map(|f| prefix.join(f)));
    let names: Vec<String> = figure_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut meta = metadata(result, &names);
    meta["files"] = staging.manifest(prefix)?;
    if let Some(extra) = extra {
        meta["sweep"] = extra;
    }
    let marker = prefix.join("metadata.json");
    let meta = serde_json::to_string_pretty(&meta).map_err(|e| OutputError::Io {
        path: target.join(&marker),
        source: std::io::Error::other(e),
    })?;
    staging.write(&marker, &(meta + "\n"))?;
    staging.commit(&marker, stale)
}

/// Writes every table, `metadata.json` and the figures of `result` under `dir` in one commit
/// (see the module doc); the files an earlier run's manifest lists and this run does not write
/// are deleted. Returns the paths written.
pub fn write_study(
    result: &StudyResult,
    dir: &Path,
    figures: &FigureOutput,
) -> Result<Vec<PathBuf>, OutputError> {
    let _lock = OutputLock::acquire(dir)?;
    let stale = manifest_files(dir);
    write_results(result, dir, Path::new(""), figures, true, None, stale)
}
