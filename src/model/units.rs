//! Physical constants (CODATA 2018) and parsing of quantities with units.
//!
//! Everything inside the crate is in atomic units (ħ = mₑ = e = k_B = 1): energies in Hartree,
//! lengths in bohr, masses in electron masses, temperatures as k_B·T in Hartree and spring
//! constants in Hartree/bohr². Config files may give any quantity either as a plain number (read
//! in those atomic units) or as a string with a unit, such as `"2.7 eV"`, `"1 nm"` or `"300 K"`;
//! [`parse_quantity`] turns such a string into the atomic-unit value, and the newtypes
//! [`Energy`], [`Length`], [`Temperature`], [`Mass`] and [`SpringConstant`] accept either form
//! when deserialized (they serialize as the plain atomic-unit number).
//!
//! | dimension | units (case-sensitive) | plain number means |
//! |---|---|---|
//! | energy | `Ha` (`hartree`, `Hartree`), `eV`, `meV`, `Ry`, `K`, `mK` (k_B·T) | Hartree |
//! | length | `bohr`, `a0`, `nm`, `Å` (`angstrom`), `pm` | bohr |
//! | temperature | `K`, `mK`, and the energy units (k_B·T) | Hartree (k_B·T) |
//! | mass | `m_e` | mₑ |
//! | spring constant | *energy unit*`/`*length unit*`^2`, e.g. `Ha/bohr^2`, `eV/nm^2`, `eV/Å^2` | Hartree/bohr² |

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

/// The Hartree energy E_h in electronvolts (CODATA 2018).
pub const HARTREE_IN_EV: f64 = 27.211386245988;

/// The Bohr radius a₀ in nanometres (CODATA 2018).
pub const BOHR_IN_NM: f64 = 0.0529177210903;

/// One nanometre in bohr: 1 / [`BOHR_IN_NM`] = 18.897261246257702.
pub const NM_IN_BOHR: f64 = 1.0 / BOHR_IN_NM;

/// The Hartree energy in kelvin, E_h / k_B (CODATA 2018).
pub const HARTREE_IN_KELVIN: f64 = 315775.02480407;

/// One ångström in nanometres.
pub const ANGSTROM_IN_NM: f64 = 0.1;

/// The physical dimension a quantity is expected to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Energy, stored in Hartree.
    Energy,
    /// Length, stored in bohr.
    Length,
    /// Temperature, stored as k_B·T in Hartree.
    Temperature,
    /// Mass, stored in electron masses.
    Mass,
    /// Spring constant k of V = ½k x², stored in Hartree/bohr².
    SpringConstant,
}

impl Dimension {
    /// Lower-case name used in messages ("energy", "spring constant", ...).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Energy => "energy",
            Dimension::Length => "length",
            Dimension::Temperature => "temperature",
            Dimension::Mass => "mass",
            Dimension::SpringConstant => "spring constant",
        }
    }

    /// The name with its indefinite article ("an energy", "a length", ...).
    pub fn with_article(self) -> &'static str {
        match self {
            Dimension::Energy => "an energy",
            Dimension::Length => "a length",
            Dimension::Temperature => "a temperature",
            Dimension::Mass => "a mass",
            Dimension::SpringConstant => "a spring constant",
        }
    }

    /// The atomic unit a plain number of this dimension is read in.
    pub fn atomic_unit(self) -> &'static str {
        match self {
            Dimension::Energy => "Hartree",
            Dimension::Length => "bohr",
            Dimension::Temperature => "k_B T in Hartree",
            Dimension::Mass => "m_e",
            Dimension::SpringConstant => "Ha/bohr^2",
        }
    }

    /// The accepted unit names, for messages.
    pub fn valid_units(self) -> &'static str {
        match self {
            Dimension::Energy => "Ha, hartree, eV, meV, Ry, K, mK",
            Dimension::Length => "bohr, a0, nm, Å, angstrom, pm",
            Dimension::Temperature => "K, mK, and as k_B T the energy units Ha, hartree, eV, meV, Ry",
            Dimension::Mass => "m_e",
            Dimension::SpringConstant => {
                "an energy unit over a squared length unit, e.g. Ha/bohr^2, eV/nm^2, eV/Å^2, meV/nm^2"
            }
        }
    }

    /// An example of a valid quantity string of this dimension.
    pub fn example(self) -> &'static str {
        match self {
            Dimension::Energy => "2.7 eV",
            Dimension::Length => "1 nm",
            Dimension::Temperature => "300 K",
            Dimension::Mass => "0.067 m_e",
            Dimension::SpringConstant => "5e-3 Ha/bohr^2",
        }
    }

    fn help(self) -> String {
        format!(
            "valid {} units are {} (a plain number means {})",
            self.name(),
            self.valid_units(),
            self.atomic_unit()
        )
    }

    /// Converts `value` given in `unit` to atomic units, or `None` if `unit` is not a unit of
    /// this dimension.
    fn convert(self, value: f64, unit: &str) -> Option<f64> {
        match self {
            Dimension::Energy | Dimension::Temperature => energy_in_hartree(value, unit),
            Dimension::Length => length_in_bohr(value, unit),
            Dimension::Mass => match unit {
                "m_e" => Some(value),
                _ => None,
            },
            Dimension::SpringConstant => {
                let (energy, length) = unit.split_once('/')?;
                let length = length
                    .strip_suffix("^2")
                    .or_else(|| length.strip_suffix('²'))?;
                let per_bohr = length_in_bohr(1.0, length.trim())?;
                Some(energy_in_hartree(value, energy.trim())? / (per_bohr * per_bohr))
            }
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn energy_in_hartree(value: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "Ha" | "hartree" | "Hartree" => value,
        "eV" => value / HARTREE_IN_EV,
        "meV" => value / (1e3 * HARTREE_IN_EV),
        "Ry" => 0.5 * value,
        "K" => value / HARTREE_IN_KELVIN,
        "mK" => value / (1e3 * HARTREE_IN_KELVIN),
        _ => return None,
    })
}

