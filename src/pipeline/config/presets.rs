//! The potential presets: `[potential] type = "<preset>"` names a common profile by its physical
//! parameters. Each is built by its constructor in [`crate::model::potential::presets`] into
//! pieces whose ends are breakpoints, hence grid nodes, and is kept as written in
//! [`crate::pipeline::config::Config::potential`] (and in metadata.json) for provenance. Every
//! parameter is a positive quantity, a number in atomic units or a string with a unit.
//!
//! ```toml
//! type = "square_well"      # V = -depth for |x| < half_width, 0 elsewhere inside the box
//! depth = 0.1
//! half_width = 20.0
//! mass_inside = "0.067 m_e" # optional: effective mass in the well (default system.mass)
//!
//! type = "double_well"      # V = -depth on b/2 < |x| < b/2 + well_width (b = barrier_width),
//! depth = 0.1               #     barrier_height - depth on |x| < b/2, 0 elsewhere
//! well_width = 10.0
//! barrier_width = 4.0
//! barrier_height = 0.1      # optional, above the well bottom; default depth (barrier at V = 0)
//!
//! type = "core_shell"       # V = -core_depth on |x| < core_half_width,
//! core_depth = "2.7 eV"     #     -shell_depth on core_half_width < |x| < shell_half_width
//! core_half_width = "1 nm"
//! shell_depth = "1 eV"
//! shell_half_width = "3 nm"
//!
//! type = "harmonic"         # V = min(spring x^2 / 2 - depth, 0): the parabola is cut where it
//! omega = "50 meV"          #     reaches 0, at |x| = sqrt(2 depth / spring), or by the walls;
//! depth = "0.3 eV"          #     omega = hbar*omega (spring = m omega^2, m = system.mass) or
//!                           #     spring = "0.05 eV/nm^2"; without depth V = spring x^2 / 2
//!
//! type = "smooth_well"      # Woods–Saxon V = -depth / (1 + exp((|x| - half_width) / edge_width))
//! depth = 0.1               #     on the whole box; edge_width -> 0 gives the square well
//! half_width = 20.0
//! edge_width = 1.0
//! ```
//!
//! A preset is one entry of the table `PRESETS` below: its type name, what it takes (for
//! messages), its parameters with their dimensions, the regions of its pieces and the parameter
//! that sets V on each, the checks across its parameters (and the values derived from them), and
//! the call of its constructor. The raw layer reads every parameter with the dimension the table
//! gives it, refuses the parameters a type does not take, and names the key of every bad value.

use std::path::Path;

use serde::Serialize;

use super::error::{invalid, ConfigError};
use crate::model::potential::{Potential, PotentialError};
use crate::model::units::Dimension;

/// One parameter of a preset: a positive quantity.
#[derive(Debug)]
pub(crate) struct Param {
    /// The key in `[potential]`.
    pub name: &'static str,
    /// Its dimension (it is read as a number in atomic units or a string with a unit).
    pub dimension: Dimension,
    /// False for an optional parameter (its resolution may derive it from the others).
    pub required: bool,
    /// Appended to the message when the value is not positive.
    pub note: &'static str,
}

const fn required(name: &'static str, dimension: Dimension) -> Param {
    Param {
        name,
        dimension,
        required: true,
        note: "",
    }
}

const fn optional(name: &'static str, dimension: Dimension) -> Param {
    Param {
        name,
        dimension,
        required: false,
        note: "",
    }
}

/// One potential preset: everything the config layer knows about `type = "<name>"`.
pub(crate) struct Preset {
    /// The `type` as written.
    pub name: &'static str,
    /// What it takes, for messages ("a double_well potential takes …").
    pub takes: &'static str,
    /// Its parameters, in the order they are serialized.
    pub params: &'static [Param],
    /// The names of the regions its pieces cover, left to right (its constructor's).
    pub regions: &'static [&'static str],
    /// Per piece, the parameter (or words naming it) whose value sets V there, for messages.
    pub sets_piece: &'static [&'static str],
    /// Checks across the parameters, once each given one is known to be positive, and the
    /// values derived from them (defaults of optional parameters, equivalent forms).
    resolve: fn(&mut Resolving<'_>) -> Result<(), ConfigError>,
    /// Calls the preset's constructor in a box of the given half-width (bohr).
    build: fn(&PresetConfig, f64) -> Result<Potential, PotentialError>,
}

