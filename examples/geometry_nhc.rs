//! Prints, as CSV, the slab / cylinder / sphere comparison of the largest negative-heat-capacity
//! drops of one particle ([`confine::pipeline::geometry_study::geometry_nhc`]) for every case of
//! a study config, every level below CAP (Hartree):
//!
//!     cargo run --example geometry_nhc -- validation/geometry_nhc.toml 0.05
//!
//! `validation/geometry_nhc.sh` runs it and writes the tables of `validation/geometry_nhc.md`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(cap)) = (args.get(1), args.get(2).and_then(|c| c.parse::<f64>().ok()))
    else {
        eprintln!("usage: geometry_nhc CONFIG CAP_HARTREE");
        return ExitCode::from(2);
    };
    let rows = confine::load_study(std::path::Path::new(path))
        .map_err(|e| confine::pipeline::error_chain(&e))
        .and_then(|study| confine::pipeline::geometry_study::geometry_nhc(&study, cap));
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("case,geometry,depth_Ha,core_bohr,size_bohr,size_over_core,levels,states,TK_drop_from_E_Ha,TK_drop_to_E_Ha,TK_before_Ha,TK_after_Ha,TK_relative_drop,TEK_drop_from_E_Ha,TEK_drop_to_E_Ha,TEK_relative_drop");
    let cell = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        let k = r.kinetic.as_ref();
        let w = r.window.as_ref();
        println!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.case,
            r.geometry,
            r.depth,
            r.core,
            r.size,
            r.size / r.core,
            r.levels,
            r.states,
            cell(k.map(|i| i.e_start)),
            cell(k.map(|i| i.e_end)),
            cell(k.map(|i| i.t_start)),
            cell(k.map(|i| i.t_end)),
            cell(k.map(|i| i.relative_drop)),
            cell(w.map(|i| i.e_start)),
            cell(w.map(|i| i.e_end)),
            cell(w.map(|i| i.relative_drop)),
        );
    }
    ExitCode::SUCCESS
}
