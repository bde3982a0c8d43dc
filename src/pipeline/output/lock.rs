//! An advisory lock on an output directory, so that two confine processes never write into one
//! `--out` at once.
//!
//! The lock is an OS file lock ([`File::try_lock`]: `flock` on Unix) on `DIR/.confine-lock`,
//! a file that holds the holder's pid, start time and command line for the message of a refused
//! process. The OS releases the lock when its holder exits or is killed, so a lock file left by a
//! killed run is stale by construction: the next run locks it and rewrites it. On release the
//! holder deletes the file while still holding the lock; a process that locked a file that was
//! deleted meanwhile sees that the path no longer names it and tries again.
//!
//! Within one process the lock is re-entrant: [`OutputLock::acquire`] on a directory this
//! process already holds returns another guard of the same lock (the CLI takes the lock before
//! computing, the writers take it again before writing). What must happen once per holding
//! before anyone writes (finishing the commits of a killed writer:
//! [`super::commit::lock_output`]) runs through [`OutputLock::once`]; the lock itself knows
//! nothing of the files. A directory that the acquisition created is removed again on
//! release if nothing was written into it, so a failed run leaves no empty `--out` behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Why an output directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The directory or its lock file could not be created, opened or locked.
    #[error("{}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
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

/// Name of the lock file inside a locked output directory.
pub const LOCK_FILE: &str = ".confine-lock";

/// Held lock on an output directory; released (and the lock file deleted) when the last guard
/// of this process is dropped.
#[derive(Debug, Clone)]
pub struct OutputLock {
    held: Arc<Held>,
}

#[derive(Debug)]
struct Held {
    /// The locked directory (canonical).
    dir: PathBuf,
    /// `dir/.confine-lock`, open and locked.
    file: File,
    /// Directories the acquisition created, deepest first.
    created: Vec<PathBuf>,
    /// Whether the work of [`OutputLock::once`] is done for this holding.
    once_done: Mutex<bool>,
}

/// Locks this process holds, by canonical directory. Also serialises acquisition and release
/// between the threads of this process.
static HELD: Mutex<Vec<(PathBuf, Weak<Held>)>> = Mutex::new(Vec::new());

/// How often to retry when the lock file was deleted or replaced between opening and locking.
const ATTEMPTS: usize = 100;

impl OutputLock {
    /// Creates `dir` if needed and locks it for this process; refuses with
    /// [`LockError::Locked`] (naming the holder) while another process holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io { path, source }
        };
        let mut registry = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        let mut created = Vec::new();
        for _ in 0..ATTEMPTS {
            for d in create_dirs(&std::path::absolute(dir).map_err(io(dir))?).map_err(io(dir))? {
                if !created.contains(&d) {
                    created.push(d);
                }
            }
            let canonical = dir.canonicalize().map_err(io(dir))?;
            registry.retain(|(_, weak)| weak.strong_count() > 0);
            if let Some(held) = registry
                .iter()
                .find(|(d, _)| *d == canonical)
                .and_then(|(_, weak)| weak.upgrade())
            {
                return Ok(Self { held });
            }
            let path = canonical.join(LOCK_FILE);
            let mut file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
            {
                Ok(f) => f,
                // The directory was removed by a holder releasing it: create it again.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    if !names_file(&path, &file) {
                        continue; // the holder is releasing it
                    }
                    let holder = read_record(&mut file);
                    if holder.starts_with(&format!("pid {}\n", std::process::id())) {
                        // Our own last guard is being dropped by another thread, which needs
                        // the registry to finish: let it.
                        drop(registry);
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        registry = HELD.lock().unwrap_or_else(PoisonError::into_inner);
                        continue;
                    }
                    return Err(LockError::Locked {
                        dir: dir.to_path_buf(),
                        holder: describe_holder(&holder),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
            if !names_file(&path, &file) {
                continue; // we locked a file its holder deleted on release
            }
            file.set_len(0).map_err(io(&path))?;
            file.write_all(holder_record().as_bytes())
                .map_err(io(&path))?;
            created.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            let held = Arc::new(Held {
                dir: canonical.clone(),
                file,
                created,
                once_done: Mutex::new(false),
            });
            registry.push((canonical, Arc::downgrade(&held)));
            return Ok(Self { held });
        }
        Err(LockError::Io {
            path: dir.join(LOCK_FILE),
            source: std::io::Error::other(format!(
                "the lock file kept disappearing while taking it ({ATTEMPTS} attempts)"
            )),
        })
    }

    /// The locked directory (canonical path).
    pub fn dir(&self) -> &Path {
        &self.held.dir
    }

    /// Runs `f` on the locked directory once per holding of the lock: the first caller runs it
    /// while later callers (other guards of this process) wait for it; after a failure the next
    /// caller runs it again.
    pub fn once<E>(&self, f: impl FnOnce(&Path) -> Result<(), E>) -> Result<(), E> {
        let mut done = self
            .held
            .once_done
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !*done {
            f(&self.held.dir)?;
            *done = true;
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _registry = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        // Delete while still locked, so that nobody can lock this file and think it current.
        let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
        let _ = self.file.unlock();
        for d in &self.created {
            // Fails (and stops) at the first directory that holds something.
            if std::fs::remove_dir(d).is_err() {
                break;
            }
        }
    }
}

/// The holder's record in the lock `file`. A holder writes it right after locking; if it is not
/// there yet, wait for it a little (up to 0.25 s) so that the refusal can name the holder.
fn read_record(file: &mut File) -> String {
    let mut record = String::new();
    for _ in 0..50 {
        record.clear();
        let read = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut record));
        if read.is_err() || (record.contains("\ncommand ") && record.ends_with('\n')) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    record
}

/// Creates `dir` and its missing parents; returns the directories that did not exist.
fn create_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut p = dir;
    while !p.as_os_str().is_empty() && !p.exists() {
        missing.push(p.to_path_buf());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    Ok(missing)
}

/// True when `path` still names the open `file` (it was not deleted or replaced).
#[cfg(unix)]
fn names_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// True when `path` still names the open `file` (without inode numbers: when it exists).
#[cfg(not(unix))]
fn names_file(path: &Path, _file: &File) -> bool {
    path.exists()
}

/// What the lock file says about its holder: pid, start time (UTC) and command line.
fn holder_record() -> String {
    let command: Vec<String> = std::env::args_os()
        .enumerate()
        .map(|(i, a)| {
            let a = Path::new(&a);
            // The program by its name, not its full path.
            let shown = if i == 0 {
                a.file_name().map_or(a.as_os_str(), |n| n)
            } else {
                a.as_os_str()
            };
            shown.to_string_lossy().into_owned()
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "pid {}\nstarted {}\ncommand {}\n",
        std::process::id(),
        utc_time(now),
        command.join(" ")
    )
}

/// The holder as the lock file describes it, for the message of a refused process.
fn describe_holder(record: &str) -> String {
    let field = |name: &str| {
        record
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    match (field("pid "), field("started "), field("command ")) {
        (Some(pid), started, command) => {
            let mut s = format!("pid {pid}");
            if let Some(t) = started {
                s.push_str(&format!(", started {t}"));
            }
            if let Some(c) = command {
                s.push_str(&format!(", command `{c}`"));
            }
            s
        }
        _ => "a process that is just starting".to_string(),
    }
}

/// `seconds` since 1970-01-01 UTC as `YYYY-MM-DD hh:mm:ss UTC` (proleptic Gregorian calendar).
fn utc_time(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Days to civil date (H. Hinnant's algorithm): eras of 400 years from 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc_time;

    #[test]
    fn utc_time_matches_known_dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
