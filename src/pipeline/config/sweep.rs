//! Parameter sweeps of a study: the `[sweep]` table of a config, expanded into cases.
//!
//! ```toml
//! [sweep]
//! mode = "product"                                            # or "zip"; default "product"
//! potential.depth = { from = 0.02, to = 0.5, points = 25 }     # linear range
//! system.box_half_width = { from = 40, to = 4000, points = 9, spacing = "log" }
//! potential.half_width = ["0.5 nm", "1 nm"]                   # a list (values as in the config)
//! "potential.pieces[1].to" = [10, 20]                          # a quoted path reaches into arrays
//! ```
//!
//! Every leaf of the table is a swept key: a list of values, or a range `{from, to, points,
//! spacing}` with `spacing` "linear" (default) or "log". Range ends are numbers or quantities with
//! the same unit ("1 eV" … "5 eV"); values between them carry that unit. Integer ends give integer
//! values (rounded, duplicates dropped: useful for log-spaced particle numbers). `product` nests
//! the keys in the order written (the first varies slowest); `zip` pairs the i-th values of every
//! key (all lists must have the same length). A sweep applies to every `[[cases]]` entry.
//!
//! Each sweep point is an ordinary case (its config is the base tables with the swept keys set)
//! validated at load time, so an unknown key or an invalid value is reported before anything
//! runs. A case is identified on disk by [`crate::pipeline::config::case_hash`]: a hash of its
//! resolved config and of the crate version, so finished cases are recognised when an
//! interrupted sweep is re-run. The sweep runner is [`crate::pipeline::sweep`]; [`Shard`] picks
//! its slice of the cases.

use super::error::{invalid, ConfigError};
use super::names::directory_name;
use crate::model::units::split_number;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How the values of several swept keys are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SweepMode {
    /// Every combination (Cartesian product), the first key varying slowest.
    Product,
    /// The i-th value of every key together; all keys have the same number of values.
    Zip,
}

/// One swept key and its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepKey {
    /// Dotted config key, e.g. `potential.depth` or `potential.pieces[1].to`.
    pub key: String,
    /// The unit of the values when they are quantities ("eV"), `None` for bare numbers.
    pub unit: Option<String>,
    /// The values as TOML values, in order.
    pub values: Vec<toml::Value>,
    /// True for a log-spaced range.
    pub log: bool,
}

/// The expanded `[sweep]` table of a study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPlan {
    /// How the keys are combined.
    pub mode: SweepMode,
    /// The swept keys, in the order written.
    pub keys: Vec<SweepKey>,
    /// Number of sweep points (cases per base case).
    pub points: usize,
}

/// The value of one swept key in one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweptValue {
    /// Dotted config key.
    pub key: String,
    /// The value as written in the config (e.g. `0.1`, `2.7 eV`, `half`).
    pub text: String,
    /// Its number in the unit written (`None` for non-numeric values).
    pub number: Option<f64>,
}

/// Significant digits kept for range values, so that `0.1 + 2·0.1` is written `0.3`.
const RANGE_DIGITS: usize = 12;

fn round_significant(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    format!("{:.*e}", RANGE_DIGITS - 1, v).parse().unwrap_or(v)
}

/// The number of a swept value and its unit as written (`"2.7 eV"` → (2.7, "eV")); a bare
/// number has no unit; `None` for values that are not numbers (see [`split_number`]).
fn number_and_unit(value: &toml::Value) -> Option<(f64, Option<String>)> {
    match value {
        toml::Value::Integer(i) => Some((*i as f64, None)),
        toml::Value::Float(f) => Some((*f, None)),
        toml::Value::String(s) => {
            let (number, unit) = split_number(s)?;
            Some((number, (!unit.is_empty()).then(|| unit.to_string())))
        }
        _ => None,
    }
}