/// The presets, in the order messages list them.
pub(crate) static PRESETS: [Preset; 5] = [
    Preset {
        name: "square_well",
        takes: "a square_well potential takes depth (energy), half_width (length) and \
                optionally mass_inside (mass)",
        params: &[
            Param {
                note: " (the well is V = -depth)",
                ..required("depth", Dimension::Energy)
            },
            required("half_width", Dimension::Length),
            optional("mass_inside", Dimension::Mass),
        ],
        regions: &Potential::SQUARE_WELL_REGIONS,
        sets_piece: &["depth"],
        resolve: |r| {
            let (a, l) = (r.value("half_width"), r.box_half_width);
            if a >= l {
                return Err(r.invalid(
                    "half_width",
                    format!("= {a} bohr must be smaller than system.box_half_width = {l} bohr"),
                ));
            }
            Ok(())
        },
        build: |p, l| match p.get("mass_inside") {
            None => Potential::square_well(l, p.value("depth"), p.value("half_width")),
            Some(m) => {
                Potential::square_well_with_mass(l, p.value("depth"), p.value("half_width"), m)
            }
        },
    },
    Preset {
        name: "double_well",
        takes: "a double_well potential takes depth (energy), well_width and barrier_width \
                (lengths) and optionally barrier_height (energy above the well bottom, default \
                depth)",
        params: &[
            required("depth", Dimension::Energy),
            required("well_width", Dimension::Length),
            required("barrier_width", Dimension::Length),
            optional("barrier_height", Dimension::Energy),
        ],
        regions: &Potential::DOUBLE_WELL_REGIONS,
        sets_piece: &["depth", "barrier_height", "depth"],
        resolve: |r| {
            if r.get("barrier_height").is_none() {
                r.set("barrier_height", r.value("depth"));
            }
            r.inside_box(
                "well_width",
                "the outer well edges (barrier_width/2 + well_width)",
                0.5 * r.value("barrier_width") + r.value("well_width"),
            )
        },
        build: |p, l| {
            Potential::double_well(
                l,
                p.value("depth"),
                p.value("well_width"),
                p.value("barrier_width"),
                p.value("barrier_height"),
            )
        },
    },
    Preset {
        name: "core_shell",
        takes: "a core_shell potential takes core_depth and shell_depth (energies), \
                core_half_width and shell_half_width (lengths)",
        params: &[
            required("core_depth", Dimension::Energy),
            required("core_half_width", Dimension::Length),
            required("shell_depth", Dimension::Energy),
            required("shell_half_width", Dimension::Length),
        ],
        regions: &Potential::CORE_SHELL_REGIONS,
        sets_piece: &["shell_depth", "core_depth", "shell_depth"],
        resolve: |r| {
            let (core, shell) = (r.value("core_half_width"), r.value("shell_half_width"));
            if shell <= core {
                return Err(r.invalid(
                    "shell_half_width",
                    format!(
                        "= {shell} bohr must be larger than core_half_width = {core} bohr (the \
                         shell surrounds the core)"
                    ),
                ));
            }
            r.inside_box("shell_half_width", "the shell's outer edges", shell)
        },
        build: |p, l| {
            Potential::core_shell(
                l,
                p.value("core_depth"),
                p.value("core_half_width"),
                p.value("shell_depth"),
                p.value("shell_half_width"),
            )
        },
    },
    Preset {
        name: "harmonic",
        takes: "a harmonic potential takes omega (the energy hbar*omega) or spring (spring \
                constant k), and optionally depth (energy: V = min(k x^2/2 - depth, 0))",
        params: &[
            optional("spring", Dimension::SpringConstant),
            optional("omega", Dimension::Energy),
            optional("depth", Dimension::Energy),
        ],
        regions: &Potential::HARMONIC_REGIONS,
        sets_piece: &["omega (or spring)"],
        resolve: |r| {
            let mass = r.mass;
            let (spring, omega) = match (r.get("omega"), r.get("spring")) {
                (Some(_), Some(_)) => {
                    return Err(r.invalid(
                        "spring",
                        format!(
                            "and potential.omega are both given: give one ({})",
                            r.preset.takes
                        ),
                    ))
                }
                (None, None) => return Err(r.missing("omega")),
                (Some(w), None) => (mass * w * w, w),
                (None, Some(k)) => (k, (k / mass).sqrt()),
            };
            if !(spring.is_finite() && omega.is_finite()) {
                return Err(r.invalid(
                    "omega",
                    format!(
                        "gives a spring constant k = m omega^2 = {spring} Ha/bohr^2 that is not \
                         finite"
                    ),
                ));
            }
            r.set("spring", spring);
            r.set("omega", omega);
            Ok(())
        },
        build: |p, l| Potential::harmonic(l, p.value("spring"), p.get("depth")),
    },
    Preset {
        name: "smooth_well",
        takes: "a smooth_well potential takes depth (energy), half_width and edge_width \
                (lengths): V = -depth / (1 + exp((|x| - half_width) / edge_width))",
        params: &[
            required("depth", Dimension::Energy),
            required("half_width", Dimension::Length),
            required("edge_width", Dimension::Length),
        ],
        regions: &Potential::SMOOTH_WELL_REGIONS,
        sets_piece: &["depth", "depth", "depth"],
        resolve: |r| r.inside_box("half_width", "the well's edges", r.value("half_width")),
        build: |p, l| {
            Potential::smooth_well(
                l,
                p.value("depth"),
                p.value("half_width"),
                p.value("edge_width"),
            )
        },
    },
];

