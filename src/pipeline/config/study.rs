//! Reading a study: a config file with its `[[cases]]` (each the base tables with the case's
//! keys overriding them) and its `[sweep]` (every sweep point of every case), each expanded case
//! validated as a full config; and the hashes that identify the cases and the sweep on disk.

use std::collections::HashMap;
use std::path::Path;

use super::error::{invalid, parse_message, ConfigError};
use super::names::{directory_name_problem, is_name_char, MAX_NAME_BYTES};
use super::raw::parse;
use super::schema::{Case, Config, Study};
use super::sweep::{parse_plan, SweepPlan, SweptValue};
use crate::hash::fnv1a;

/// Reads, parses and validates the config file at `path`, which must describe one problem
/// (no `[[cases]]`, or exactly one); see [`load_study`] for files with several cases.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let study = load_study(path)?;
    if study.cases.len() != 1 {
        let names: Vec<&str> = study.cases.iter().map(|c| c.name.as_str()).collect();
        return Err(invalid(
            path,
            "cases",
            format!(
                "holds {} cases ({}): choose one (e.g. --case {})",
                names.len(),
                names.join(", "),
                names[0]
            ),
        ));
    }
    Ok(study.cases.into_iter().next().expect("one case").config)
}

/// Reads a config file with all its `[[cases]]`: each case is the base tables with the case's
/// keys overriding them (any key, dotted or as sub-tables: `potential.depth = "5.4 eV"`), and is
/// validated as a full config.
pub fn load_study(path: &Path) -> Result<Study, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse_study(&text, path)
}

/// [`load_study`] from a string; `origin` is the path used in messages.
pub fn parse_study(text: &str, origin: &Path) -> Result<Study, ConfigError> {
    let name = origin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "config".to_string());
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: parse_message(text, &e),
        })?;
    let sweep = match doc.remove("sweep") {
        None => None,
        Some(toml::Value::Table(t)) => Some(parse_plan(t, origin)?),
        Some(_) => {
            return Err(invalid(
                origin,
                "sweep",
                "must be a table: write [sweep] followed by the swept keys",
            ))
        }
    };
    let bases = base_cases(doc, &name, origin)?;
    let explicit_cases = bases.iter().any(|b| b.index.is_some());
    // The file stem names the default output directory, and the case when there are no
    // [[cases]]; then it must be a safe case directory name too.
    let stem_problem = directory_name_problem(&name)
        .filter(|_| !explicit_cases || name == "." || name == ".." || name.len() > MAX_NAME_BYTES);
    if let Some(problem) = stem_problem {
        return Err(invalid(
            origin,
            "file name",
            format!("{problem}: the file name without .toml names the case and the default output directory; rename the file (or add [[cases]] with names)"),
        ));
    }
    let mut expansion = Expansion {
        text,
        origin,
        sweep: sweep.as_ref(),
        explicit_cases,
        seen: HashMap::new(),
        cases: Vec::new(),
    };
    for base in &bases {
        expansion.expand(base)?;
    }
    Ok(Study {
        path: origin.to_path_buf(),
        name,
        cases: expansion.cases,
        sweep,
    })
}

/// A case before the sweep: the file itself, or one `[[cases]]` entry merged over the base.
struct BaseCase {
    /// The file stem, or `cases[i].name`.
    name: String,
    /// `i` of `cases[i]`; `None` for the file itself (no `[[cases]]`).
    index: Option<usize>,
    /// The config tables of the case.
    table: toml::Table,
}