/// A value as the user wrote it: strings without quotes.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses the `[sweep]` table of `origin`.
pub fn parse_plan(table: toml::Table, origin: &Path) -> Result<SweepPlan, ConfigError> {
    let mut mode = SweepMode::Product;
    let mut keys = Vec::new();
    for (k, v) in table {
        if k == "mode" {
            mode = match v.as_str() {
                Some("product") => SweepMode::Product,
                Some("zip") => SweepMode::Zip,
                _ => {
                    return Err(invalid(
                        origin,
                        "sweep.mode",
                        format!("= {v} is not a sweep mode: use \"product\" (every combination) or \"zip\" (the i-th values together)"),
                    ))
                }
            };
            continue;
        }
        collect_keys(&k, v, origin, &mut keys)?;
    }
    if keys.is_empty() {
        return Err(invalid(
            origin,
            "sweep",
            "names no key to sweep: add e.g. potential.depth = { from = 0.05, to = 0.5, points = 10 }",
        ));
    }
    let points = match mode {
        SweepMode::Product => keys.iter().map(|k| k.values.len()).product(),
        SweepMode::Zip => {
            let n = keys[0].values.len();
            if let Some(k) = keys.iter().find(|k| k.values.len() != n) {
                return Err(invalid(
                    origin,
                    format!("sweep.{}", k.key),
                    format!(
                        "has {} values but sweep.{} has {n}: with mode = \"zip\" every key needs the same number of values",
                        k.values.len(),
                        keys[0].key
                    ),
                ));
            }
            n
        }
    };
    Ok(SweepPlan { mode, keys, points })
}

fn collect_keys(
    prefix: &str,
    value: toml::Value,
    origin: &Path,
    out: &mut Vec<SweepKey>,
) -> Result<(), ConfigError> {
    let name = format!("sweep.{prefix}");
    match value {
        toml::Value::Array(values) => {
            if values.is_empty() {
                return Err(invalid(
                    origin,
                    name,
                    "is an empty list: give at least one value",
                ));
            }
            if let Some(v) = values
                .iter()
                .find(|v| matches!(v, toml::Value::Array(_) | toml::Value::Table(_)))
            {
                return Err(invalid(
                    origin,
                    name,
                    format!("holds {v}: a swept value must be a number, a quantity such as \"2.7 eV\", a string or a boolean"),
                ));
            }
            let units: Vec<Option<String>> = values
                .iter()
                .filter_map(number_and_unit)
                .map(|(_, u)| u)
                .collect();
            let unit = units.first().cloned().flatten();
            if units.iter().any(|u| *u != unit) {
                return Err(invalid(
                    origin,
                    name,
                    "mixes units: write every value of a swept key in the same unit (the summary plots them on one axis)",
                ));
            }
            if let Some(v) = values.iter().find(|v| match v {
                toml::Value::Float(f) => !f.is_finite(),
                _ => false,
            }) {
                return Err(invalid(
                    origin,
                    name,
                    format!("holds {v}: swept values must be finite"),
                ));
            }
            // Positive values spanning 1.5 decades or more are plotted on a log axis.
            let numbers: Vec<f64> = values
                .iter()
                .filter_map(number_and_unit)
                .map(|(x, _)| x)
                .collect();
            let (lo, hi) = numbers
                .iter()
                .fold((f64::INFINITY, 0.0_f64), |(a, b), &x| (a.min(x), b.max(x)));
            let log = numbers.len() == values.len() && lo > 0.0 && hi / lo >= 30.0;
            out.push(SweepKey {
                key: prefix.to_string(),
                unit,
                values,
                log,
            });
            Ok(())
        }
        toml::Value::Table(t) if t.contains_key("from") || t.contains_key("points") => {
            out.push(parse_range(prefix, t, origin)?);
            Ok(())
        }
        toml::Value::Table(t) => {
            if t.is_empty() {
                return Err(invalid(origin, name, "is an empty table: give a list of values or a range { from, to, points }"));
            }
            for (k, v) in t {
                collect_keys(&format!("{prefix}.{k}"), v, origin, out)?;
            }
            Ok(())
        }
        other => Err(invalid(
            origin,
            name,
            format!("= {other} is a single value: a swept key takes a list [a, b, …] or a range {{ from = a, to = b, points = n }} (set fixed values in the base tables)"),
        )),
    }
}

