//! Where a run's time goes: wall times of named stages, and the peak resident memory of the
//! process. `metadata.json` and `confine run --timings` report both.

use serde::Serialize;
use std::time::Instant;

/// Wall time of one named stage of a run (seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTime {
    /// Stage path, e.g. `"particles/N=4/enumeration"`.
    pub stage: String,
    /// Wall time (s).
    pub seconds: f64,
}

/// Wall times of the stages of a run, in the order they ran (seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct StageTimes(pub Vec<StageTime>);

impl StageTimes {
    /// Runs `work`, books its wall time under `stage` and returns its value.
    pub fn time<T>(&mut self, stage: impl Into<String>, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let value = work();
        self.push(stage, start.elapsed().as_secs_f64());
        value
    }

    /// Books `seconds` of wall time under `stage`.
    pub fn push(&mut self, stage: impl Into<String>, seconds: f64) {
        self.0.push(StageTime {
            stage: stage.into(),
            seconds,
        });
    }

    /// Appends the stages of `inner` as sub-stages of `prefix` (`prefix/stage`).
    pub fn nest(&mut self, prefix: &str, inner: &StageTimes) {
        for s in &inner.0 {
            self.push(format!("{prefix}/{}", s.stage), s.seconds);
        }
    }

    /// Wall time of the stage named `stage` (s), if it was booked.
    pub fn seconds(&self, stage: &str) -> Option<f64> {
        self.0.iter().find(|s| s.stage == stage).map(|s| s.seconds)
    }
}

/// Peak resident set size of this process so far (bytes): `VmHWM` of `/proc/self/status`;
/// `None` where that file does not exist (not Linux) or does not say.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:   123 kB` line of a `/proc/<pid>/status` text, in bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut words = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next()? {
        "kB" => Some(value * 1024),
        _ => None,
    }
}

/// The stage table that `confine run --timings` prints: one line per stage with its seconds,
/// then the peak RSS, from the `"timings"` object of a study's `metadata.json`.
pub fn timings_report(metadata: &serde_json::Value) -> String {
    let mut out = String::new();
    let timings = &metadata["timings"];
    let mut rows: Vec<(String, f64)> = Vec::new();
    if let Some(cases) = timings["cases"].as_array() {
        for c in cases {
            let name = c["case"].as_str().unwrap_or("?");
            for s in c["stages"].as_array().into_iter().flatten() {
                let stage = s["stage"].as_str().unwrap_or("?");
                rows.push((
                    format!("{name}: {stage}"),
                    s["seconds"].as_f64().unwrap_or(f64::NAN),
                ));
            }
        }
    }
    for s in timings["output"].as_array().into_iter().flatten() {
        let stage = s["stage"].as_str().unwrap_or("?");
        rows.push((
            format!("output: {stage}"),
            s["seconds"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    if let Some(t) = timings["computation_seconds"].as_f64() {
        rows.push(("computation (cases run in parallel)".into(), t));
    }
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    out.push_str(&format!("{:<width$} {:>10}\n", "stage", "seconds"));
    for (stage, seconds) in rows {
        out.push_str(&format!("{stage:<width$} {seconds:>10.4}\n"));
    }
    match timings["peak_rss_bytes"].as_u64() {
        Some(b) => out.push_str(&format!(
            "peak RSS (VmHWM when metadata.json was written): {:.1} MiB\n",
            b as f64 / (1024.0 * 1024.0)
        )),
        None => out.push_str("peak RSS: not available on this system\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\tconfine\nVmPeak:\t  9000 kB\nVmHWM:\t    5120 kB\nVmRSS:\t 4000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(5120 * 1024));
        assert_eq!(parse_vm_hwm("VmRSS: 1 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM: 12 MB\n"), None);
    }

    #[test]
    fn stages_nest_and_keep_their_order() {
        let mut inner = StageTimes::default();
        inner.push("enumeration", 0.5);
        let v = inner.time("canonical", || 7);
        assert_eq!(v, 7);
        let mut outer = StageTimes::default();
        outer.push("spectrum", 0.25);
        outer.nest("particles/N=4", &inner);
        let names: Vec<&str> = outer.0.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(
            names,
            [
                "spectrum",
                "particles/N=4/enumeration",
                "particles/N=4/canonical"
            ]
        );
        assert_eq!(outer.seconds("particles/N=4/enumeration"), Some(0.5));
        assert!(outer.seconds("particles/N=4/canonical").unwrap() >= 0.0);
    }
}
