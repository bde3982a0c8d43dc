//! The user's wait, end to end: `confine run configs/paper.toml` as the library does it (load,
//! every case, every table and figure written), and the N = 4 spin-½ ensemble of the reference
//! case alone (its spectrum, enumeration, per-state thermodynamics, canonical table and NHC
//! intervals), the part of the paper run that grows fastest with N.
//!
//!     cargo bench --bench paper
//!
//! The stage-by-stage profile of the same run is `bash benches/profile_paper.sh`.

use confine::pipeline::config::{load_study, parse_study};
use confine::pipeline::output::figures::FigureOutput;
use confine::pipeline::study::{run_case, run_study};
use confine::write_study;
use criterion::{Criterion, SamplingMode};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// The reference case of configs/paper.toml (its base tables, before the `[[cases]]`) with
/// only N = 4 spin-½ electrons.
fn n4_text(paper: &str) -> String {
    let base = &paper[..paper.find("[[cases]]").unwrap_or(paper.len())];
    format!("{base}\n[particles]\nn = 4\nspin = \"half\"\nenergy_per_particle_max = 0.03\n")
}

fn main() {
    let path = Path::new("configs/paper.toml");
    let paper = load_study(path).expect("configs/paper.toml loads");
    let text = std::fs::read_to_string(path).expect("configs/paper.toml");
    let n4 = parse_study(&n4_text(&text), path).expect("valid config");
    let dir = std::env::temp_dir().join(format!("confine-bench-paper-{}", std::process::id()));
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("paper");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30));
    group.bench_function("run configs/paper.toml, tables and figures", |b| {
        b.iter(|| {
            let result = run_study(black_box(&paper)).expect("the paper run");
            let _ = std::fs::remove_dir_all(&dir);
            write_study(&result, &dir, &FigureOutput::default()).expect("written")
        })
    });
    group.bench_function(
        "N=4 spin-1/2 of the reference case (with its spectrum)",
        |b| b.iter(|| run_case(black_box(&n4.cases[0])).expect("N = 4")),
    );
    group.finish();
    criterion.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