fn parse_range(prefix: &str, mut t: toml::Table, origin: &Path) -> Result<SweepKey, ConfigError> {
    let name = format!("sweep.{prefix}");
    if let Some(k) = t
        .keys()
        .find(|k| !["from", "to", "points", "spacing"].contains(&k.as_str()))
    {
        return Err(invalid(
            origin,
            format!("{name}.{k}"),
            "is not a range key: a range has from, to, points and optionally spacing = \"linear\" | \"log\"",
        ));
    }
    let missing = |k: &str| {
        invalid(
            origin,
            format!("{name}.{k}"),
            "is missing: a range needs from, to and points",
        )
    };
    let from = t.remove("from").ok_or_else(|| missing("from"))?;
    let to = t.remove("to").ok_or_else(|| missing("to"))?;
    let points = t.remove("points").ok_or_else(|| missing("points"))?;
    let points = match points {
        toml::Value::Integer(p) if p >= 1 => p as usize,
        toml::Value::Integer(0) => {
            return Err(invalid(
                origin,
                format!("{name}.points"),
                "= 0 makes an empty range: give at least 1 point",
            ))
        }
        other => {
            return Err(invalid(
                origin,
                format!("{name}.points"),
                format!("= {other} is not a number of points: use an integer >= 1"),
            ))
        }
    };
    let log = match t.remove("spacing") {
        None => false,
        Some(toml::Value::String(s)) if s == "linear" => false,
        Some(toml::Value::String(s)) if s == "log" => true,
        Some(other) => {
            return Err(invalid(
                origin,
                format!("{name}.spacing"),
                format!("= {other} is not a spacing: use \"linear\" or \"log\""),
            ))
        }
    };
    let end = |v: &toml::Value, which: &str| {
        number_and_unit(v)
            .filter(|(x, _)| x.is_finite())
            .ok_or_else(|| {
                invalid(
                    origin,
                    format!("{name}.{which}"),
                    format!("= {v} is not a number or a quantity such as \"2.7 eV\""),
                )
            })
    };
    let (a, unit_a) = end(&from, "from")?;
    let (b, unit_b) = end(&to, "to")?;
    if unit_a != unit_b {
        return Err(invalid(
            origin,
            name,
            format!(
                "has from in {} and to in {}: give both ends in the same unit",
                unit_a.as_deref().unwrap_or("no unit"),
                unit_b.as_deref().unwrap_or("no unit")
            ),
        ));
    }
    if log && !(a > 0.0 && b > 0.0) {
        return Err(invalid(
            origin,
            name,
            format!("with spacing = \"log\" needs from > 0 and to > 0, got {a} and {b}"),
        ));
    }
    let integer = matches!(from, toml::Value::Integer(_)) && matches!(to, toml::Value::Integer(_));
    let values = range_numbers(a, b, points, log, integer)
        .into_iter()
        .map(|v| match (&unit_a, integer) {
            (Some(u), _) => toml::Value::String(format!("{v} {u}")),
            (None, true) => toml::Value::Integer(v as i64),
            (None, false) => toml::Value::Float(v),
        })
        .collect();
    Ok(SweepKey {
        key: prefix.to_string(),
        unit: unit_a,
        values,
        log,
    })
}

/// The `points` values from `a` to `b` (both ends exactly as written, `points` ≥ 1), evenly
/// spaced or, with `log`, evenly spaced in ln; rounded to integers (repeats removed) when both
/// ends are integers, else to [`RANGE_DIGITS`] significant digits.
fn range_numbers(a: f64, b: f64, points: usize, log: bool, integer: bool) -> Vec<f64> {
    let mut numbers: Vec<f64> = (0..points)
        .map(|i| {
            if points == 1 {
                return a;
            }
            let f = i as f64 / (points - 1) as f64;
            if log {
                (a.ln() + f * (b.ln() - a.ln())).exp()
            } else {
                a + f * (b - a)
            }
        })
        .map(|v| {
            if integer {
                v.round()
            } else {
                round_significant(v)
            }
        })
        .collect();
    numbers[0] = a;
    if points > 1 {
        numbers[points - 1] = b;
    }
    if integer {
        numbers.dedup();
    }
    numbers
}

impl SweepPlan {
    /// Index of each key's value at sweep point `index` (0-based, < `points`).
    fn chosen(&self, index: usize) -> Vec<usize> {
        match self.mode {
            SweepMode::Zip => vec![index; self.keys.len()],
            SweepMode::Product => {
                let mut rest = index;
                let mut chosen = vec![0; self.keys.len()];
                for (k, key) in self.keys.iter().enumerate().rev() {
                    chosen[k] = rest % key.values.len();
                    rest /= key.values.len();
                }
                chosen
            }
        }
    }

