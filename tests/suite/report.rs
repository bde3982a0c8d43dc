//! The CLI's reports as library values (`confine::pipeline::report`): the JSON of
//! `confine spectrum --json` carries the spectrum's numbers exactly, with every object's keys
//! sorted, and the text table has one row per level.

use confine::pipeline::report::{SpectrumReport, SpectrumTable};
use confine::{Potential, Problem};
use std::path::Path;

#[test]
fn spectrum_report_carries_the_levels_exactly_with_sorted_keys() {
    let well = Potential::square_well(200.0, 0.1, 20.0).unwrap();
    let spectrum = Problem::new(well, 1.0, 0.25, 7).spectrum().unwrap();
    let text = SpectrumReport::new(Path::new("paper.toml"), &spectrum, 0.5)
        .to_json()
        .unwrap();
    assert!(text.ends_with("}\n"));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let energy: Vec<f64> = serde_json::from_value(value["energy"].clone()).unwrap();
    assert_eq!(energy, spectrum.energies());
    assert_eq!(value["grid_points"], spectrum.grid.interior_len());
    assert_eq!(value["units"]["energy"], "hartree");
    assert_eq!(value["config"], "paper.toml");
    // Keys in sorted order in the text, nested objects too, as `spectrum --json` always
    // printed them.
    let top: Vec<usize> = ["\"config\"", "\"energy\"", "\"grid\"", "\"warnings\""]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
    assert!(top.windows(2).all(|w| w[0] < w[1]), "{top:?}");
    let grid = text.find("\"grid\"").unwrap();
    let (max, uniform) = (
        text[grid..].find("\"max_spacing\""),
        text[grid..].find("\"uniform\""),
    );
    assert!(max.unwrap() < uniform.unwrap(), "nested keys sorted too");
}

#[test]
fn spectrum_table_has_a_row_per_level_in_hartree_and_ev() {
    let well = Potential::square_well(200.0, 0.1, 20.0).unwrap();
    let spectrum = Problem::new(well, 1.0, 0.25, 7).spectrum().unwrap();
    let table = SpectrumTable {
        spectrum: &spectrum,
        pieces: 1,
        seconds: 0.5,
    }
    .to_string();
    let rows: Vec<&str> = table.lines().skip(1).take(7).collect();
    for (n, row) in rows.iter().enumerate() {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[0], n.to_string());
        let e: f64 = cells[1].parse().unwrap();
        let exact = spectrum.levels[n].energy;
        assert!(
            (e - exact).abs() <= 1e-15 * exact.abs(),
            "16 digits: {e} vs {exact}"
        );
        let ev: f64 = cells[2].parse().unwrap();
        assert!((ev - e * confine::model::units::HARTREE_IN_EV).abs() < 1e-6);
    }
    assert!(table.contains("no level missed"));
}