fn length_in_bohr(value: f64, unit: &str) -> Option<f64> {
    Some(match unit {
        "bohr" | "a0" => value,
        "nm" => value / BOHR_IN_NM,
        // U+00C5 (letter) and U+212B (ångström sign) look the same: accept both.
        "Å" | "\u{212B}" | "angstrom" => value * ANGSTROM_IN_NM / BOHR_IN_NM,
        "pm" => value * 1e-3 / BOHR_IN_NM,
        _ => return None,
    })
}

/// Why a quantity string could not be read.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum UnitError {
    /// The text does not start with a number.
    #[error("{text:?} is not a valid {dim}: expected a number optionally followed by a unit, like {example:?}; {help}", example = dim.example(), help = dim.help())]
    NotANumber {
        /// The text as given.
        text: String,
        /// The dimension that was expected.
        dim: Dimension,
    },
    /// The unit is not one of the dimension's units.
    #[error("unknown {dim} unit {unit:?} in {text:?}: {help}{hint}", help = dim.help(), hint = other_dimension_hint(unit, *dim))]
    UnknownUnit {
        /// The unit as given.
        unit: String,
        /// The whole text as given.
        text: String,
        /// The dimension that was expected.
        dim: Dimension,
    },
    /// The value is NaN or infinite (or overflows when converted).
    #[error("{text:?} is not a finite {dim}: give a finite number, like {example:?}", example = dim.example())]
    NotFinite {
        /// The text as given.
        text: String,
        /// The dimension that was expected.
        dim: Dimension,
    },
}

/// "; "eV" is a unit of energy, not of length" when the unit belongs to another dimension.
fn other_dimension_hint(unit: &str, expected: Dimension) -> String {
    let owner = [
        Dimension::Energy,
        Dimension::Length,
        Dimension::Mass,
        Dimension::SpringConstant,
    ]
    .into_iter()
    .find(|d| d.convert(1.0, unit).is_some());
    match owner {
        Some(d) if d != expected => format!("; {unit:?} is a unit of {d}, not of {expected}"),
        _ => String::new(),
    }
}

/// Splits `"2.7 eV"` or `"2.7eV"` into the number 2.7 and the unit text `"eV"` (empty for a
/// plain number); `None` when the text does not start with a number holding a digit.
///
/// The number is the longest prefix made of number characters that parses as f64: in "2.7eV"
/// the run is "2.7e", which does not parse, so the number is "2.7" and the unit "eV".
pub fn split_number(text: &str) -> Option<(f64, &str)> {
    let trimmed = text.trim();
    let run = trimmed
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E')))
        .unwrap_or(trimmed.len());
    let (value, end) = (1..=run)
        .rev()
        .find_map(|end| Some((trimmed[..end].parse::<f64>().ok()?, end)))?;
    if !trimmed[..end].bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((value, trimmed[end..].trim()))
}