/// The cases of `doc` (without its `[sweep]`): the file named `stem` itself, or each
/// `[[cases]]` entry merged over the base tables, with its name checked.
fn base_cases(
    mut doc: toml::Table,
    stem: &str,
    origin: &Path,
) -> Result<Vec<BaseCase>, ConfigError> {
    let cases = match doc.remove("cases") {
        None => {
            return Ok(vec![BaseCase {
                name: stem.to_string(),
                index: None,
                table: doc,
            }])
        }
        Some(toml::Value::Array(cases)) => cases,
        Some(_) => {
            return Err(invalid(
                origin,
                "cases",
                "must be an array of tables: write each case as [[cases]] with a name and the keys it overrides",
            ))
        }
    };
    if cases.is_empty() {
        return Err(invalid(origin, "cases", "must hold at least one case"));
    }
    let mut bases: Vec<BaseCase> = Vec::with_capacity(cases.len());
    for (i, case) in cases.into_iter().enumerate() {
        let toml::Value::Table(mut overrides) = case else {
            return Err(invalid(
                origin,
                format!("cases[{i}]"),
                "must be a table ([[cases]])",
            ));
        };
        let case_name = case_name(overrides.remove("name"), i, origin)?;
        if let Some(key) = overrides
            .keys()
            .find(|k| !CASE_SECTIONS.contains(&k.as_str()))
        {
            return Err(invalid(
                origin,
                format!("cases[{i}].{key}"),
                format!(
                    "is not a key of a case: a [[cases]] entry holds its name and the \
                     tables it overrides ({}); a sweep or further cases go at the top level",
                    CASE_SECTIONS.join(", ")
                ),
            ));
        }
        if let Some(earlier) = bases
            .iter()
            .find(|b| b.name.to_lowercase() == case_name.to_lowercase())
        {
            return Err(invalid(
                origin,
                format!("cases[{i}].name"),
                format!("= \"{case_name}\" is used by an earlier case (\"{}\"; names are compared ignoring case, as some file systems do): names must be unique", earlier.name),
            ));
        }
        let mut table = doc.clone();
        merge_tables(&mut table, overrides);
        bases.push(BaseCase {
            name: case_name,
            index: Some(i),
            table,
        });
    }
    Ok(bases)
}

/// The name of `cases[index]` (`name` as written), checked: it names a directory.
fn case_name(
    name: Option<toml::Value>,
    index: usize,
    origin: &Path,
) -> Result<String, ConfigError> {
    let key = format!("cases[{index}].name");
    let name = match name {
        Some(toml::Value::String(n)) if !n.trim().is_empty() => n,
        Some(_) => return Err(invalid(origin, key, "must be a non-empty string")),
        None => {
            return Err(invalid(
                origin,
                key,
                "is missing: every case needs a name (it names its output directory)",
            ))
        }
    };
    if !name.chars().all(is_name_char) {
        return Err(invalid(
            origin,
            key,
            format!(
                "= \"{name}\" may only hold letters, digits and - _ . + = (it names a directory)"
            ),
        ));
    }
    if let Some(problem) = directory_name_problem(&name) {
        return Err(invalid(
            origin,
            key,
            format!("{problem}: a case name names the case's output directory; use letters, digits and - _ . + =, not starting with '.', at most {MAX_NAME_BYTES} bytes"),
        ));
    }
    Ok(name)
}

/// The expansion of the base cases into the cases of a study.
struct Expansion<'a> {
    /// The config file's text (messages of a file without cases point into it).
    text: &'a str,
    /// The config file, for messages.
    origin: &'a Path,
    /// The file's `[sweep]`.
    sweep: Option<&'a SweepPlan>,
    /// True when the file has `[[cases]]`.
    explicit_cases: bool,
    /// The lower-cased names of the sweep cases so far, to the names as written.
    seen: HashMap<String, String>,
    /// The cases so far, in order.
    cases: Vec<Case>,
}

