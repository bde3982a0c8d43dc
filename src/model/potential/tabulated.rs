//! Tabulated potentials: a CSV table of rows (x_i, V_i), V linear between consecutive rows,
//!
//!   V(x) = V_i + (V_{i+1} − V_i)(x − x_i)/(x_{i+1} − x_i)   for x_i ≤ x ≤ x_{i+1},
//!
//! and V = 0 outside [x_first, x_last] (like the pieces of [`crate::model::potential`]; a table whose
//! end values are not 0 makes a jump there, which sits on a grid node and takes the mean).
//!
//! The file format, read by hand (no CSV dependency):
//!
//! ```text
//! # comment lines (starting with #) and blank lines are ignored anywhere
//! x [nm],V [eV]
//! -3.0,0.0
//! -1.0,-2.7
//! ```
//!
//! * The first line that is not blank or a comment is the **required** header: two
//!   comma-separated column names `x` and `V` (any case), each followed by its unit in brackets.
//!   x takes a length unit (`bohr`, `a0`, `nm`, `Å`, `angstrom`, `pm`) and V an energy unit
//!   (`Ha`, `hartree`, `Hartree`, `eV`, `meV`, `Ry`, `K`, `mK`), the units of [`crate::model::units`].
//! * Every other line is one row: exactly two plain numbers (`1.5`, `-2e-3`) separated by a
//!   comma, in the header's units; spaces around them are allowed.
//! * x must increase strictly from row to row and lie inside the box [−L, L]; at least two rows;
//!   every value finite.

use std::path::Path;

use thiserror::Error;

use crate::model::units::{parse_quantity, Dimension};

/// What is wrong with a table file: the 1-based line (when one line is at fault) and why.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}{message}", line.map_or(String::new(), |l| format!("line {l}: ")))]
pub struct TableError {
    /// The 1-based line number of the offending line, if any.
    pub line: Option<usize>,
    /// What is wrong and what would be valid.
    pub message: String,
}

/// The header every table needs, for messages.
pub const HEADER_EXAMPLE: &str = "`x [nm],V [eV]` or `x [bohr],V [Ha]`";

fn at(line: usize, message: impl Into<String>) -> TableError {
    TableError {
        line: Some(line),
        message: message.into(),
    }
}

/// Reads the table file at `path` (see the module docs for the format) and returns its rows
/// [x (bohr), V (Hartree)]; every x must lie in [−`box_half_width`, `box_half_width`] (bohr).
pub fn read_table(path: &Path, box_half_width: f64) -> Result<Vec<[f64; 2]>, TableError> {
    let text = std::fs::read_to_string(path).map_err(|e| TableError {
        line: None,
        message: format!("cannot read the table: {e}"),
    })?;
    parse_table(&text, box_half_width)
}

