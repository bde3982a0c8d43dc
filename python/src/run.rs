//! `confine.run(config, out)`: a whole study (or sweep) as `confine run` computes and writes it,
//! on a worker thread, with its progress sent to Python's `logging` (logger "confine") and an
//! optional callback, and Ctrl-C stopping it without a half-written output.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use confine::pipeline::config;
use confine::pipeline::error_chain;
use confine::pipeline::output::commit::lock_output;
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::output::write::write_study;
use confine::pipeline::study::{run_study_with, Cancel};
use confine::pipeline::sweep::runner::{self, Outcome, Progress, SweepOptions};
use confine::pipeline::sweep::summary::SummaryRow;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::{chained, confine_error};

/// What the worker thread tells the Python thread.
enum Message {
    /// A progress line.
    Progress(String),
    /// The run ended: what it wrote, or the CLI's error message.
    Done(Result<Summary, String>),
}

/// What a finished run reports.
struct Summary {
    cases: usize,
    computed: usize,
    reused: usize,
    failed: usize,
    seconds: f64,
}

/// Sweep progress sent to the Python thread; `cancel` is set there on Ctrl-C.
struct ChannelProgress {
    sender: mpsc::Sender<Message>,
    cancel: Arc<AtomicBool>,
    done: AtomicUsize,
    total: AtomicUsize,
}

impl Progress for ChannelProgress {
    fn start(&self, total: usize, reused: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(reused, Ordering::Relaxed);
        let line = format!(
            "sweep: {total} case(s), {reused} already done, {} to compute",
            total - reused
        );
        // A closed channel means Python stopped listening: nothing to report to.
        let _ = self.sender.send(Message::Progress(line));
    }

