//! The commit protocol of an output directory: every file confine writes goes through a
//! `Staging` area and one commit, and [`lock_output`] (the lock plus recovery of killed
//! writers) is the only way a writer takes a directory.
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
//! process that takes the lock on `OUT` (any `run` or `merge` into it, through [`lock_output`])
//! first deletes every `.staging-*` and repeats step 3 from every `.commit-*` journal
//! ([`recover`]; step 3 is
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
use super::{io, OutputError};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The points where the `CONFINE_FAULT` test hook can abort the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Before a staged table write.
    Write = 0,
    /// Before a commit rename.
    Rename = 1,
}

/// Locks `dir` for this process ([`OutputLock::acquire`], re-entrant) and, once per holding
/// of the lock, finishes the commits a killed writer left in it and removes its
/// staging areas ([`recover`]): only with the lock held is nobody else writing there.
pub fn lock_output(dir: &Path) -> Result<OutputLock, OutputError> {
    let lock = OutputLock::acquire(dir)?;
    lock.once(recover)?;
    Ok(lock)
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
        let lock = lock_output(target)?;
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
    pub(crate) fn write(
        &mut self,
        relative: &Path,
        contents: impl AsRef<[u8]>,
    ) -> Result<(), OutputError> {
        fault_point(Fault::Write);
        let path = self.content().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, contents).map_err(io(&path))?;
        self.files.push(relative.to_path_buf());
        Ok(())
    }

    /// Records files already written under [`Staging::content`] (figures).
    pub(crate) fn add(&mut self, relative: impl IntoIterator<Item = PathBuf>) {
        self.files.extend(relative);
    }

    /// The `files` manifest of `metadata.json` for the staged files under `prefix`: path
    /// (relative to `prefix`, `/`-separated), size in bytes and FNV-1a hash, sorted by path.
    pub(crate) fn manifest(&self, prefix: &Path) -> Result<serde_json::Value, OutputError> {
        // Each file is read back and hashed on its own: in parallel.
        let mut entries = self
            .files
            .par_iter()
            .filter_map(|rel| rel.strip_prefix(prefix).ok().map(|inner| (rel, inner)))
            .map(|(rel, inner)| {
                let path = self.content().join(rel);
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                Ok((
                    slash_path(inner),
                    bytes.len(),
                    format!("{:016x}", crate::hash::fnv1a(&bytes)),
                ))
            })
            .collect::<Result<Vec<_>, OutputError>>()?;
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
pub(crate) fn files_under(root: &Path) -> Result<Vec<PathBuf>, OutputError> {
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
/// [`lock_output`], whose lock guarantees that no such writer is still running.
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

/// Why an output directory is not complete (see [`verified_metadata`]).
#[derive(Debug, thiserror::Error)]
pub enum IncompleteOutput {
    /// `metadata.json` is missing or unreadable.
    #[error("metadata.json cannot be read")]
    Unreadable(#[source] std::io::Error),
    /// `metadata.json` does not parse.
    #[error("metadata.json is not valid JSON")]
    NotJson(#[source] serde_json::Error),
    /// `metadata.json` of an older confine, without a manifest.
    #[error("metadata.json has no file manifest (written by an older confine)")]
    NoManifest,
    /// A manifest entry without path, size or hash (the entry as JSON).
    #[error("metadata.json has a bad manifest entry: {0}")]
    BadEntry(String),
    /// A manifest path that leaves the directory.
    #[error("metadata.json lists the bad path {0}")]
    BadPath(String),
    /// A listed file that cannot be read.
    #[error("{name}")]
    MissingFile {
        /// The file, as the manifest names it.
        name: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A listed file of another size than recorded.
    #[error("{name} has {bytes} bytes, metadata.json records {recorded}")]
    Size {
        /// The file, as the manifest names it.
        name: String,
        /// Its size now (bytes).
        bytes: u64,
        /// The recorded size (bytes).
        recorded: u64,
    },
    /// A listed file whose content differs from the recorded hash.
    #[error("{name} differs from the file metadata.json records (hash)")]
    Hash {
        /// The file, as the manifest names it.
        name: String,
    },
}

/// The `metadata.json` of output directory `dir` when the directory is complete: every file of
/// its manifest present with the recorded size and hash. Otherwise what is wrong.
pub fn verified_metadata(dir: &Path) -> Result<serde_json::Value, IncompleteOutput> {
    let text =
        std::fs::read_to_string(dir.join("metadata.json")).map_err(IncompleteOutput::Unreadable)?;
    let meta: serde_json::Value = serde_json::from_str(&text).map_err(IncompleteOutput::NotJson)?;
    let files = meta["files"]
        .as_array()
        .ok_or(IncompleteOutput::NoManifest)?;
    for f in files {
        let (Some(name), Some(recorded), Some(hash)) = (
            f["path"].as_str(),
            f["bytes"].as_u64(),
            f["fnv1a64"].as_str(),
        ) else {
            return Err(IncompleteOutput::BadEntry(f.to_string()));
        };
        let rel = inner_path(name).ok_or_else(|| IncompleteOutput::BadPath(name.to_string()))?;
        let data =
            std::fs::read(dir.join(rel)).map_err(|source| IncompleteOutput::MissingFile {
                name: name.to_string(),
                source,
            })?;
        if data.len() as u64 != recorded {
            return Err(IncompleteOutput::Size {
                name: name.to_string(),
                bytes: data.len() as u64,
                recorded,
            });
        }
        if format!("{:016x}", crate::hash::fnv1a(&data)) != hash {
            return Err(IncompleteOutput::Hash {
                name: name.to_string(),
            });
        }
    }
    Ok(meta)
}

/// The files (relative to `dir`) that `dir/metadata.json`'s manifest lists, without checking
/// them; empty when there is no readable manifest.
pub(crate) fn manifest_files(dir: &Path) -> Vec<PathBuf> {
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
