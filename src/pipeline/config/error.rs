//! Where a config error is: [`ConfigError`] names the file and the dotted key, and toml's own
//! errors (a byte span) are located by finding the key that contains the span.

use std::ops::Range;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a config could not be used. The Display of every variant starts with the file's path.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the config file", path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        error: std::io::Error,
    },
    /// The file is not valid TOML, or does not fit the schema (unknown or missing key, wrong
    /// type, bad unit, non-finite number).
    #[error("{}: {message}", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The dotted key when it could be found, then toml's message with line, column and a
        /// snippet.
        message: String,
    },
    /// The file parses but a value is out of range or inconsistent.
    #[error("{}: {key} {message}", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Dotted key of the offending value, e.g. `potential.pieces[1].to`.
        key: String,
        /// What is wrong and what would be valid (follows the key in the Display).
        message: String,
    },
}

/// [`ConfigError::Invalid`] for `key` of the config file `path`.
pub(super) fn invalid(
    path: &Path,
    key: impl Into<String>,
    message: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Naming the key of a toml error: toml reports a byte span; find the deepest key, value or
// array-of-tables element of the document that contains it.

/// toml's message for `error` in `text`, with the dotted key it concerns in front (or, for a
/// missing key, what is missing).
pub(super) fn parse_message(text: &str, error: &toml::de::Error) -> String {
    let key = error
        .span()
        .filter(|s| !s.is_empty())
        .and_then(|span| key_at(text, span));
    let missing = error
        .message()
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    if let Some(field) = missing {
        return match key {
            Some(table) => format!("{table}.{field} is missing (a required key)\n{error}"),
            // toml points at the first line for a missing top-level key: no snippet.
            None => format!(
                "[{field}] is missing: every config has the sections [system], [potential], \
                 [grid] and [solve]"
            ),
        };
    }
    match key {
        Some(key) => format!("{key}: {error}"),
        None => error.to_string(),
    }
}

/// The dotted key (e.g. `potential.pieces[1].to`) of the deepest key, value or array element
/// of `text` that contains the byte `span`.
fn key_at(text: &str, span: Range<usize>) -> Option<String> {
    use toml::de::{DeTable, DeValue};

    fn inside(outer: Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end
    }

    fn offer(best: &mut Option<(usize, String)>, depth: usize, path: &str) {
        if best.as_ref().is_none_or(|(d, _)| depth > *d) {
            *best = Some((depth, path.to_string()));
        }
    }

    fn visit(
        table: &DeTable<'_>,
        prefix: &str,
        depth: usize,
        span: &Range<usize>,
        best: &mut Option<(usize, String)>,
    ) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            if inside(k.span(), span) || inside(v.span(), span) {
                offer(best, depth, &path);
            }
            match v.get_ref() {
                DeValue::Table(t) => visit(t, &path, depth + 1, span, best),
                DeValue::Array(a) => {
                    for (i, e) in a.iter().enumerate() {
                        let element = format!("{path}[{i}]");
                        if inside(e.span(), span) {
                            offer(best, depth + 1, &element);
                        }
                        if let DeValue::Table(t) = e.get_ref() {
                            visit(t, &element, depth + 2, span, best);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    visit(root.get_ref(), "", 0, &span, &mut best);
    best.map(|(_, path)| path)
}
