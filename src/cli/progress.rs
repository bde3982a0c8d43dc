//! The sweep's progress on the terminal: a bar (indicatif) when stderr is a terminal, one line
//! per case otherwise (logs, batch jobs). The library reports through its `Progress` trait.

use crate::commands::Verbosity;
use confine::pipeline::sweep::runner::{Outcome, Progress};
use confine::pipeline::sweep::summary::SummaryRow;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Sweep progress: a bar on a terminal, one line per case otherwise (logs, batch jobs).
pub struct SweepProgress {
    bar: Option<indicatif::ProgressBar>,
    verbosity: Verbosity,
    done: AtomicUsize,
    total: AtomicUsize,
}

impl Progress for SweepProgress {
    fn start(&self, total: usize, reused: usize) {
        self.total.store(total, Relaxed);
        self.done.store(reused, Relaxed);
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_position(reused as u64);
            }
            None if self.verbosity == Verbosity::Quiet => {}
            None => eprintln!(
                "sweep: {total} case(s), {reused} already done, {} to compute",
                total - reused
            ),
        }
    }

    fn finished(&self, row: &SummaryRow, outcome: Outcome, seconds: f64) {
        let done = self.done.fetch_add(1, Relaxed) + 1;
        let status = match (&row.error, outcome) {
            (Some(e), _) => format!("FAILED: {e}"),
            _ => "ok".to_string(),
        };
        let line = format!(
            "[{done}/{}] case {} ({seconds:.2} s): {status}",
            self.total.load(Relaxed),
            row.name
        );
        match &self.bar {
            Some(bar) => {
                if self.verbosity == Verbosity::Verbose {
                    bar.println(line);
                } else if row.error.is_some() {
                    bar.println(format!("case {}: {status}", row.name));
                }
                bar.set_message(row.name.clone());
                bar.inc(1);
            }
            None if self.verbosity == Verbosity::Quiet => {}
            None => eprintln!("{line}"),
        }
    }
}

impl SweepProgress {
    /// A bar on a terminal, plain lines otherwise; nothing with `--quiet`.
    pub fn new(verbosity: Verbosity) -> Self {
        use std::io::IsTerminal as _;
        let shown = verbosity > Verbosity::Quiet && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} cases, {elapsed} elapsed, ~{eta} left  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        SweepProgress {
            bar,
            verbosity,
            done: Default::default(),
            total: Default::default(),
        }
    }

    /// Clears the bar when the sweep is over.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