    /// The values of sweep point `index` (0-based, < `points`), one per key.
    pub fn point(&self, index: usize) -> Vec<SweptValue> {
        self.keys
            .iter()
            .zip(self.chosen(index))
            .map(|(key, i)| {
                let v = &key.values[i];
                SweptValue {
                    key: key.key.clone(),
                    text: value_text(v),
                    number: number_and_unit(v).map(|(x, _)| x),
                }
            })
            .collect()
    }

    /// Sets the values of sweep point `index` in the (merged) config table `doc`.
    pub fn apply(
        &self,
        index: usize,
        doc: &mut toml::Table,
        origin: &Path,
    ) -> Result<(), ConfigError> {
        for (key, i) in self.keys.iter().zip(self.chosen(index)) {
            set_path(doc, &key.key, key.values[i].clone())
                .map_err(|m| invalid(origin, format!("sweep.{}", key.key), m))?;
        }
        Ok(())
    }

    /// A short, directory-safe label of sweep point `index`, e.g. `depth=0.05_half_width=20`.
    pub fn label(&self, index: usize) -> String {
        let point = self.point(index);
        let last = |k: &str| -> String { k.rsplit('.').next().unwrap_or(k).to_string() };
        let shorts: Vec<String> = self.keys.iter().map(|k| last(&k.key)).collect();
        point
            .iter()
            .zip(&shorts)
            .map(|(v, short)| {
                // A short name shared by two keys would make labels ambiguous: use the full key.
                let name = if shorts.iter().filter(|s| *s == short).count() > 1 {
                    v.key.clone()
                } else {
                    short.clone()
                };
                let (name, text) = (directory_name(&name), directory_name(&v.text));
                format!("{name}={text}")
            })
            .collect::<Vec<_>>()
            .join("_")
    }
}

/// Sets `value` at the dotted `path` (segments may end in `[i]` to index an array), creating
/// missing tables; an error message when the path runs through a non-table value.
fn set_path(doc: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut table = doc;
    for (depth, seg) in segments.iter().enumerate() {
        let last = depth + 1 == segments.len();
        let (name, index) = match seg.find('[') {
            Some(open) if seg.ends_with(']') => {
                let i: usize = seg[open + 1..seg.len() - 1].parse().map_err(|_| {
                    format!("has a bad index in \"{seg}\": use name[0], name[1], …")
                })?;
                (&seg[..open], Some(i))
            }
            _ => (*seg, None),
        };
        match index {
            None if last => {
                table.insert(name.to_string(), value);
                return Ok(());
            }
            None => {
                let entry = table
                    .entry(name.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                table = match entry {
                    toml::Value::Table(t) => t,
                    _ => return Err(format!("runs through \"{name}\", which is not a table")),
                };
            }
            Some(i) => {
                let Some(toml::Value::Array(items)) = table.get_mut(name) else {
                    return Err(format!(
                        "indexes \"{name}\", which is not an array in the config"
                    ));
                };
                let len = items.len();
                let Some(item) = items.get_mut(i) else {
                    return Err(format!("indexes {name}[{i}] but {name} has {len} entries"));
                };
                if last {
                    *item = value;
                    return Ok(());
                }
                table = match item {
                    toml::Value::Table(t) => t,
                    _ => return Err(format!("runs through {name}[{i}], which is not a table")),
                };
            }
        }
    }
    Ok(())
}

/// The i-th of n slices of a sweep (1-based, as `--shard i/n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, 1 ≤ index ≤ count.
    pub index: usize,
    /// Number of slices.
    pub count: usize,
}

impl Shard {
    /// Parses `"i/n"` with 1 ≤ i ≤ n.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("--shard {text} is not a shard: write i/n with 1 <= i <= n, e.g. --shard 2/8 (with Slurm: --shard $SLURM_ARRAY_TASK_ID/n with --array=1-n, n written out: a task resubmitted alone sees SLURM_ARRAY_TASK_COUNT = 1; scripts/slurm/ has the job scripts)")
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "--shard {text} is out of range: the index must be between 1 and the number of shards ({count})"
            ));
        }
        Ok(Self { index, count })
    }

    /// The case indices of this slice of `cases` cases: contiguous, and the n slices partition
    /// 0..cases exactly (sizes differ by at most one).
    pub fn range(&self, cases: usize) -> std::ops::Range<usize> {
        let start = (self.index - 1) * cases / self.count;
        let end = self.index * cases / self.count;
        start..end
    }
}
