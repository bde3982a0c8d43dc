//! Memory guards: one estimate per unit of work, checked against one limit before allocating.
//!
//! Every piece of work whose size the user chooses (the grid × the levels, nested grids of a
//! convergence study, an enumeration of N-particle states, a CI basis, the 2-D grid check, the
//! temperature and energy tables, a tabulated potential) has a memory model here: an [`Estimate`]
//! holds an upper bound of the bytes the work allocates at its peak, what the work is, the config
//! key that sizes it, and which settings would fit a given amount of memory. [`check`] compares it
//! with the [`MemoryLimit`] before anything is allocated and refuses with a [`ResourceError`]
//! naming the key, the bytes and a setting that fits.
//!
//! The limit is configured once (`[resources] memory_limit = "16 GiB"` in the config, or the
//! CLI's `--memory-limit`), defaults to [`DEFAULT_FRACTION`] of the machine's physical memory and
//! is never above that physical memory ([`Physical`]: `/proc/meminfo` MemTotal, a cgroup
//! `memory.max` (v2) or `memory.limit_in_bytes` (v1), and the address-space rlimit `ulimit -v`).
//!
//! The models count 8-byte floats of every buffer that lives at the peak of the work, with the
//! copies the algorithms make (the eigen-solver's column buffer, its reordered copies and the
//! amplitudes; the growth of vectors of unknown final length), so they are upper bounds; the
//! test suite measures the real peak with a counting allocator and checks that it stays below.

use std::fmt;
use std::sync::{Arc, OnceLock};
use thiserror::Error;

/// Fraction of the physical memory the default limit allows.
pub const DEFAULT_FRACTION: f64 = 0.8;

/// The default limit when the physical memory cannot be read (bytes): 4 GiB.
pub const FALLBACK_LIMIT: u64 = 4 << 30;

/// Levels above the k-th that the eigen-solver may carry in its column buffer when a cluster of
/// nearly degenerate levels straddles the k-th.
pub const CLUSTER_SLACK: usize = 8;

/// Fixed allowance of every estimate for small bookkeeping (bytes): 1 MiB.
const BASE_BYTES: f64 = 1048576.0;

const F64: f64 = 8.0;

/// Settings that would make a unit of work fit in a number of bytes (`available`), as text such
/// as `"solve.levels <= 30"`.
type Fits = Arc<dyn Fn(u64) -> Vec<String> + Send + Sync>;

/// An upper bound of the memory one unit of work needs, with the key that sizes it.
#[derive(Clone)]
pub struct Estimate {
    /// The config key (or CLI option) that sizes the work, e.g. `solve.levels`.
    pub key: String,
    /// What the work is, e.g. "the spectrum (200 levels on 40000000 nodes)".
    pub what: String,
    /// Peak bytes (upper bound).
    pub bytes: u64,
    fits: Fits,
}

impl fmt::Debug for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Estimate")
            .field("key", &self.key)
            .field("what", &self.what)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Estimate {
    /// An estimate of `bytes` for `what`, sized by `key`, with no suggestion of what would fit.
    pub fn new(key: impl Into<String>, what: impl Into<String>, bytes: u64) -> Self {
        Self {
            key: key.into(),
            what: what.into(),
            bytes,
            fits: Arc::new(|_| Vec::new()),
        }
    }

    /// The same estimate with `fits`, which lists the settings that need at most a given number
    /// of bytes.
    pub fn with_fits(mut self, fits: impl Fn(u64) -> Vec<String> + Send + Sync + 'static) -> Self {
        self.fits = Arc::new(fits);
        self
    }

    /// The same work plus a fixed `bytes` that no setting of it changes (e.g. the threads'
    /// matrix-product scratch): counted in the estimate, taken off the memory its fits may use.
    pub fn plus_fixed(mut self, bytes: u64) -> Self {
        self.bytes = self.bytes.saturating_add(bytes);
        let fits = self.fits.clone();
        self.fits = Arc::new(move |available| fits(available.saturating_sub(bytes)));
        self
    }

    /// Settings of this work that would need at most `available` bytes.
    pub fn fits(&self, available: u64) -> Vec<String> {
        (self.fits)(available)
    }
}

