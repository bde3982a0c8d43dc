//! The memory estimates of `confine::resources` are upper bounds of what the work really
//! allocates: a counting global allocator measures the peak of the heap bytes allocated by the
//! threads of a dedicated rayon pool while a case runs, and the test compares it with the plan.
//! The same allocator counts allocations and the blocks that `realloc` grows (a growing Vec's
//! copies), for the tests of `allocations`.

use crate::common::{scratch, square_well, write_file};
use confine::pipeline::config::parse_study;
use confine::pipeline::study::plan::{refinements_estimate, spectrum_estimate};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Counts the bytes allocated by tracked threads (the measuring pool and its caller).
pub struct Meter;

static CURRENT: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);
/// Allocations (alloc, alloc_zeroed) of at least [`LARGE`] bytes by tracked threads.
static LARGE_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// The largest block that a realloc by a tracked thread grew (bytes): what it may have copied.
static LARGEST_GROWN: AtomicU64 = AtomicU64::new(0);

/// Size from which an allocation counts as large (bytes): above the few small blocks a rayon
/// pool allocates on its own while it runs a job.
pub const LARGE: usize = 64 << 10;
/// The measurement under way (0: none); a thread counts while its own number is this one, so
/// the threads of an earlier measurement's pool, freeing their thread-locals as they exit, do
/// not disturb the next one.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// One measurement at a time: the counters are global.
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    static TRACKED: Cell<u64> = const { Cell::new(0) };
}

fn tracked() -> bool {
    // During thread teardown the number may be gone: such frees are not counted.
    let mine = TRACKED.try_with(Cell::get).unwrap_or(0);
    mine != 0 && mine == GENERATION.load(Ordering::Relaxed)
}

