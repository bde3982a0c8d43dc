//! CSV tables: a header row naming every column's unit, then one row per record. Numbers are
//! written in Rust's shortest round-trip form (exact and reproducible); a missing value is an
//! empty field.

use std::fmt::Write as _;

/// A table being built in memory (written to disk in one piece by the caller).
#[derive(Debug, Clone, Default)]
pub struct Csv {
    text: String,
    columns: usize,
}

/// One cell of a table.
pub enum Cell<'a> {
    /// A number, written exactly.
    Num(f64),
    /// A number that may be missing (empty field).
    Opt(Option<f64>),
    /// An integer.
    Int(u64),
    /// Text (quoted when it holds a comma or a quote).
    Text(&'a str),
}

fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

impl Csv {
    /// A table with the given header (each name should carry its unit, e.g. `energy [Ha]`).
    pub fn new<S: AsRef<str>>(header: &[S]) -> Self {
        let mut text = header
            .iter()
            .map(|h| quote(h.as_ref()))
            .collect::<Vec<_>>()
            .join(",");
        text.push('\n');
        Self {
            text,
            columns: header.len(),
        }
    }

    /// Appends a row; it must have as many cells as the header has columns.
    pub fn row(&mut self, cells: &[Cell]) {
        debug_assert_eq!(
            cells.len(),
            self.columns,
            "row length differs from the header"
        );
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            match c {
                Cell::Num(v) => write_number(&mut self.text, *v),
                Cell::Opt(Some(v)) => write_number(&mut self.text, *v),
                Cell::Opt(None) => {}
                Cell::Int(v) => {
                    let _ = write!(self.text, "{v}");
                }
                Cell::Text(t) => self.text.push_str(&quote(t)),
            }
        }
        self.text.push('\n');
    }

    /// The whole table as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn write_number(out: &mut String, v: f64) {
    if v.is_finite() {
        // `{:?}` is the shortest representation that parses back to the same f64.
        let _ = write!(out, "{v:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_missing_values_are_empty() {
        let mut t = Csv::new(&["E [Ha]", "T_C [Ha]", "name, with comma"]);
        t.row(&[Cell::Num(0.1 + 0.2), Cell::Opt(None), Cell::Text("a\"b")]);
        t.row(&[Cell::Num(-1e-300), Cell::Opt(Some(2.5)), Cell::Int(7)]);
        let lines: Vec<&str> = t.as_str().lines().collect();
        assert_eq!(lines[0], "E [Ha],T_C [Ha],\"name, with comma\"");
        assert_eq!(lines[1], "0.30000000000000004,,\"a\"\"b\"");
        assert_eq!(lines[2], "-1e-300,2.5,7");
        let back: f64 = lines[1].split(',').next().unwrap().parse().unwrap();
        assert_eq!(back, 0.1 + 0.2);
    }
}