impl Expansion<'_> {
    /// Appends the cases of `base`: itself, or one per sweep point, each validated.
    fn expand(&mut self, base: &BaseCase) -> Result<(), ConfigError> {
        let origin = self.origin;
        let points = self.sweep.map_or(1, |s| s.points);
        let width = points.to_string().len();
        for p in 0..points {
            let mut table = base.table.clone();
            let (full_name, swept) = match self.sweep {
                None => (base.name.clone(), Vec::new()),
                Some(plan) => {
                    plan.apply(p, &mut table, origin)?;
                    let label = format!("{p:0width$}_{}", plan.label(p));
                    let full = if self.explicit_cases {
                        format!("{}_{label}", base.name)
                    } else {
                        label
                    };
                    self.check_sweep_name(base, &full)?;
                    (full, plan.point(p))
                }
            };
            let merged_text = toml::to_string(&table).map_err(|e| ConfigError::Parse {
                path: origin.to_path_buf(),
                message: format!("{full_name}: {e}"),
            })?;
            let config = match (base.index, self.sweep) {
                // The file as written: messages point into the user's own text.
                (None, None) => parse(self.text, origin)?,
                (Some(i), None) => {
                    parse(&merged_text, origin).map_err(|e| in_case(e, i, &base.name))?
                }
                (_, Some(_)) => {
                    parse(&merged_text, origin).map_err(|e| in_sweep(e, &full_name, &swept))?
                }
            };
            self.cases.push(Case {
                name: full_name,
                config,
                swept,
                base_case: base.index.map(|_| base.name.clone()),
            });
        }
        Ok(())
    }

    /// Refuses the sweep case name `full` (of a point of `base`) when it cannot name a
    /// directory or an earlier case has it; records it otherwise.
    fn check_sweep_name(&mut self, base: &BaseCase, full: &str) -> Result<(), ConfigError> {
        let key = base
            .index
            .map_or("sweep".to_string(), |i| format!("cases[{i}].name"));
        if let Some(problem) = directory_name_problem(full) {
            return Err(invalid(
                self.origin,
                key,
                format!("with the sweep label gives the case directory name {problem}: shorten the case name, the swept keys' values or their number"),
            ));
        }
        if let Some(earlier) = self.seen.get(&full.to_lowercase()) {
            return Err(invalid(
                self.origin,
                key,
                format!("with the sweep label gives the case directory name \"{full}\", which an earlier case (\"{earlier}\") already has (names are compared ignoring case): rename the case"),
            ));
        }
        self.seen.insert(full.to_lowercase(), full.to_string());
        Ok(())
    }
}

/// The tables a `[[cases]]` entry may override (besides its `name`).
const CASE_SECTIONS: [&str; 8] = [
    "system",
    "potential",
    "grid",
    "solve",
    "analysis",
    "particles",
    "coulomb",
    "resources",
];

/// Puts the sweep case and its swept values in front of an error found in its config.
fn in_sweep(e: ConfigError, name: &str, swept: &[SweptValue]) -> ConfigError {
    let values: Vec<String> = swept
        .iter()
        .map(|v| format!("sweep.{} = {}", v.key, v.text))
        .collect();
    let prefix = format!("sweep case {name} ({})", values.join(", "));
    with_prefix(e, &prefix, " (is every swept key a config key?)")
}

/// Puts `prefix` in front of the key of an invalid value, or of the message (followed by
/// `parse_hint`) of a parse error; other errors are returned as they are.
fn with_prefix(e: ConfigError, prefix: &str, parse_hint: &str) -> ConfigError {
    match e {
        ConfigError::Invalid { path, key, message } => ConfigError::Invalid {
            path,
            key: format!("{prefix}: {key}"),
            message,
        },
        ConfigError::Parse { path, message } => ConfigError::Parse {
            path,
            message: format!("{prefix}: {message}{parse_hint}"),
        },
        other => other,
    }
}

/// Overrides the keys of `base` by those of `over`, recursing into tables.
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Puts "cases[i] (name)" in front of the key of an error found in a case's merged config.
fn in_case(e: ConfigError, index: usize, name: &str) -> ConfigError {
    with_prefix(e, &format!("cases[{index}] ({name})"), "")
}

/// Identifies a case's results: a hash of its resolved config (in atomic units, without the
/// config file's path, so equal physics gives equal hashes) and of the crate version.
pub fn case_hash(config: &Config) -> String {
    let mut c = config.clone();
    c.path = Default::default();
    let json = serde_json::to_string(&c).unwrap_or_default();
    let text = format!("{}\n{}", env!("CARGO_PKG_VERSION"), json);
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// Identifies a whole sweep: a hash of the crate version and of every case's name and
/// [`case_hash`], in order. The shards of one sweep share it whatever their config file's path;
/// another config (other unswept values, other swept values, other cases) gives another one.
pub fn sweep_hash(study: &Study) -> String {
    let mut text = format!("{}\n", env!("CARGO_PKG_VERSION"));
    for case in &study.cases {
        text.push_str(&case.name);
        text.push('\t');
        text.push_str(&case_hash(&case.config));
        text.push('\n');
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}