    fn finished(&self, row: &SummaryRow, _outcome: Outcome, seconds: f64) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let status = row
            .error
            .as_ref()
            .map_or("ok".to_string(), |e| format!("FAILED: {e}"));
        let line = format!(
            "[{done}/{}] case {} ({seconds:.2} s): {status}",
            self.total.load(Ordering::Relaxed),
            row.name
        );
        let _ = self.sender.send(Message::Progress(line));
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Computes the study (or sweep) of `study` into `dir` on this (worker) thread.
fn work(
    study: config::Study,
    dir: PathBuf,
    figures: FigureOutput,
    progress: ChannelProgress,
) -> Result<Summary, String> {
    let path = study.path.display().to_string();
    if study.sweep.is_some() {
        let options = SweepOptions {
            shard: None,
            figures,
            case_figures: false,
        };
        let report = runner::run_sweep(&study, &dir, &options, &progress).map_err(|e| {
            format!(
                "writing the sweep to {}: {}",
                dir.display(),
                error_chain(&e)
            )
        })?;
        if report.failed > 0 {
            return Err(format!(
                "{} of {} case(s) failed (recorded in {}); the others are complete. Fix the cause and re-run the same command: finished cases are not recomputed",
                report.failed,
                report.summary.rows.len(),
                dir.join("summary.csv").display()
            ));
        }
        return Ok(Summary {
            cases: report.summary.rows.len(),
            computed: report.computed,
            reused: report.reused,
            failed: report.failed,
            seconds: report.seconds,
        });
    }
    let start = std::time::Instant::now();
    // Held until the results are written: a second run into `dir` is refused before computing.
    let _lock = lock_output(&dir).map_err(|e| {
        format!(
            "output directory {} cannot be written: {}",
            dir.display(),
            error_chain(&e)
        )
    })?;
    let _ = progress.sender.send(Message::Progress(format!(
        "running {} case(s) of {path}",
        study.cases.len()
    )));
    let flag = Arc::clone(&progress.cancel);
    let cancel = Cancel::when(move || flag.load(Ordering::Relaxed));
    let result = run_study_with(&study, &cancel);
    if progress.cancelled() {
        return Err(format!("{path}: interrupted: nothing written"));
    }
    let result = result.map_err(|e| format!("{path}: running the study: {}", error_chain(&e)))?;
    write_study(&result, &dir, &figures).map_err(|e| {
        format!(
            "writing the results to {}: {}",
            dir.display(),
            error_chain(&e)
        )
    })?;
    Ok(Summary {
        cases: result.cases.len(),
        computed: result.cases.len(),
        reused: 0,
        failed: 0,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Runs the study of the config file `config` (as `confine run CONFIG --out OUT`), writing
/// into `out` (default `out/<config stem>`), with `figures` (PNG and SVG) or without. Progress
/// goes to the logger "confine" (level INFO) and to `progress(line)` when given. Ctrl-C stops
/// a sweep at the next case boundary (finished cases are committed, a re-run resumes) and a
/// plain study at the next stage boundary of its cases, before anything is written; the call
/// returns once the work has stopped (the output directory is unlocked) and raises
/// KeyboardInterrupt. Returns a
/// dict: `out`, `cases`, `computed`, `reused`, `failed`, `seconds`.
#[pyfunction]
#[pyo3(signature = (config, out = None, figures = true, progress = None))]
fn run(
    py: Python<'_>,
    config: PathBuf,
    out: Option<PathBuf>,
    figures: bool,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let study = py.detach(|| config::load_study(&config).map_err(|e| chained(&e)))?;
    let dir = out.unwrap_or_else(|| PathBuf::from("out").join(&study.name));
    let is_sweep = study.sweep.is_some();
    let (sender, receiver) = mpsc::channel();
    // Behind a mutex so that the wait can run without the GIL (a receiver is not Sync).
    let receiver = std::sync::Mutex::new(receiver);
    let cancel = Arc::new(AtomicBool::new(false));
    let worker_progress = ChannelProgress {
        sender: sender.clone(),
        cancel: Arc::clone(&cancel),
        done: AtomicUsize::new(0),
        total: AtomicUsize::new(0),
    };
    let figures = FigureOutput {
        png: figures,
        svg: figures,
    };
    let worker_dir = dir.clone();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            work(study, worker_dir, figures, worker_progress)
        }))
        .unwrap_or_else(|_| Err("internal error in confine: the run panicked".to_string()));
        let _ = sender.send(Message::Done(outcome));
    });
    let logger = py
        .import("logging")?
        .call_method1("getLogger", ("confine",))?;
    let mut interrupted: Option<PyErr> = None;
    let summary = loop {
        let message = py.detach(|| {
            receiver
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .recv_timeout(Duration::from_millis(100))
        });
        match message {
            Ok(Message::Progress(line)) => {
                logger.call_method1("info", (line.as_str(),))?;
                if let Some(callback) = &progress {
                    if let Err(e) = callback.call1((line.as_str(),)) {
                        cancel.store(true, Ordering::Relaxed);
                        interrupted.get_or_insert(e);
                    }
                }
            }
            Ok(Message::Done(outcome)) => break outcome,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err("internal error in confine: the run stopped without a result".into())
            }
        }
        if let Err(e) = py.check_signals() {
            cancel.store(true, Ordering::Relaxed);
            // Wait for the worker: it stops at its next case (sweep) or stage (study) boundary
            // and releases the output lock, so the same call can be made again at once.
            let message = if is_sweep {
                "interrupted: finishing the cases in progress, starting no new one"
            } else {
                "interrupted: stopping at the next stage; nothing will be written"
            };
            logger.call_method1("warning", (message,))?;
            interrupted.get_or_insert(e);
        }
    };
    if let Some(e) = interrupted {
        return Err(e);
    }
    let summary = summary.map_err(confine_error)?;
    let dict = PyDict::new(py);
    dict.set_item("out", dir.display().to_string())?;
    dict.set_item("cases", summary.cases)?;
    dict.set_item("computed", summary.computed)?;
    dict.set_item("reused", summary.reused)?;
    dict.set_item("failed", summary.failed)?;
    dict.set_item("seconds", summary.seconds)?;
    Ok(dict.into_any().unbind())
}

/// Adds `run` to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)
}