/// The memory a run may use, and where that number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: u64,
    /// Where it comes from, e.g. "80% of the 23.5 GiB of physical memory" or
    /// "--memory-limit 4 GiB".
    pub origin: String,
    /// The setting that raises it, for messages ([`RUN_LIMIT`] for the run's limit).
    pub setting: &'static str,
}

/// The settings of a run's memory limit.
pub const RUN_LIMIT: &str = "[resources] memory_limit or --memory-limit";

impl fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", human(self.bytes), self.origin)
    }
}

/// A unit of work that does not fit in the memory limit (boxed: errors stay small).
#[derive(Debug, Clone, Error)]
#[error("{}", refusal(&.0.estimate, &.0.limit, .0.held))]
pub struct ResourceError(pub Box<Refusal>);

/// What a [`ResourceError`] refused.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The refused work.
    pub estimate: Estimate,
    /// The limit it was checked against.
    pub limit: MemoryLimit,
    /// Bytes already held by earlier stages of the same run.
    pub held: u64,
}

fn refusal(e: &Estimate, limit: &MemoryLimit, held: u64) -> String {
    let available = limit.bytes.saturating_sub(held);
    let mut text = format!(
        "{}: {} needs {} bytes ({}), more than the memory limit of {}",
        e.key,
        e.what,
        e.bytes,
        human(e.bytes),
        limit
    );
    if held > 0 {
        text.push_str(&format!(
            " minus the {} ({} bytes) held by the rest of the run",
            human(held),
            held
        ));
    }
    let fits = e.fits(available);
    if fits.is_empty() {
        text.push_str(&format!(
            "; make the work smaller or raise the limit ({})",
            limit.setting
        ));
    } else {
        text.push_str(&format!(
            "; {} would fit (or raise the limit: {})",
            fits.join(" or "),
            limit.setting
        ));
    }
    text
}

/// Refuses `estimate` when it needs more than `limit`.
pub fn check(estimate: &Estimate, limit: &MemoryLimit) -> Result<(), ResourceError> {
    check_held(estimate, limit, 0)
}

/// Refuses `estimate` when it needs more than `limit` minus `held` bytes that the run already
/// holds.
pub fn check_held(
    estimate: &Estimate,
    limit: &MemoryLimit,
    held: u64,
) -> Result<(), ResourceError> {
    if estimate.bytes.saturating_add(held) <= limit.bytes {
        Ok(())
    } else {
        Err(ResourceError(Box::new(Refusal {
            estimate: estimate.clone(),
            limit: limit.clone(),
            held,
        })))
    }
}

/// What a run may still allocate: the limit, the bytes its planned work holds, and the work
/// admitted since (shared by the clones of a budget, so every stage of a run adds to one count).
#[derive(Debug, Clone)]
pub struct Budget {
    /// The run's limit.
    pub limit: MemoryLimit,
    /// Bytes of the planned work (bytes).
    pub held: u64,
    admitted: Arc<std::sync::atomic::AtomicU64>,
}

impl Budget {
    /// A budget of `limit` of which `held` bytes are taken by the planned work.
    pub fn new(limit: MemoryLimit, held: u64) -> Self {
        Self {
            limit,
            held,
            admitted: Arc::default(),
        }
    }

    /// A budget with no limit (for library calls that do not size their work by a config).
    pub fn unlimited() -> Self {
        Self::new(
            MemoryLimit {
                bytes: u64::MAX,
                origin: "no limit".to_string(),
                setting: RUN_LIMIT,
            },
            0,
        )
    }

