//! Names that become directories: a case's name, a sweep label, a Coulomb variant. They must be
//! safe on every common file system and must not collide with what the writer keeps at the top
//! of an output directory.

/// Longest name of a case or of a Coulomb variant directory (bytes): the longest file name made
/// from it, `figures/coulomb_temperature_<name>.png`, then stays within the 255 bytes that
/// common file systems allow.
pub const MAX_NAME_BYTES: usize = 200;

/// Names that the top of an output directory uses for itself, so no case may take them
/// (compared ignoring case, for case-insensitive file systems).
pub const RESERVED_NAMES: [&str; 4] = ["figures", "metadata.json", "summary.csv", "summary.json"];

/// Why `name` cannot name a case (or Coulomb variant) directory inside an output directory, or
/// `None` when it can: it must be non-empty, must not start with `.` (that excludes `.`, `..`
/// and the hidden staging, commit and lock entries of the writer), must not hold a path
/// separator or a control character, must not be one of [`RESERVED_NAMES`] and must fit in
/// [`MAX_NAME_BYTES`].
pub fn directory_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.starts_with('.') {
        return Some(format!(
            "\"{name}\" starts with '.': \".\" and \"..\" would leave the case's own directory, and hidden names belong to the writer"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Some(format!(
            "\"{name}\" holds {c:?}, which cannot be part of a directory name"
        ));
    }
    if let Some(r) = RESERVED_NAMES.iter().find(|r| r.eq_ignore_ascii_case(name)) {
        return Some(format!(
            "\"{name}\" is the name of the output directory's own {r}"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "\"{}…\" is {} bytes long, more than the {MAX_NAME_BYTES} a directory name may take here",
            name.chars().take(40).collect::<String>(),
            name.len()
        ));
    }
    None
}

/// True for the characters a case name may hold (it names a directory): letters, digits and
/// `- _ . + =`.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || "-_.+=".contains(c)
}

/// `text` made into a directory name: whitespace dropped, every other character that
/// `is_name_char` refuses replaced by `-` (`"eps_r = 12.9"` → `"eps_r=12.9"`).
pub fn directory_name(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if is_name_char(c) { c } else { '-' })
        .collect()
}