fn add(bytes: usize) {
    let now = CURRENT.fetch_add(bytes as i64, Ordering::Relaxed) + bytes as i64;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn allocated(bytes: usize) {
    if bytes >= LARGE {
        LARGE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    add(bytes);
}

fn sub(bytes: usize) {
    CURRENT.fetch_sub(bytes as i64, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping only
// touches atomics and a const-initialized thread-local Cell, which never allocate.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() && tracked() {
            allocated(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() && tracked() {
            allocated(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        if tracked() {
            sub(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() && tracked() {
            add(new_size);
            sub(layout.size());
            if new_size > layout.size() {
                LARGEST_GROWN.fetch_max(layout.size() as u64, Ordering::Relaxed);
            }
        }
        p
    }
}

/// What the tracked threads allocated while a function ran ([`measure`]).
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Peak of the bytes allocated and not yet freed.
    pub peak: u64,
    /// Allocations of at least [`LARGE`] bytes (reallocations not counted).
    pub large_allocations: u64,
    /// The largest block a reallocation grew (bytes): a growing Vec copies its old block.
    pub largest_grown: u64,
}

/// Runs `f` on a fresh 2-thread pool whose threads are tracked and returns its result (computed
/// while tracked) and the peak of the bytes allocated and not yet freed meanwhile.
pub fn peak_bytes<T: Send>(f: impl FnOnce() -> T + Send) -> (T, u64) {
    let (out, usage) = measure(f);
    (out, usage.peak)
}

/// Runs `f` on a fresh 2-thread pool whose threads are tracked and returns its result (computed
/// while tracked) and what those threads allocated meanwhile.
pub fn measure<T: Send>(f: impl FnOnce() -> T + Send) -> (T, Usage) {
    measure_after(|| (), f)
}

/// [`measure`] after `warm` has run on every thread of the pool: what `warm` leaves allocated
/// for the life of a thread (the matrix-product scratch) is not counted in the peak of `f`.
pub fn measure_after<T: Send>(warm: impl Fn() + Sync, f: impl FnOnce() -> T + Send) -> (T, Usage) {
    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    CURRENT.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    let generation = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .start_handler(move |_| TRACKED.with(|t| t.set(generation)))
        .build()
        .unwrap();
    TRACKED.with(|t| t.set(generation));
    pool.broadcast(|_| warm());
    let kept = CURRENT.load(Ordering::SeqCst);
    PEAK.store(kept, Ordering::SeqCst);
    LARGE_ALLOCATIONS.store(0, Ordering::SeqCst);
    LARGEST_GROWN.store(0, Ordering::SeqCst);
    let out = pool.install(f);
    let usage = Usage {
        peak: (PEAK.load(Ordering::SeqCst) - kept).max(0) as u64,
        large_allocations: LARGE_ALLOCATIONS.load(Ordering::SeqCst),
        largest_grown: LARGEST_GROWN.load(Ordering::SeqCst),
    };
    // Stop counting: the pool's threads exit in the background.
    GENERATION.fetch_add(1, Ordering::SeqCst);
    TRACKED.with(|t| t.set(0));
    (out, usage)
}

fn study(text: &str) -> confine::pipeline::config::Study {
    parse_study(text, Path::new("memory.toml")).expect("valid config")
}

/// Plans the case on the measuring pool (2 threads), runs it and writes its output; returns the
/// plan's estimate and the measured peak.
fn measure_case(text: &str, figures: bool) -> (u64, u64) {
    let s = study(text);
    let dir = scratch("memory");
    let ((estimate, result), peak) = peak_bytes(|| {
        let result = confine::pipeline::study::run_study(&s).expect("the case runs");
        let figures = confine::pipeline::output::figures::FigureOutput {
            png: figures,
            svg: figures,
        };
        confine::pipeline::output::write::write_study(&result, &dir, &figures).expect("written");
        // The plan plus what was admitted at run time (levels added for the canonical tail).
        (result.cases[0].memory_estimate, result)
    });
    drop(result);
    let _ = std::fs::remove_dir_all(&dir);
    (estimate, peak)
}

fn assert_bounded(name: &str, estimate: u64, peak: u64) {
    assert!(
        peak <= estimate,
        "{name}: measured peak {peak} bytes exceeds the estimate {estimate} bytes"
    );
    // An upper bound, not a wild one: beyond the matrix-product scratch the two threads may
    // take (a fixed cost, allocated only by larger products), at most a few times the peak.
    let fixed = confine::resources::scratch_estimate(2).bytes;
    assert!(
        estimate.saturating_sub(fixed) <= 6 * peak + (8 << 20),
        "{name}: estimate {estimate} bytes is far above the peak {peak} bytes"
    );
    eprintln!("{name}: peak {peak} bytes <= estimate {estimate} bytes");
}

#[test]
fn spectrum_estimates_bound_the_measured_peak() {
    for (name, text) in [
        ("paper well, 200 levels", square_well(200.0, 0.1, 20.0, 0.25, 200)),
        ("one level", square_well(200.0, 0.1, 20.0, 0.05, 1)),
        ("a fifth of the nodes", square_well(20.0, 0.1, 5.0, 0.05, 150)),
        (
            "double well, degenerate pairs",
            "[system]\nbox_half_width = 60.0\n[potential]\ntype = \"double_well\"\ndepth = 50.0\n\
             well_width = 10.0\nbarrier_width = 40.0\n[grid]\nspacing = 0.05\n[solve]\nlevels = 60\n"
                .to_string(),
        ),
    ] {
        let s = study(&text);
        let problem = s.cases[0].config.problem().unwrap();
        let ((estimate, solved), peak) = peak_bytes(|| {
            let (estimate, _) = spectrum_estimate(&problem, "solve.levels").unwrap();
            let solved = problem.spectrum();
            (estimate.bytes, solved.is_ok())
        });
        assert!(solved, "{name}");
        assert_bounded(name, estimate, peak);
    }
}

#[test]
fn refinement_estimates_bound_the_measured_peak() {
    let s = study(&square_well(60.0, 0.1, 20.0, 0.5, 40));
    let problem = s.cases[0].config.problem().unwrap();
    let ((estimate, ok), peak) = peak_bytes(|| {
        let e = refinements_estimate(&problem, 5, 3).unwrap();
        let c = confine::checks::converge::self_convergence(&problem, 5);
        (e.bytes, c.is_ok())
    });
    assert!(ok);
    assert_bounded("converge --refinements 5", estimate, peak);
}

#[test]
fn case_estimates_bound_the_measured_peak_of_run_and_output() {
    let base = square_well(100.0, 0.1, 20.0, 0.25, 100);
    let table: String = std::iter::once("x [bohr],V [Ha]\n".to_string())
        .chain((0..20_000).map(|i| {
            let x = -50.0 + 100.0 * i as f64 / 19_999.0;
            format!("{x},{}\n", -0.1 * (-x * x / 200.0).exp())
        }))
        .collect();
    let csv = write_file("memory_table.csv", &table);
    for (name, text, figures) in [
        ("plain case with figures", base.clone(), true),
        (
            "100 000 temperatures",
            format!("{base}[analysis]\ntemperatures = {{ from = 1e-4, to = 0.05, points = 100000 }}\n"),
            false,
        ),
        (
            "energy grid of 100 000 points",
            format!("{base}[analysis]\nenergy_grid = {{ from = -0.1, to = 0.1, step = 2e-6 }}\n"),
            false,
        ),
        (
            // 237 629 occupations of N = 5 below E/N = 0.02 Ha: the state limit is set just
            // above, so that the enumeration's estimate is about what is listed.
            "N = 5, 237 629 states enumerated",
            format!(
                "{base}[particles]\nn = 5\nenergy_per_particle_max = 0.02\nstate_limit = 240000\n"
            ),
            false,
        ),
        (
            // 29 583 and 237 629 occupations: the first N's states are kept while the second
            // is enumerated.
            "N = 4 and 5 enumerated",
            format!(
                "{base}[particles]\nn = [4, 5]\nenergy_per_particle_max = 0.02\nstate_limit = 240000\n"
            ),
            false,
        ),
        (
            "two-electron CI",
            format!(
                "{}[coulomb]\norbitals = 20\ncheck_orbitals = 24\nenergy_per_particle_max = 0.0\n",
                square_well(60.0, 0.1, 20.0, 0.5, 30)
            ),
            false,
        ),
        (
            "tabulated potential of 20 000 rows",
            format!(
                "[system]\nbox_half_width = 60.0\n[potential]\ntype = \"tabulated\"\nfile = \"{}\"\n\
                 [grid]\nspacing = 0.5\n[solve]\nlevels = 20\n",
                csv.display()
            ),
            false,
        ),
    ] {
        let (estimate, peak) = measure_case(&text, figures);
        assert_bounded(name, estimate, peak);
    }
}

#[test]
fn cases_that_do_not_fit_together_run_one_by_one_and_the_default_state_limit_fits() {
    use confine::pipeline::study::plan::StudyPlan;
    let two = |limit: &str| {
        study(&format!(
            "{}[resources]\nmemory_limit = \"{limit}\"\n\
             [[cases]]\nname = \"a\"\n[[cases]]\nname = \"b\"\npotential.depth = 0.2\n",
            square_well(100.0, 0.1, 20.0, 0.25, 100)
        ))
    };
    // Each case needs ~0.2 GiB (mostly the threads' product scratch, shared): both fit in 1 GiB.
    let roomy = StudyPlan::new(&two("1 GiB"));
    let case = roomy.largest().unwrap().bytes();
    assert!(case < 1 << 30);
    assert_eq!(roomy.concurrency(), roomy.threads.min(2));
    // A limit between one case and two cases without their shared scratch: one at a time.
    let shared = roomy.largest().unwrap().shared;
    let tight = format!("{} B", case + (case - shared) / 2);
    assert_eq!(StudyPlan::new(&two(&tight)).concurrency(), 1);
    // An unset state limit is lowered to what fits; a set one is kept (and refused if too big).
    let particles = |limit: &str, extra: &str| {
        let s = study(&format!(
            "{}[resources]\nmemory_limit = \"{limit}\"\n[particles]\nn = 4\n\
             energy_per_particle_max = 0.0\n{extra}",
            square_well(100.0, 0.1, 20.0, 0.25, 100)
        ));
        confine::pipeline::study::plan::plan_case(&s.cases[0]).unwrap()
    };
    let lowered = particles("1 GiB", "");
    let limit = lowered.state_limit.unwrap();
    assert!(
        limit < confine::pipeline::config::DEFAULT_STATE_LIMIT && limit > 100_000,
        "{limit}"
    );
    assert!(lowered.check().is_ok());
    let kept = particles("1 GiB", "state_limit = 100000000\n");
    assert_eq!(kept.state_limit, Some(100_000_000));
    let e = kept.check().unwrap_err().to_string();
    assert!(e.starts_with("particles.state_limit: "), "{e}");
}