/// The preset named `name`.
pub(crate) fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The dimension of the preset parameter `name` (the same in every preset that has it).
pub(crate) fn parameter(name: &str) -> Option<(&'static str, Dimension)> {
    PRESETS
        .iter()
        .flat_map(|p| p.params)
        .find(|p| p.name == name)
        .map(|p| (p.name, p.dimension))
}

/// Every preset parameter name once, in table order.
pub(crate) fn parameter_names() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    PRESETS
        .iter()
        .flat_map(|p| p.params)
        .map(|p| p.name)
        .filter(move |name| {
            let first = !seen.contains(name);
            if first {
                seen.push(name);
            }
            first
        })
}

/// "must be a positive …" for a value of `dimension`, with the units the message suggests.
fn positive(dimension: Dimension, value: f64) -> String {
    let what = match dimension {
        Dimension::Energy => "a positive energy (Hartree)",
        Dimension::Length => "a positive length (bohr)",
        Dimension::Mass => "a positive mass (m_e, e.g. 0.067 or \"0.067 m_e\")",
        Dimension::SpringConstant => {
            "a positive spring constant (Ha/bohr^2, or e.g. \"0.05 eV/nm^2\")"
        }
        Dimension::Temperature => "a positive temperature (Hartree)",
    };
    format!("must be {what}, got {value}")
}

/// A preset while its parameters are checked: the values given so far (atomic units) and what
/// they are checked against.
pub(crate) struct Resolving<'a> {
    /// The preset.
    pub preset: &'static Preset,
    /// The config file, for messages.
    path: &'a Path,
    /// L of `[system]` (bohr).
    pub box_half_width: f64,
    /// `system.mass` (mₑ).
    pub mass: f64,
    /// One per parameter of the preset, in its order.
    values: Vec<Option<f64>>,
}

impl Resolving<'_> {
    fn index(&self, name: &str) -> usize {
        self.preset
            .params
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("{} has no parameter {name}", self.preset.name))
    }

    /// The value of parameter `name`, if given (or set).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values[self.index(name)]
    }

    /// The value of a parameter that is given: a required one, or one set by resolution.
    pub fn value(&self, name: &str) -> f64 {
        self.get(name).unwrap_or(f64::NAN)
    }

    /// Sets parameter `name` to `value` (a default or a derived value).
    pub fn set(&mut self, name: &str, value: f64) {
        let i = self.index(name);
        self.values[i] = Some(value);
    }

    /// The error for a bad `potential.<name>`.
    pub fn invalid(&self, name: &str, message: String) -> ConfigError {
        invalid(self.path, format!("potential.{name}"), message)
    }

    /// The error for a missing `potential.<name>`.
    pub fn missing(&self, name: &str) -> ConfigError {
        self.invalid(name, format!("is missing: {}", self.preset.takes))
    }

    /// Refuses a profile edge `x` (bohr), set by `potential.<name>`, that is not inside the box.
    pub fn inside_box(&self, name: &str, what: &str, x: f64) -> Result<(), ConfigError> {
        let l = self.box_half_width;
        if x < l {
            return Ok(());
        }
        Err(self.invalid(
            name,
            format!(
                "puts {what} at {x} bohr, not inside system.box_half_width = {l} bohr: make the \
                 profile narrower or the box wider"
            ),
        ))
    }
}