    /// Bytes accounted for: the planned work plus every estimate admitted so far.
    pub fn accounted(&self) -> u64 {
        self.held
            .saturating_add(self.admitted.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Admits `estimate` when it fits in the limit minus what is accounted for (and counts it
    /// from then on), refuses it otherwise.
    pub fn admit(&self, estimate: &Estimate) -> Result<(), ResourceError> {
        check_held(estimate, &self.limit, self.accounted())?;
        self.admitted
            .fetch_add(estimate.bytes, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// `bytes` in binary units with one decimal ("61.1 GiB", "512.0 MiB", "100 B").
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Parses a memory size such as "4 GiB", "500 MB", "1e9 B" or "16GiB" into bytes (at least 1).
pub fn parse_memory(text: &str) -> Option<u64> {
    let (number, unit) = crate::model::units::split_number(text)?;
    let factor = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1048576.0,
        "GiB" => 1073741824.0,
        "TiB" => 1099511627776.0,
        _ => return None,
    };
    let bytes = number * factor;
    (1.0..1.8e19).contains(&bytes).then_some(bytes as u64)
}

/// What the machine allows this process (bytes); `None` where unknown or unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Physical {
    /// MemTotal of `/proc/meminfo`.
    pub total: Option<u64>,
    /// The cgroup's memory limit (v2 `memory.max` or v1 `memory.limit_in_bytes`).
    pub cgroup: Option<u64>,
    /// Headroom under the address-space rlimit (`ulimit -v`): the limit minus the virtual size
    /// the process had when it was read.
    pub address_space: Option<u64>,
}

impl Physical {
    /// Reads the machine's limits once per process (Linux; elsewhere everything is `None`).
    pub fn detect() -> Self {
        static DETECTED: OnceLock<Physical> = OnceLock::new();
        *DETECTED.get_or_init(|| Physical {
            total: meminfo_total(),
            cgroup: cgroup_limit(),
            address_space: address_space_headroom(),
        })
    }

    /// The smallest of the known limits (bytes).
    pub fn bytes(&self) -> Option<u64> {
        [self.total, self.cgroup, self.address_space]
            .into_iter()
            .flatten()
            .min()
    }

    /// Which limit [`Self::bytes`] is, for messages.
    pub fn describe(&self) -> String {
        match self.bytes() {
            None => "physical memory unknown".to_string(),
            Some(b) if Some(b) == self.address_space => {
                format!("{} of address space left under ulimit -v", human(b))
            }
            Some(b) if Some(b) == self.cgroup && self.cgroup != self.total => {
                format!("{} cgroup memory limit", human(b))
            }
            Some(b) => format!("{} of physical memory", human(b)),
        }
    }
}

/// Resolves the run's memory limit: `configured` (bytes and the setting it came from, e.g.
/// `--memory-limit 4 GiB`) capped at the physical memory, or by default [`DEFAULT_FRACTION`] of
/// the physical memory ([`FALLBACK_LIMIT`] when that is unknown).
pub fn resolve_limit(configured: Option<(u64, &str)>, physical: &Physical) -> MemoryLimit {
    match (configured, physical.bytes()) {
        (Some((bytes, origin)), Some(cap)) if bytes > cap => MemoryLimit {
            bytes: cap,
            origin: format!("{origin}, capped at the {}", physical.describe()),
            setting: RUN_LIMIT,
        },
        (Some((bytes, origin)), _) => MemoryLimit {
            bytes,
            origin: origin.to_string(),
            setting: RUN_LIMIT,
        },
        (None, Some(cap)) => MemoryLimit {
            bytes: (cap as f64 * DEFAULT_FRACTION) as u64,
            origin: format!(
                "the default, {:.0}% of the {}",
                100.0 * DEFAULT_FRACTION,
                physical.describe()
            ),
            setting: RUN_LIMIT,
        },
        (None, None) => MemoryLimit {
            bytes: FALLBACK_LIMIT,
            origin: "the default when the physical memory is unknown".to_string(),
            setting: RUN_LIMIT,
        },
    }
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A cgroup limit as written in its file: "max" and the v1 "unlimited" value (≥ 2^62) are none.
fn cgroup_value(path: &std::path::Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: u64 = text.trim().parse().ok()?;
    (v < 1 << 62).then_some(v)
}

fn cgroup_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let root = std::path::Path::new("/sys/fs/cgroup");
    let mut limits = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        // Every ancestor's limit applies too; inside a container the path may not exist, and
        // the mount root is the container's own cgroup.
        let ancestors = std::path::Path::new(path)
            .ancestors()
            .map(|p| p.to_path_buf())
            .collect::<Vec<_>>();
        if controllers.is_empty() {
            for base in [root.to_path_buf(), root.join("unified")] {
                limits.extend(
                    ancestors
                        .iter()
                        .filter_map(|a| cgroup_value(&base.join(a).join("memory.max"))),
                );
            }
        } else if controllers.split(',').any(|c| c == "memory") {
            let base = root.join("memory");
            limits.extend(
                ancestors
                    .iter()
                    .filter_map(|a| cgroup_value(&base.join(a).join("memory.limit_in_bytes"))),
            );
        }
    }
    limits.into_iter().min()
}

fn address_space_headroom() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft: u64 = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let vm_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmSize:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(soft.saturating_sub(vm_kib * 1024))
}

/// The run's memory limit from an optional configured size (bytes, with the setting it came
/// from), resolved against this machine ([`Physical::detect`]).
pub fn limit(configured: Option<(u64, &str)>) -> MemoryLimit {
    resolve_limit(configured, &Physical::detect())
}

// ---------------------------------------------------------------------------------------------
// Memory models (bytes, upper bounds).

/// Scratch the matrix-product kernels keep per thread once a thread has multiplied matrices
/// (bytes): faer's x86 GEMM holds two buffers of the size of the last-level cache for the life
/// of the thread. The cache size comes from sysfs; 64 MiB when it cannot be read.
pub fn gemm_scratch_bytes() -> u64 {
    static SCRATCH: OnceLock<u64> = OnceLock::new();
    *SCRATCH.get_or_init(|| {
        2 * last_level_cache()
            .unwrap_or(64 << 20)
            .next_multiple_of(4096)
    })
}

fn last_level_cache() -> Option<u64> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let mut largest: Option<(u32, u64)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok();
        let (Some(level), Some(size)) = (read("level"), read("size")) else {
            continue;
        };
        let Ok(level) = level.trim().parse::<u32>() else {
            continue;
        };
        let size = size.trim();
        let (digits, factor) = match size.strip_suffix('K') {
            Some(d) => (d, 1024),
            None => match size.strip_suffix('M') {
                Some(d) => (d, 1 << 20),
                None => (size, 1),
            },
        };
        let Ok(bytes) = digits.parse::<u64>() else {
            continue;
        };
        if largest.is_none_or(|(l, _)| level > l) {
            largest = Some((level, bytes * factor));
        }
    }
    largest.map(|(_, b)| b)
}