/// [`read_table`] on the file's text.
pub fn parse_table(text: &str, box_half_width: f64) -> Result<Vec<[f64; 2]>, TableError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Err(TableError {
            line: None,
            message: format!(
                "is empty: a table needs the header {HEADER_EXAMPLE} and at least 2 rows x,V"
            ),
        });
    };
    let (x_unit, v_unit) = parse_header(header).map_err(|m| at(header_line, m))?;
    let mut rows: Vec<[f64; 2]> = Vec::new();
    let mut previous: Option<(usize, &str)> = None;
    for (n, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(at(
                n,
                format!(
                    "expected 2 fields `x,V` separated by one comma, found {}: {line:?}",
                    fields.len()
                ),
            ));
        }
        let x = number(n, "x", fields[0], &x_unit, Dimension::Length, line)?;
        let v = number(n, "V", fields[1], &v_unit, Dimension::Energy, line)?;
        if let (Some((m, before)), Some(last)) = (previous, rows.last()) {
            if x <= last[0] {
                return Err(at(
                    n,
                    format!(
                        "x = {} {x_unit} {} x = {before} {x_unit} on line {m}: rows must be \
                         sorted by strictly increasing x, without duplicates",
                        fields[0],
                        if x == last[0] {
                            "repeats"
                        } else {
                            "is smaller than"
                        }
                    ),
                ));
            }
        }
        if x.abs() > box_half_width {
            return Err(at(
                n,
                format!(
                    "x = {} {x_unit} = {x} bohr lies outside the box [-{box_half_width}, \
                     {box_half_width}] bohr (system.box_half_width): every row must lie inside it",
                    fields[0]
                ),
            ));
        }
        rows.push([x, v]);
        previous = Some((n, fields[0]));
    }
    if rows.len() < 2 {
        return Err(TableError {
            line: None,
            message: format!(
                "holds {} row{}: a table needs at least 2 rows x,V after the header",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(rows)
}

/// The units of x and V from a header `x [unit],V [unit]`.
fn parse_header(header: &str) -> Result<(String, String), String> {
    let bad = || {
        format!(
            "the header must name the columns x and V with their units, like {HEADER_EXAMPLE}; \
             got {header:?}"
        )
    };
    let fields: Vec<&str> = header.split(',').map(str::trim).collect();
    let [x, v] = fields.as_slice() else {
        return Err(bad());
    };
    let column = |field: &str, name: &str| -> Option<String> {
        let rest = field.get(..name.len())?;
        if !rest.eq_ignore_ascii_case(name) {
            return None;
        }
        let unit = field[name.len()..]
            .trim()
            .strip_prefix('[')?
            .strip_suffix(']')?;
        Some(unit.trim().to_string())
    };
    let (Some(xu), Some(vu)) = (column(x, "x"), column(v, "V")) else {
        return Err(bad());
    };
    for (unit, dim, col) in [(&xu, Dimension::Length, "x"), (&vu, Dimension::Energy, "V")] {
        if parse_quantity(&format!("1 {unit}"), dim).is_err() || unit.is_empty() {
            return Err(format!(
                "unknown {} unit {unit:?} for column {col} in the header {header:?}: valid {} \
                 units are {}",
                dim.name(),
                dim.name(),
                dim.valid_units()
            ));
        }
    }
    Ok((xu, vu))
}

/// One cell: a plain finite number in `unit`, converted to atomic units.
fn number(
    line: usize,
    column: &str,
    cell: &str,
    unit: &str,
    dim: Dimension,
    text: &str,
) -> Result<f64, TableError> {
    if cell.is_empty() {
        return Err(at(
            line,
            format!("the {column} field is empty (a gap in the table): {text:?}"),
        ));
    }
    let not_finite = || {
        at(
            line,
            format!("{column} = {cell} is not a finite number: every value must be finite"),
        )
    };
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => {}
        Ok(_) => return Err(not_finite()),
        Err(_) => {
            return Err(at(
                line,
                format!(
                    "{column} = {cell:?} is not a number (write plain numbers such as 1.5 or \
                     -2e-3; the unit, {unit}, is given once in the header): {text:?}"
                ),
            ))
        }
    }
    // Convert exactly as a config value "1.5 nm" would be.
    parse_quantity(&format!("{cell} {unit}"), dim).map_err(|_| not_finite())
}

/// Serializes a table as its digest, not row by row: the row count, the x range (bohr) and
/// the FNV-1a hash of every value's bits, so provenance stays small and still changes whenever
/// any value does.
pub fn serialize_digest<S: serde::Serializer>(
    table: &[[f64; 2]],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let bytes: Vec<u8> = table
        .iter()
        .flat_map(|r| r.iter().flat_map(|v| v.to_bits().to_le_bytes()))
        .collect();
    let mut s = serializer.serialize_struct("TableDigest", 4)?;
    s.serialize_field("rows", &table.len())?;
    s.serialize_field("x_first", &table.first().map(|r| r[0]))?;
    s.serialize_field("x_last", &table.last().map(|r| r[0]))?;
    s.serialize_field("fnv1a64", &format!("{:016x}", crate::hash::fnv1a(&bytes)))?;
    s.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_units_convert_like_config_values() {
        let t = parse_table("x [nm], V [eV]\n-1,0\n1 , -2.7\n", 100.0).unwrap();
        assert_eq!(t[0][0], parse_quantity("-1 nm", Dimension::Length).unwrap());
        assert_eq!(
            t[1][1],
            parse_quantity("-2.7 eV", Dimension::Energy).unwrap()
        );
        let t = parse_table("# c\n\nX [bohr],v [Ha]\n0,1\n# mid\n2,3\n", 10.0).unwrap();
        assert_eq!(t, vec![[0.0, 1.0], [2.0, 3.0]]);
    }

    #[test]
    fn errors_name_their_line() {
        let cases = [
            ("x [bohr],V [Ha]\n0,1\n1\n", "line 3", "expected 2 fields"),
            ("x [bohr],V [Ha]\n0,1\n1,\n", "line 3", "V field is empty"),
            ("x [bohr],V [Ha]\n0,1\nabc,2\n", "line 3", "is not a number"),
            ("x [bohr],V [Ha]\n0,NaN\n1,2\n", "line 2", "not a finite"),
            ("x [bohr],V [Ha]\n0,1\n0,2\n", "line 3", "repeats"),
            ("x [bohr],V [Ha]\n1,1\n0,2\n", "line 3", "is smaller than"),
            ("x [bohr],V [Ha]\n0,1\n11,2\n", "line 3", "outside the box"),
            ("x [bohr],V [Ha]\n0,1\n", "", "at least 2 rows"),
            (
                "x [furlong],V [Ha]\n0,1\n1,1\n",
                "line 1",
                "unknown length unit",
            ),
            (
                "x [bohr],V [J]\n0,1\n1,1\n",
                "line 1",
                "unknown energy unit",
            ),
            ("0,1\n1,2\n", "line 1", "header"),
            ("", "", "is empty"),
        ];
        for (text, line, needle) in cases {
            let e = parse_table(text, 10.0).unwrap_err().to_string();
            assert!(e.starts_with(line) && e.contains(needle), "{text:?}: {e}");
        }
    }
}