/// Checks the parameters `given` (name, value in atomic units) of `preset` against each other
/// and the box (half-width `box_half_width`, bohr; particle mass `mass`, mₑ) and completes
/// them. Every given name must be one of the preset's parameters.
pub(crate) fn resolve(
    preset: &'static Preset,
    given: &[(&'static str, f64)],
    path: &Path,
    box_half_width: f64,
    mass: f64,
) -> Result<PresetConfig, ConfigError> {
    let mut r = Resolving {
        preset,
        path,
        box_half_width,
        mass,
        values: vec![None; preset.params.len()],
    };
    for &(name, value) in given {
        r.set(name, value);
    }
    for param in preset.params {
        match r.get(param.name) {
            None if param.required => return Err(r.missing(param.name)),
            // NaN is not positive either.
            Some(v) if v.is_nan() || v <= 0.0 => {
                let message = format!("{}{}", positive(param.dimension, v), param.note);
                return Err(r.invalid(param.name, message));
            }
            _ => {}
        }
    }
    (preset.resolve)(&mut r)?;
    Ok(PresetConfig {
        preset,
        values: r.values,
    })
}

/// A preset potential as configured: its type and its parameters in atomic units (the given
/// ones and those derived from them). Made by the config's validation only, so every required
/// parameter is present and positive.
#[derive(Clone)]
pub struct PresetConfig {
    preset: &'static Preset,
    /// One per parameter of the preset, in its order.
    values: Vec<Option<f64>>,
}

impl PresetConfig {
    /// The `type` as written (`"square_well"`, …).
    pub fn type_name(&self) -> &'static str {
        self.preset.name
    }

    /// The value of parameter `name` in atomic units; `None` when the preset does not have it
    /// or it was not given (an optional parameter without a default).
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = self.preset.params.iter().position(|p| p.name == name)?;
        self.values[i]
    }

    /// The parameters that have a value, (name, value in atomic units), in the preset's order.
    pub fn parameters(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.preset
            .params
            .iter()
            .zip(&self.values)
            .filter_map(|(p, v)| v.map(|v| (p.name, v)))
    }

    /// A required (or derived) parameter; NaN if absent, which the constructor refuses as a
    /// non-finite number (validation guarantees presence).
    fn value(&self, name: &str) -> f64 {
        self.get(name).unwrap_or(f64::NAN)
    }

    /// The potential in the box [−`box_half_width`, `box_half_width`] (bohr).
    pub fn potential(&self, box_half_width: f64) -> Result<Potential, PotentialError> {
        (self.preset.build)(self, box_half_width)
    }

    /// The names of the regions of the potential's pieces, left to right.
    pub fn regions(&self) -> &'static [&'static str] {
        self.preset.regions
    }

    /// The parameter whose value sets V on piece `index`, for messages.
    pub(crate) fn sets_piece(&self, index: usize) -> &'static str {
        self.preset.sets_piece.get(index).copied().unwrap_or("type")
    }
}

impl PartialEq for PresetConfig {
    fn eq(&self, other: &Self) -> bool {
        self.preset.name == other.preset.name && self.values == other.values
    }
}

impl std::fmt::Debug for PresetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("PresetConfig");
        s.field("type", &self.preset.name);
        for (name, value) in self.parameters() {
            s.field(name, &value);
        }
        s.finish()
    }
}

/// As in the config file: the `type`, then every parameter that has a value.
impl Serialize for PresetConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.preset.name)?;
        for (name, value) in self.parameters() {
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        for (i, p) in PRESETS.iter().enumerate() {
            assert_eq!(p.regions.len(), p.sets_piece.len(), "{}", p.name);
            assert!(
                PRESETS[..i].iter().all(|q| q.name != p.name),
                "{} twice",
                p.name
            );
            for (j, param) in p.params.iter().enumerate() {
                assert!(
                    p.params[..j].iter().all(|q| q.name != param.name),
                    "{}.{} twice",
                    p.name,
                    param.name
                );
                // One name, one dimension: the raw layer reads a key before it knows the type.
                assert_eq!(parameter(param.name).unwrap().1, param.dimension);
                assert!(p.takes.contains(param.name), "{}: {}", p.name, param.name);
            }
            for key in p.sets_piece {
                let first = key.split(' ').next().unwrap();
                assert!(
                    p.params.iter().any(|q| q.name == first),
                    "{}: {key}",
                    p.name
                );
            }
            assert!(p
                .takes
                .starts_with(&format!("a {} potential takes", p.name)));
        }
        for name in ["type", "pieces", "file"] {
            assert!(
                parameter(name).is_none(),
                "{name} is not a preset parameter"
            );
        }
    }
}