fn to_bytes(x: f64) -> u64 {
    if x.is_finite() && x < u64::MAX as f64 {
        x.ceil() as u64
    } else {
        u64::MAX
    }
}

/// Largest `x` in `1..=hi` with `bytes(x) <= available` (bytes non-decreasing in x), if any.
fn largest_fitting(hi: u64, available: u64, bytes: impl Fn(u64) -> u64) -> Option<u64> {
    if hi == 0 || bytes(1) > available {
        return None;
    }
    let (mut lo, mut hi) = (1u64, hi);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if bytes(mid) <= available {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// Peak bytes of solving `levels` levels on `nodes` interior nodes ([`crate::spectrum::solve`])
/// with a potential of `pieces` pieces, on `threads` worker threads: the grid and Hamiltonian
/// (16 vectors of n at most), the eigen-solver's column buffer (k + [`CLUSTER_SLACK`] columns)
/// with either the bases of the clusters (at most as many columns) or its two reordered copies
/// (2k), the per-thread workspaces, the blocked Gram matrices (k² per 4096 rows); the amplitudes
/// (k columns) come when only the k eigenvectors are left, and the level records. The threads'
/// matrix-product scratch is not included: it is taken once per thread for the life of the
/// process ([`scratch_estimate`]).
pub fn spectrum_bytes(nodes: usize, levels: usize, pieces: usize, threads: usize) -> u64 {
    let n = nodes as f64;
    let k = levels as f64;
    let p = pieces as f64;
    let t = threads.max(1) as f64;
    let columns = (k + CLUSTER_SLACK as f64).min(n.max(k));
    let vectors = columns + columns.max(2.0 * k);
    let per_node = 16.0 + vectors + 12.0 * t;
    let gram = k * k * ((n / 4096.0).ceil() + 4.0);
    let records = k * (160.0 + 16.0 * p);
    to_bytes(F64 * (n * per_node + gram + 2.0 * p) + records + BASE_BYTES)
}

/// The matrix-product scratch of `threads` worker threads plus the calling thread
/// ([`gemm_scratch_bytes`] each): taken once, by the first products large enough to use it.
pub fn scratch_estimate(threads: usize) -> Estimate {
    let per = gemm_scratch_bytes();
    let workers = threads.max(1);
    Estimate::new(
        "the number of threads (RAYON_NUM_THREADS)",
        format!("the matrix-product scratch of {} threads", workers + 1),
        (workers as u64 + 1).saturating_mul(per),
    )
    .with_fits(move |available| {
        let fit = (available / per.max(1)).saturating_sub(1);
        if (1..workers as u64).contains(&fit) {
            vec![format!("RAYON_NUM_THREADS={fit}")]
        } else {
            Vec::new()
        }
    })
}

/// Bytes a computed spectrum keeps (its amplitudes, grid and level records) while the rest of a
/// case runs.
pub fn spectrum_result_bytes(nodes: usize, levels: usize, pieces: usize) -> u64 {
    let (n, k, p) = (nodes as f64, levels as f64, pieces as f64);
    to_bytes(F64 * (n * (k + 4.0)) + k * (160.0 + 16.0 * p))
}

/// The spectrum of `levels` levels on `nodes` interior nodes (grid spacing `spacing` in a box of
/// half-width `box_half_width`, bohr; `segments` uniform segments), as an [`Estimate`] whose fits
/// are fewer levels or a coarser spacing.
pub fn spectrum_estimate(
    nodes: usize,
    levels: usize,
    pieces: usize,
    grid: GridSize,
    levels_key: &str,
) -> Estimate {
    let threads = rayon::current_num_threads();
    let bytes = spectrum_bytes(nodes, levels, pieces, threads);
    let key = levels_key.to_string();
    Estimate::new(
        format!("{levels_key} and grid.spacing"),
        format!("the spectrum ({levels} levels on {nodes} nodes)"),
        bytes,
    )
    .with_fits(move |available| {
        let mut fits = Vec::new();
        if let Some(k) = largest_fitting(levels as u64, available, |k| {
            spectrum_bytes(nodes, k as usize, pieces, threads)
        }) {
            if (k as usize) < levels {
                fits.push(format!("{key} <= {k}"));
            }
        }
        if let Some(spacing) = grid.spacing_for(available, levels, |n| {
            spectrum_bytes(n, levels, pieces, threads)
        }) {
            fits.push(format!("grid.spacing >= {spacing} bohr"));
        }
        fits
    })
}

/// How a grid's node count follows its spacing: n(h) ≤ 2L/h + segments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSize {
    /// Box half-width L (bohr).
    pub box_half_width: f64,
    /// The requested spacing (bohr).
    pub spacing: f64,
    /// Number of uniform segments (breakpoints + 1).
    pub segments: usize,
    /// Interior nodes at the requested spacing.
    pub nodes: usize,
}

impl GridSize {
    /// A spacing (bohr, rounded up to two significant digits) whose grid has few enough nodes
    /// that `bytes(nodes) <= available` but at least `min_nodes` of them, if one coarser than
    /// the current spacing exists.
    pub fn spacing_for(
        &self,
        available: u64,
        min_nodes: usize,
        bytes: impl Fn(usize) -> u64,
    ) -> Option<f64> {
        let n = largest_fitting(self.nodes as u64, available, |n| bytes(n as usize))? as f64;
        if n as usize >= self.nodes || (n as usize) < min_nodes.saturating_add(self.segments + 1) {
            return None;
        }
        // Σ ⌈ℓ_j / h⌉ − 1 ≤ 2L/h + segments nodes: solve 2L/h + segments <= n for h.
        let room = n - self.segments as f64;
        if room < 1.0 {
            return None;
        }
        let h = round_up_2(2.0 * self.box_half_width / room);
        (h <= self.box_half_width && h > self.spacing).then_some(h)
    }
}

/// `x` rounded up to two significant digits.
pub fn round_up_2(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    let r = (x / scale).ceil() * scale;
    // Printing with two significant digits must not round back below x.
    let printed: f64 = format!("{r:.1e}").parse().unwrap_or(r);
    if printed >= x {
        printed
    } else {
        r
    }
}

/// `x` rounded down to two significant digits.
pub fn round_down_2(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    let r = (x / scale).floor() * scale;
    let printed: f64 = format!("{r:.1e}").parse().unwrap_or(r);
    if printed <= x {
        printed
    } else {
        r
    }
}

/// Interior nodes of grid r of a nested sequence whose first grid has `nodes` interior nodes:
/// (nodes + 1)·2^r − 1, as f64 (it may exceed every integer type).
pub fn refined_nodes(nodes: usize, r: usize) -> f64 {
    (nodes as f64 + 1.0) * 2f64.powi(r.min(2000) as i32) - 1.0
}

/// The nested grids h, h/2, …, h/2^(R−1) of `converge` / `validate --refinements R`: the finest
/// grid's spectrum dominates; fits are fewer refinements or a coarser starting spacing.
pub fn refinements_estimate(
    refinements: usize,
    minimum: usize,
    levels: usize,
    pieces: usize,
    grid: GridSize,
) -> Estimate {
    let threads = rayon::current_num_threads();
    let finest = move |r: usize| refined_nodes(grid.nodes, r.saturating_sub(1));
    let bytes_of = move |r: usize| -> u64 {
        let n = finest(r);
        if n > usize::MAX as f64 / 2.0 {
            return u64::MAX;
        }
        let n = n as usize;
        // The records of the coarser grids are kept (a few values per level and grid).
        spectrum_bytes(n, levels, pieces, threads).saturating_add((r * levels * 64) as u64)
    };
    let nodes = finest(refinements);
    Estimate::new(
        "--refinements",
        format!("{refinements} nested grids ({levels} levels on {nodes:.0} nodes on the finest)"),
        bytes_of(refinements),
    )
    .with_fits(move |available| {
        let mut fits = Vec::new();
        if let Some(r) = largest_fitting(refinements as u64, available, |r| bytes_of(r as usize)) {
            if r as usize >= minimum && (r as usize) < refinements {
                fits.push(format!("--refinements {r}"));
            }
        }
        let scale = 2f64.powi(refinements.saturating_sub(1).min(2000) as i32);
        let finest_grid = GridSize {
            spacing: grid.spacing / scale,
            nodes: nodes.min(usize::MAX as f64) as usize,
            ..grid
        };
        if let Some(h) = finest_grid.spacing_for(available, levels, |n| {
            spectrum_bytes(n, levels, pieces, threads)
        }) {
            let start = round_up_2(h * scale);
            if start <= grid.box_half_width {
                fits.push(format!("grid.spacing >= {start} bohr"));
            }
        }
        fits
    })
}

/// Bytes per enumerated state of N particles at the peak of the enumeration and its per-state
/// thermodynamics (an upper bound): the emitted energies, kinetic energies, multiplicities and
/// N orbital indices, the sort keys and the sorted copies, the state list and the per-state
/// table (T^(K), S, T^(μ), occupations) being built.
pub fn bytes_per_state(particles: usize) -> u64 {
    240 + 24 * particles as u64
}

/// Bytes per state that an enumeration of N particles keeps once it is done (the per-state
/// table: E, K, multiplicity, T^(K), S, T^(μ), N occupations).
pub fn bytes_per_kept_state(particles: usize) -> u64 {
    64 + 8 * particles as u64
}

/// Bytes per unit of the state limit for enumerating every N of `counts` (N-particle numbers)
/// one after the other: the states every N keeps, plus the peak of the largest enumeration.
fn bytes_per_state_limit(counts: &[usize]) -> u64 {
    let kept: u64 = counts.iter().map(|&n| bytes_per_kept_state(n)).sum();
    let peak = counts
        .iter()
        .map(|&n| bytes_per_state(n) - bytes_per_kept_state(n))
        .max()
        .unwrap_or(0);
    (kept + peak).max(1)
}

/// The enumerations of the particle numbers `counts`, each capped at `state_limit`
/// occupations: sized by `particles.state_limit`.
pub fn enumeration_estimate(counts: &[usize], state_limit: usize) -> Estimate {
    let per = bytes_per_state_limit(counts);
    let what = format!(
        "enumerating up to {state_limit} states for N = {counts:?} ({per} bytes per state of the limit: the states each N keeps and the peak of the largest)"
    );
    Estimate::new(
        "particles.state_limit",
        what,
        (state_limit as u64).saturating_mul(per),
    )
    .with_fits(move |available| {
        let fit = available / per;
        if fit >= 1 {
            vec![
                format!("particles.state_limit <= {fit}"),
                "particles.method = \"binned\"".to_string(),
            ]
        } else {
            vec!["particles.method = \"binned\"".to_string()]
        }
    })
}

/// The largest state limit whose enumerations of the particle numbers `counts` fit in
/// `available` bytes.
pub fn state_limit_for(counts: &[usize], available: u64) -> usize {
    (available / bytes_per_state_limit(counts)).min(usize::MAX as u64) as usize
}

/// Peak bytes of the two-electron CI on `nodes` grid nodes with M = `orbitals` and the
/// integrals computed for M′ = `basis` ≥ M orbitals, without parity blocks (their absence is the
/// worst case): the pair densities and their potentials (2·n·D′, D′ = M′(M′+1)/2), the integrals
/// G (D′²) and one rescaled copy per variant, the largest CI block of M (three d² buffers of
/// d = M(M+1)/2), and the one of M′ for the convergence check.
pub fn ci_bytes(nodes: usize, orbitals: usize, basis: usize) -> u64 {
    let n = nodes as f64;
    let pairs = |m: usize| m as f64 * (m as f64 + 1.0) / 2.0;
    let (d, dp) = (pairs(orbitals), pairs(basis.max(orbitals)));
    let integrals = 2.0 * n * dp + 512.0 * n;
    let stored = 2.0 * dp * dp;
    let blocks = 3.0 * d.max(dp) * d.max(dp);
    let states = 64.0 * dp;
    to_bytes(F64 * (integrals.max(blocks) + stored + states) + BASE_BYTES)
}

/// The CI of `[coulomb]`, sized by `coulomb.orbitals` (and `coulomb.check_orbitals`).
pub fn ci_estimate(nodes: usize, orbitals: usize, check_orbitals: Option<usize>) -> Estimate {
    let basis = check_orbitals.unwrap_or(orbitals);
    let key = if check_orbitals.is_some() {
        "coulomb.orbitals and coulomb.check_orbitals"
    } else {
        "coulomb.orbitals"
    };
    Estimate::new(
        key,
        format!(
            "the two-electron CI (M = {orbitals}{} orbitals on {nodes} nodes)",
            check_orbitals.map_or(String::new(), |m| format!(", M' = {m}"))
        ),
        ci_bytes(nodes, orbitals, basis),
    )
    .with_fits(move |available| match check_orbitals {
        None => largest_fitting(orbitals as u64, available, |m| {
            ci_bytes(nodes, m as usize, m as usize)
        })
        .filter(|&m| (m as usize) < orbitals)
        .map(|m| vec![format!("coulomb.orbitals <= {m}")])
        .unwrap_or_default(),
        Some(fine) => largest_fitting(fine as u64, available, |m| {
            ci_bytes(nodes, orbitals.min(m as usize), m as usize)
        })
        .filter(|&m| (m as usize) < fine && m as usize > orbitals)
        .map(|m| vec![format!("coulomb.check_orbitals <= {m}")])
        .unwrap_or_default(),
    })
}

/// Bytes per point of the canonical temperature table: the temperatures, the table records, its
/// CSV text (growing to twice its length) and the figure series.
pub const BYTES_PER_TEMPERATURE: u64 = 640;

/// Bytes per point of an energy grid (T^(C)(E), T_E^(K), its CSV text, NHC points and figures).
pub const BYTES_PER_ENERGY_POINT: u64 = 800;

/// The canonical table of `points` temperatures, sized by `analysis.temperatures.points`.
pub fn temperatures_estimate(points: usize) -> Estimate {
    Estimate::new(
        "analysis.temperatures.points",
        format!("the canonical table ({points} temperatures)"),
        (points as u64).saturating_mul(BYTES_PER_TEMPERATURE),
    )
    .with_fits(move |available| {
        let fit = available / BYTES_PER_TEMPERATURE;
        if (2..points as u64).contains(&fit) {
            vec![format!("analysis.temperatures.points <= {fit}")]
        } else {
            Vec::new()
        }
    })
}

/// An energy grid of `points` points, sized by `key` (e.g. `analysis.energy_grid.step`).
pub fn energy_grid_estimate(points: f64, key: &str, what: &str) -> Estimate {
    let bytes = to_bytes(points * BYTES_PER_ENERGY_POINT as f64);
    let key_owned = key.to_string();
    Estimate::new(key, format!("{what} ({points:.0} points)"), bytes).with_fits(move |available| {
        let fit = available / BYTES_PER_ENERGY_POINT;
        if fit >= 2 && (fit as f64) < points {
            vec![format!(
                "a {key_owned} giving at most {fit} points ({:.1}x coarser)",
                points / fit as f64
            )]
        } else {
            Vec::new()
        }
    })
}

/// Bytes per row of a tabulated potential: the rows held by the config of every case, the
/// study copy, the potential and its per-row segment of the grid, and their metadata.json text.
pub const BYTES_PER_TABLE_ROW: u64 = 2048;

/// A tabulated potential of `rows` rows, sized by `potential.file`.
pub fn table_estimate(rows: usize) -> Estimate {
    Estimate::new(
        "potential.file",
        format!("the tabulated potential ({rows} rows)"),
        (rows as u64).saturating_mul(BYTES_PER_TABLE_ROW),
    )
    .with_fits(move |available| {
        let fit = available / BYTES_PER_TABLE_ROW;
        if fit >= 2 && (fit as usize) < rows {
            vec![format!("a table of at most {fit} rows")]
        } else {
            Vec::new()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn a_configured_limit_is_capped_at_the_physical_memory() {
        let physical = Physical {
            total: Some(24 * GIB),
            cgroup: None,
            address_space: None,
        };
        let l = resolve_limit(
            Some((64 * GIB, "coulomb.grid_check.memory_limit")),
            &physical,
        );
        assert_eq!(l.bytes, 24 * GIB);
        assert!(
            l.origin
                .contains("capped at the 24.0 GiB of physical memory"),
            "{l}"
        );
        let l = resolve_limit(Some((4 * GIB, "--memory-limit 4 GiB")), &physical);
        assert_eq!(l.bytes, 4 * GIB);
        let l = resolve_limit(None, &physical);
        assert_eq!(l.bytes, (24.0 * GIB as f64 * DEFAULT_FRACTION) as u64);
        let tight = Physical {
            cgroup: Some(2 * GIB),
            ..physical
        };
        let l = resolve_limit(None, &tight);
        assert_eq!(l.bytes, (2.0 * GIB as f64 * DEFAULT_FRACTION) as u64);
        assert!(l.origin.contains("cgroup"), "{l}");
        assert_eq!(
            resolve_limit(None, &Physical::default()).bytes,
            FALLBACK_LIMIT
        );
    }

    #[test]
    fn memory_sizes_parse_in_decimal_and_binary_units() {
        assert_eq!(parse_memory("4 GiB"), Some(4 * GIB));
        assert_eq!(parse_memory("16GiB"), Some(16 * GIB));
        assert_eq!(parse_memory("500 MB"), Some(500_000_000));
        assert_eq!(parse_memory("1e9 B"), Some(1_000_000_000));
        assert_eq!(parse_memory("1 TiB"), Some(1 << 40));
        assert_eq!(parse_memory("0 B"), None);
        assert_eq!(parse_memory("-1 GiB"), None);
        assert_eq!(parse_memory("lots"), None);
        assert_eq!(parse_memory("4 parsecs"), None);
    }

    #[test]
    fn human_sizes_use_binary_units() {
        assert_eq!(human(100), "100 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(65_599_998_360), "61.1 GiB");
    }

    #[test]
    fn fits_are_settings_that_really_fit() {
        let grid = GridSize {
            box_half_width: 200.0,
            spacing: 1e-5,
            segments: 3,
            nodes: 39_999_999,
        };
        let e = spectrum_estimate(39_999_999, 200, 1, grid, "solve.levels");
        let available = 19 * GIB;
        assert!(e.bytes > available);
        let fits = e.fits(available);
        let levels: u64 = fits[0]
            .strip_prefix("solve.levels <= ")
            .unwrap()
            .parse()
            .unwrap();
        let threads = rayon::current_num_threads();
        assert!(spectrum_bytes(39_999_999, levels as usize, 1, threads) <= available);
        assert!(spectrum_bytes(39_999_999, levels as usize + 1, 1, threads) > available);
        let h: f64 = fits[1]
            .strip_prefix("grid.spacing >= ")
            .and_then(|s| s.strip_suffix(" bohr"))
            .unwrap()
            .parse()
            .unwrap();
        let nodes = (400.0 / h).ceil() as usize + 3;
        assert!(spectrum_bytes(nodes, 200, 1, threads) <= available, "{h}");
    }

    #[test]
    fn rounding_up_keeps_two_digits_and_never_goes_below() {
        for x in [0.0041, 0.004, 1.234e-7, 9.99, 123456.0] {
            let r = round_up_2(x);
            assert!(r >= x, "{x} -> {r}");
            assert!(r <= x * 1.1 + 1e-300, "{x} -> {r}");
        }
        assert_eq!(round_up_2(0.00412), 0.0042);
    }
}
