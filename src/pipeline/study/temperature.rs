//! The temperature definitions of the paper, as one type: what each is called in tables
//! (`T_K`, …), in figures (`T^(K)`, …), its unit, its convention, and the (energy, temperature)
//! points of a result whose negative-heat-capacity intervals are looked for. Adding a
//! definition is one variant here and its computation in the stage that produces it.

use serde::{Serialize, Serializer};

/// A definition of temperature (all in Hartree, k_B = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemperatureDefinition {
    /// T^(K) = 2⟨K⟩/(d N) of each state (eq. 3).
    Kinetic,
    /// T^(μ) = ΔE/ΔS over distinct levels (eq. 2), by the finite difference of the case
    /// (`analysis.difference`, [`super::ThermoSettings::difference`]).
    Microcanonical,
    /// T^(C)(E): the canonical temperature with U(T) = E.
    Canonical,
    /// T_E^(K) = 2K_E/(d N), K_E the mean ⟨K⟩ over the states in [E, E + ε) (eqs. 4–7).
    KineticWindow,
}

impl TemperatureDefinition {
    /// Every definition, in the column order of the tables.
    pub const ALL: [Self; 4] = [
        Self::Kinetic,
        Self::Microcanonical,
        Self::Canonical,
        Self::KineticWindow,
    ];

    /// The tag of CSV columns and JSON keys: "T_K", "T_mu", "T_C", "T_KE".
    pub fn tag(self) -> &'static str {
        match self {
            Self::Kinetic => "T_K",
            Self::Microcanonical => "T_mu",
            Self::Canonical => "T_C",
            Self::KineticWindow => "T_KE",
        }
    }

    /// The label of figures: "T^(K)", "T^(μ)", "T^(C)", "T_E^(K)".
    pub fn label(self) -> &'static str {
        match self {
            Self::Kinetic => "T^(K)",
            Self::Microcanonical => "T^(μ)",
            Self::Canonical => "T^(C)",
            Self::KineticWindow => "T_E^(K)",
        }
    }

    /// The unit of its values: Hartree ("Ha", k_B = 1).
    pub fn unit(self) -> &'static str {
        "Ha"
    }

    /// The header of a CSV column of its values, e.g. `T_K [Ha]`.
    pub fn column(self) -> String {
        format!("{} [{}]", self.tag(), self.unit())
    }

    /// How it is computed, for `metadata.json`'s conventions.
    pub fn convention(self) -> &'static str {
        match self {
            Self::Kinetic => "2<K>_n / (d N)",
            Self::Microcanonical => {
                "Delta E / Delta S over distinct levels (see config analysis.difference)"
            }
            Self::Canonical => "canonical temperature with U(T) = E",
            Self::KineticWindow => "2 K_E / (d N), K_E = mean <K> over states in [E, E + epsilon)",
        }
    }
}

/// Shown as its tag (padding and alignment as asked).
impl std::fmt::Display for TemperatureDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.tag())
    }
}

/// Serialized as its tag, as in the tables.
impl Serialize for TemperatureDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.tag())
    }
}