/// Reads a quantity such as `"2.7 eV"`, `"2.7eV"`, `"1 nm"`, `"300 K"`, `"0.067 m_e"`,
/// `"5e-3 Ha/bohr^2"` or a plain number `"0.25"` (atomic units) and returns its value in atomic
/// units (Hartree, bohr, k_B·T in Hartree, mₑ, Hartree/bohr²). Unit names are case-sensitive.
/// NaN and infinite values are rejected.
pub fn parse_quantity(text: &str, dim: Dimension) -> Result<f64, UnitError> {
    let trimmed = text.trim();
    let not_a_number = || UnitError::NotANumber {
        text: text.to_string(),
        dim,
    };
    let not_finite = || UnitError::NotFinite {
        text: text.to_string(),
        dim,
    };
    let Some((value, unit)) = split_number(trimmed) else {
        let lower = trimmed.trim_start_matches(['+', '-']).to_ascii_lowercase();
        return Err(if lower.starts_with("nan") || lower.starts_with("inf") {
            not_finite()
        } else {
            not_a_number()
        });
    };
    let converted = if unit.is_empty() {
        value
    } else {
        dim.convert(value, unit)
            .ok_or_else(|| UnitError::UnknownUnit {
                unit: unit.to_string(),
                text: text.to_string(),
                dim,
            })?
    };
    if converted.is_finite() {
        Ok(converted)
    } else {
        Err(not_finite())
    }
}

macro_rules! quantity_type {
    ($(#[$doc:meta])* $name:ident, $dim:expr) => {
        $(#[$doc])*
        ///
        /// Deserializes from a number (atomic units) or a string with a unit (see
        /// [`parse_quantity`]); rejects NaN and infinities. Serializes as the atomic-unit number.
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
        pub struct $name(pub f64);

        impl $name {
            /// The dimension of this quantity.
            pub const DIMENSION: Dimension = $dim;
        }

        impl From<$name> for f64 {
            fn from(q: $name) -> f64 {
                q.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_f64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(QuantityVisitor($dim)).map($name)
            }
        }
    };
}

quantity_type!(
    /// An energy in Hartree.
    Energy,
    Dimension::Energy
);
quantity_type!(
    /// A length in bohr.
    Length,
    Dimension::Length
);
quantity_type!(
    /// A temperature as k_B·T in Hartree (k_B = 1).
    Temperature,
    Dimension::Temperature
);
quantity_type!(
    /// A mass in electron masses.
    Mass,
    Dimension::Mass
);
quantity_type!(
    /// A spring constant in Hartree/bohr².
    SpringConstant,
    Dimension::SpringConstant
);

/// Deserializes a quantity whose dimension is known at run time, as [`Energy`] and its siblings
/// do for theirs: a number in atomic units or a string with a unit; the value in atomic units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantitySeed(pub Dimension);

impl<'de> de::DeserializeSeed<'de> for QuantitySeed {
    type Value = f64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<f64, D::Error> {
        deserializer.deserialize_any(QuantityVisitor(self.0))
    }
}

struct QuantityVisitor(Dimension);

impl<'de> Visitor<'de> for QuantityVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{dim}: a number (in {unit}) or a string with a unit, like {example:?}",
            dim = self.0.with_article(),
            unit = self.0.atomic_unit(),
            example = self.0.example()
        )
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(E::custom(format!(
                "{} must be a finite number, got {v}",
                self.0.with_article()
            )))
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse_quantity(v, self.0).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanometre_in_bohr() {
        assert_eq!(NM_IN_BOHR, 18.897261246257702);
    }

    #[test]
    fn number_and_unit_are_split() {
        assert_eq!(
            parse_quantity("2.7eV", Dimension::Energy),
            parse_quantity("2.7 eV", Dimension::Energy)
        );
        assert_eq!(parse_quantity(" 0.25 ", Dimension::Length), Ok(0.25));
        assert_eq!(parse_quantity("-1e-1 Ha", Dimension::Energy), Ok(-0.1));
        assert_eq!(split_number("2.7eV"), Some((2.7, "eV")));
        assert_eq!(split_number(" 1e9 B "), Some((1e9, "B")));
        assert_eq!(split_number("0.5"), Some((0.5, "")));
        assert_eq!(split_number("half"), None);
        assert!(parse_quantity("e", Dimension::Energy).is_err());
        assert!(parse_quantity(".", Dimension::Energy).is_err());
    }
}
