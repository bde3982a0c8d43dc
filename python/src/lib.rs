//! Python bindings of confine: the library's problems, spectra, checks and thermodynamics as
//! NumPy arrays. No physics here: every number comes from a `confine` library function; this
//! crate converts arguments and results, releases the GIL around every solve and turns every
//! error (and, as a last resort, a panic) into `confine.ConfineError` with the CLI's message.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use confine::checks::analytic::Parity;
use confine::checks::{converge::self_convergence, validate::validate};
use confine::model::potential::Potential;
use confine::model::problem::Problem;
use confine::physics::coulomb::ci::{
    convergence_of, CiConvergence, CiProblem, CiSettings, CiSpectrum, CiState, CiStates,
    ConvergenceRow, StateSelection, Symmetry,
};
use confine::physics::coulomb::grid2d::{self, GridOptions};
use confine::physics::coulomb::SoftCoulomb;
use confine::physics::many_body::{self, EnumerationSettings, Orbitals, Spin};
use confine::physics::thermo::{
    canonical_curve, canonical_temperatures, hertz_entropy, kinetic_temperature, nhc_intervals,
    per_state_microcanonical_temperature, window_averages, Difference, StateList,
};
use confine::pipeline::config;
use confine::pipeline::error_chain;
use confine::pipeline::study::NHC_RELATIVE_TOLERANCE;
use confine::spectrum::Spectrum;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

mod run;

pyo3::create_exception!(
    confine,
    ConfineError,
    PyValueError,
    "Bad input or a failed computation; the message is the one the confine CLI prints."
);

/// A `ConfineError` carrying `message`.
fn confine_error(message: impl Into<String>) -> PyErr {
    ConfineError::new_err(message.into())
}

/// A `ConfineError` with the text of `error` and its causes, as the CLI prints them.
fn chained(error: &dyn std::error::Error) -> PyErr {
    confine_error(error_chain(error))
}

/// Runs `work` without the GIL, turning a panic into a `ConfineError` (a last resort: the
/// library reports bad input as errors; a panic would be a bug, and must not cross into Python).
fn solve<T: Send>(py: Python<'_>, work: impl FnOnce() -> PyResult<T> + Send) -> PyResult<T> {
    py.detach(|| {
        catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
            let text = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(confine_error(format!("internal error in confine: {text}")))
        })
    })
}

/// A contiguous copy of a 1-D float64 array.
fn to_vec(array: &PyReadonlyArray1<'_, f64>) -> Vec<f64> {
    array.as_array().to_vec()
}

/// `values` with `None` as NaN, as a float64 array.
fn optional_array<'py>(py: Python<'py>, values: &[Option<f64>]) -> Bound<'py, PyArray1<f64>> {
    values
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect::<Vec<_>>()
        .into_pyarray(py)
}

/// A JSON value as Python objects: objects become dicts, lists of numbers float64 (or int64)
/// arrays, lists of equal-length number lists 2-D arrays, `null` inside a number list NaN.
fn json_to_py(py: Python<'_>, value: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any().unbind(),
            (None, Some(f)) => PyFloat::new(py, f).into_any().unbind(),
            _ => py.None(),
        },
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(items) => {
            if let Some(array) = number_array(py, items)? {
                return Ok(array);
            }
            let rows: Option<Vec<Vec<f64>>> = items
                .iter()
                .map(|row| match row {
                    Value::Array(r) if !r.is_empty() => numbers(r),
                    _ => None,
                })
                .collect();
            match rows {
                Some(rows) if !rows.is_empty() && rows.iter().all(|r| r.len() == rows[0].len()) => {
                    let (m, n) = (rows.len(), rows[0].len());
                    let flat: Vec<f64> = rows.into_iter().flatten().collect();
                    Array2::from_shape_vec((m, n), flat)
                        .map_err(|e| confine_error(e.to_string()))?
                        .into_pyarray(py)
                        .into_any()
                        .unbind()
                }
                _ => {
                    let list = PyList::empty(py);
                    for item in items {
                        list.append(json_to_py(py, item)?)?;
                    }
                    list.into_any().unbind()
                }
            }
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any().unbind()
        }
    })
}

/// The numbers of a JSON list (`null` as NaN), if it holds only numbers and nulls and at
/// least one number.
fn numbers(items: &[serde_json::Value]) -> Option<Vec<f64>> {
    let mut any = false;
    let values = items
        .iter()
        .map(|v| match v {
            serde_json::Value::Number(n) => {
                any = true;
                n.as_f64()
            }
            serde_json::Value::Null => Some(f64::NAN),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()?;
    any.then_some(values)
}

/// A JSON list of numbers as an int64 array (all integers) or a float64 array.
fn number_array(py: Python<'_>, items: &[serde_json::Value]) -> PyResult<Option<Py<PyAny>>> {
    if !items.is_empty() && items.iter().all(|v| v.as_i64().is_some()) {
        let ints: Vec<i64> = items.iter().filter_map(|v| v.as_i64()).collect();
        return Ok(Some(ints.into_pyarray(py).into_any().unbind()));
    }
    Ok(numbers(items).map(|v| v.into_pyarray(py).into_any().unbind()))
}

/// A Python value (number, string, bool, list, tuple, dict) as a TOML value.
fn to_toml(value: &Bound<'_, PyAny>, key: &str, origin: &str) -> PyResult<toml::Value> {
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(value.extract()?));
    }
    if let Ok(f) = value.extract::<f64>() {
        return Ok(toml::Value::Float(f));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(d) = value.cast::<PyDict>() {
        return Ok(toml::Value::Table(to_table(d, key, origin)?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .enumerate()
            .map(|(i, item)| to_toml(&item?, &format!("{key}[{i}]"), origin))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(toml::Value::Array(items));
    }
    Err(confine_error(format!(
        "{origin}: {key}: {} is not a config value; give a number, a string with a unit, a list or a dict",
        value.repr()?
    )))
}

/// A Python dict as a TOML table; `None` values are left out (an optional key not given).
fn to_table(dict: &Bound<'_, PyDict>, prefix: &str, origin: &str) -> PyResult<toml::Table> {
    let mut table = toml::Table::new();
    for (k, v) in dict.iter() {
        if v.is_none() {
            continue;
        }
        let name: String = k.extract()?;
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        table.insert(name, to_toml(&v, &key, origin)?);
    }
    Ok(table)
}

/// One single-particle problem: a potential in the hard-wall box [−L, L], a particle mass
/// (mₑ), a grid spacing (bohr) and a number of levels; atomic units.
#[pyclass(module = "confine", name = "Problem", frozen)]
struct PyProblem {
    problem: Problem,
    /// Where the problem comes from (a config file, or what built it), as error messages name it.
    origin: PathBuf,
}

impl PyProblem {
    /// The selected case of a parsed study.
    fn from_study(study: config::Study, case: Option<&str>) -> PyResult<Self> {
        let chosen = study.case(case).map_err(|e| chained(&e))?;
        let problem = chosen.config.problem().map_err(|e| chained(&e))?;
        Ok(Self {
            problem,
            origin: study.path,
        })
    }

    /// `self`'s problem with `levels` levels (the config's when `None`).
    fn with_levels(&self, levels: Option<usize>) -> PyResult<Problem> {
        let mut problem = self.problem.clone();
        if let Some(k) = levels {
            if k == 0 {
                return Err(confine_error("--levels must be at least 1"));
            }
            problem.levels = k;
        }
        Ok(problem)
    }
}

#[pymethods]
impl PyProblem {
    /// The problem of a TOML config text; `case` selects one of its `[[cases]]` (the first when
    /// None), `path` is the file name messages use and relative paths inside are resolved
    /// against (default "<string>": the current directory).
    #[staticmethod]
    #[pyo3(signature = (text, case = None, path = None))]
    fn from_toml(
        py: Python<'_>,
        text: &str,
        case: Option<&str>,
        path: Option<PathBuf>,
    ) -> PyResult<Self> {
        let origin = path.unwrap_or_else(|| PathBuf::from("<string>"));
        let study = solve(py, || {
            config::parse_study(text, &origin).map_err(|e| chained(&e))
        })?;
        Self::from_study(study, case)
    }

    /// The problem of the config file at `path` (as `confine spectrum PATH` reads it; relative
    /// paths inside are relative to the file); `case` selects one of its `[[cases]]`.
    #[staticmethod]
    #[pyo3(signature = (path, case = None))]
    fn from_file(py: Python<'_>, path: PathBuf, case: Option<&str>) -> PyResult<Self> {
        let study = solve(py, || config::load_study(&path).map_err(|e| chained(&e)))?;
        Self::from_study(study, case)
    }

    /// The problem of a config given as nested dicts with the TOML file's tables and keys
    /// (numbers in atomic units or strings with units); `origin` names it in messages.
    #[staticmethod]
    #[pyo3(signature = (config, case = None, origin = "<dict>"))]
    fn from_dict(
        py: Python<'_>,
        config: &Bound<'_, PyDict>,
        case: Option<&str>,
        origin: &str,
    ) -> PyResult<Self> {
        let table = to_table(config, "", origin)?;
        let text = toml::to_string(&table).map_err(|e| confine_error(format!("{origin}: {e}")))?;
        Self::from_toml(py, &text, case, Some(PathBuf::from(origin)))
    }

    /// A tabulated potential V(x) (Hartree at x in bohr, linear between the points, 0 outside
    /// their range) in the box [−L, L] (L = `box_half_width`, bohr), for a particle of mass
    /// `mass` (mₑ) on a grid of spacing ≤ `spacing` (bohr), `levels` levels.
    #[staticmethod]
    #[pyo3(signature = (x, potential, box_half_width, spacing, levels, mass = 1.0))]
    fn tabulated(
        x: PyReadonlyArray1<'_, f64>,
        potential: PyReadonlyArray1<'_, f64>,
        box_half_width: f64,
        spacing: f64,
        levels: usize,
        mass: f64,
    ) -> PyResult<Self> {
        let (x, v) = (to_vec(&x), to_vec(&potential));
        if x.len() != v.len() {
            return Err(confine_error(format!(
                "Problem.tabulated: x has {} points and potential {}; give one V per x",
                x.len(),
                v.len()
            )));
        }
        let table = x.into_iter().zip(v).map(|(x, v)| [x, v]).collect();
        let potential = Potential::tabulated(box_half_width, table).map_err(|e| chained(&e))?;
        for (value, name) in [(mass, "mass"), (spacing, "spacing")] {
            if !(value.is_finite() && value > 0.0) {
                return Err(confine_error(format!(
                    "Problem.tabulated: {name} must be a positive number, got {value}"
                )));
            }
        }
        if levels == 0 {
            return Err(confine_error(
                "Problem.tabulated: levels must be at least 1",
            ));
        }
        Ok(Self {
            problem: Problem::new(potential, mass, spacing, levels),
            origin: PathBuf::from("Problem.tabulated"),
        })
    }

    /// Half-width L of the box (bohr).
    #[getter]
    fn box_half_width(&self) -> f64 {
        self.problem.box_half_width()
    }

    /// Particle mass outside pieces with their own mass (mₑ).
    #[getter]
    fn mass(&self) -> f64 {
        self.problem.mass
    }

    /// Requested grid spacing (bohr).
    #[getter]
    fn spacing(&self) -> f64 {
        self.problem.spacing
    }

    /// Number of levels solved by default.
    #[getter]
    fn levels(&self) -> usize {
        self.problem.levels
    }

    /// The config file or builder this problem comes from.
    #[getter]
    fn origin(&self) -> String {
        self.origin.display().to_string()
    }

    /// The `levels` lowest levels (the problem's own count when None); with
    /// `wavefunctions=True` the spectrum keeps ψ_n on the grid. The GIL is released.
    #[pyo3(signature = (levels = None, wavefunctions = false))]
    fn spectrum(
        &self,
        py: Python<'_>,
        levels: Option<usize>,
        wavefunctions: bool,
    ) -> PyResult<PySpectrum> {
        let problem = self.with_levels(levels)?;
        let origin = self.origin.display().to_string();
        let spectrum = solve(py, || {
            problem.spectrum().map_err(|e| {
                confine_error(format!(
                    "{origin}: computing the spectrum: {}",
                    error_chain(&e)
                ))
            })
        })?;
        Ok(PySpectrum {
            spectrum,
            wavefunctions,
        })
    }

    /// `confine validate --json`: the levels of this square well on `refinements` nested grids
    /// against the exact solution, as a dict (lists of numbers as float64 arrays).
    #[pyo3(signature = (levels = None, refinements = 4))]
    fn validate(
        &self,
        py: Python<'_>,
        levels: Option<usize>,
        refinements: usize,
    ) -> PyResult<Py<PyAny>> {
        let problem = self.with_levels(levels)?;
        let origin = self.origin.display().to_string();
        let value = solve(py, || {
            let v = validate(&problem, refinements)
                .map_err(|e| confine_error(format!("{origin}: validation: {}", error_chain(&e))))?;
            serde_json::to_value(&v).map_err(|e| confine_error(e.to_string()))
        })?;
        json_to_py(py, &value)
    }

    /// `confine converge --json`: the levels on `refinements` nested grids, their observed
    /// order and Richardson extrapolation, as a dict (lists of numbers as float64 arrays).
    #[pyo3(signature = (levels = None, refinements = 4))]
    fn converge(
        &self,
        py: Python<'_>,
        levels: Option<usize>,
        refinements: usize,
    ) -> PyResult<Py<PyAny>> {
        let problem = self.with_levels(levels)?;
        let origin = self.origin.display().to_string();
        let value = solve(py, || {
            let c = self_convergence(&problem, refinements).map_err(|e| {
                confine_error(format!("{origin}: convergence study: {}", error_chain(&e)))
            })?;
            serde_json::to_value(&c).map_err(|e| confine_error(e.to_string()))
        })?;
        json_to_py(py, &value)
    }

    /// Two electrons in this potential with the soft Coulomb interaction
    /// λ/(ε_r √((x₁−x₂)² + s²)) (`strength` λ, `dielectric` ε_r, `softening` s in bohr): CI in
    /// the lowest `orbitals` orbitals, at least the `states` lowest states of each exchange
    /// sector. Dict of arrays per state: `energy`, `kinetic` ⟨K₁+K₂⟩, `potential` ⟨V₁+V₂⟩,
    /// `interaction` ⟨W⟩ (Hartree), `spin` ("singlet"/"triplet"), `sector_index`, `parity`
    /// ("even"/"odd", or None without the mirror symmetry), `leading_pair` (n×2 orbital indices
    /// of the largest CI coefficient) and `leading_weight` (its squared coefficient); with
    /// `check_orbitals=M′` also `convergence`: the same states in M′ > M orbitals (`coarse`,
    /// `fine`, `change` in Hartree, `spin`, `index` per compared state, `max_abs_change`);
    /// with `grid_check=True` also `grid`: the lowest states of each sector by a direct solve
    /// on the 2-D grid of this problem (`singlet`, `triplet` energies in Hartree,
    /// `max_residual`, `seconds`). The GIL is released.
    #[pyo3(signature = (orbitals, states = 10, softening = 1.0, dielectric = 1.0, strength = 1.0, grid_check = false, check_orbitals = None))]
    #[allow(clippy::too_many_arguments)]
    fn coulomb_pair(
        &self,
        py: Python<'_>,
        orbitals: usize,
        states: usize,
        softening: f64,
        dielectric: f64,
        strength: f64,
        grid_check: bool,
        check_orbitals: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let problem = &self.problem;
        let origin = self.origin.display().to_string();
        let fail = |what: &str, e: &dyn std::error::Error| {
            confine_error(format!("{origin}: {what}: {}", error_chain(e)))
        };
        let (ci, convergence, ci_seconds, grid) = solve(py, || {
            let interaction = SoftCoulomb::new(strength, dielectric, softening)
                .map_err(|e| fail("two electrons", &e))?;
            let start = std::time::Instant::now();
            let basis = check_orbitals.unwrap_or(orbitals).max(orbitals);
            let spectrum = problem
                .spectrum_with_levels(problem.levels.max(basis))
                .map_err(|e| fail("computing the spectrum", &e))?;
            let settings = CiSettings {
                states: CiStates::lowest(states),
                ..CiSettings::new(orbitals)
            };
            // The integrals of the larger basis serve both solves (as `confine run` does).
            let ci_problem = CiProblem::new(
                &problem.potential,
                &spectrum,
                &interaction,
                basis,
                Symmetry::Auto,
            )
            .map_err(|e| fail("two electrons (CI)", &e))?;
            let ci = ci_problem
                .solve(&settings)
                .map_err(|e| fail("two electrons (CI)", &e))?;
            let convergence = match check_orbitals {
                Some(fine) => Some(
                    convergence_of(&ci, &ci_problem, fine, StateSelection::Lowest(states))
                        .map_err(|e| fail("two electrons (CI check in M')", &e))?,
                ),
                None => None,
            };
            let ci_seconds = start.elapsed().as_secs_f64();
            let grid = if grid_check {
                let start = std::time::Instant::now();
                let options = GridOptions {
                    levels: states,
                    ..GridOptions::default()
                };
                let g = grid2d::solve(
                    &problem.potential,
                    &spectrum.grid,
                    spectrum.mass,
                    &interaction,
                    &options,
                )
                .map_err(|e| fail("two electrons (2-D grid)", &e))?;
                Some((g, start.elapsed().as_secs_f64()))
            } else {
                None
            };
            Ok((ci, convergence, ci_seconds, grid))
        })?;
        let dict = ci_states_dict(py, &ci)?;
        if let Some(c) = convergence {
            dict.set_item("convergence", convergence_dict(py, &c)?)?;
        }
        dict.set_item("orbitals", ci.orbitals)?;
        dict.set_item("seconds", ci_seconds)?;
        if let Some((g, seconds)) = grid {
            let check = PyDict::new(py);
            check.set_item("singlet", g.symmetric.energies().into_pyarray(py))?;
            check.set_item("triplet", g.antisymmetric.energies().into_pyarray(py))?;
            check.set_item(
                "max_residual",
                g.symmetric
                    .max_residual()
                    .max(g.antisymmetric.max_residual()),
            )?;
            check.set_item("nodes", g.symmetric.nodes)?;
            check.set_item("seconds", seconds)?;
            dict.set_item("grid", check)?;
        }
        Ok(dict.into_any().unbind())
    }

    fn __repr__(&self) -> String {
        format!(
            "Problem(origin={:?}, box_half_width={}, mass={}, spacing={}, levels={}, pieces={})",
            self.origin.display().to_string(),
            self.problem.box_half_width(),
            self.problem.mass,
            self.problem.spacing,
            self.problem.levels,
            self.problem.potential.pieces().len()
        )
    }
}

/// The lowest levels of a problem (Hartree, bohr) with the grid and the solver's report.
#[pyclass(module = "confine", name = "Spectrum", frozen)]
struct PySpectrum {
    spectrum: Spectrum,
    wavefunctions: bool,
}

#[pymethods]
impl PySpectrum {
    /// E_n = ⟨K⟩_n + ⟨V⟩_n (Hartree), ascending, float64 shape (k,).
    #[getter]
    fn energy<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.spectrum.energies().into_pyarray(py)
    }

    /// ⟨K⟩_n (Hartree), float64 shape (k,).
    #[getter]
    fn kinetic<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.spectrum.kinetic().into_pyarray(py)
    }

    /// ⟨V⟩_n (Hartree), float64 shape (k,).
    #[getter]
    fn potential<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let v: Vec<f64> = self.spectrum.levels.iter().map(|l| l.potential).collect();
        v.into_pyarray(py)
    }

    /// ‖Hψ − Eψ‖ of each level (Hartree), float64 shape (k,).
    #[getter]
    fn residual<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let r: Vec<f64> = self.spectrum.levels.iter().map(|l| l.residual).collect();
        r.into_pyarray(py)
    }

    /// Probability of each level on each piece of the potential, float64 shape (k, pieces).
    #[getter]
    fn piece_probability<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let levels = &self.spectrum.levels;
        let pieces = levels.first().map_or(0, |l| l.piece_probability.len());
        let flat: Vec<f64> = levels
            .iter()
            .flat_map(|l| l.piece_probability.iter().copied())
            .collect();
        Ok(Array2::from_shape_vec((levels.len(), pieces), flat)
            .map_err(|e| confine_error(e.to_string()))?
            .into_pyarray(py)
            .into_any())
    }

    /// Probability of each level outside every piece (where V = 0), float64 shape (k,).
    #[getter]
    fn outside_probability<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let p: Vec<f64> = self
            .spectrum
            .levels
            .iter()
            .map(|l| l.outside_probability)
            .collect();
        p.into_pyarray(py)
    }

    /// True where the splitting E_{n+1} − E_n is below the solver's resolution, bool shape (k,).
    #[getter]
    fn unresolved_splitting<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        let u: Vec<bool> = self
            .spectrum
            .levels
            .iter()
            .map(|l| l.unresolved_splitting)
            .collect();
        u.into_pyarray(py)
    }

    /// The interior grid nodes (bohr), float64 shape (N,).
    #[getter]
    fn x<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.spectrum.grid.interior().to_vec().into_pyarray(py)
    }

    /// ψ_n on the interior nodes (bohr^−½), float64 shape (N, k), column n the level n; None
    /// unless the spectrum was computed with `wavefunctions=True`.
    #[getter]
    fn wavefunctions<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if !self.wavefunctions {
            return Ok(None);
        }
        let n = self.spectrum.grid.interior_len();
        let k = self.spectrum.levels.len();
        let mut psi = Array2::<f64>::zeros((n, k));
        for level in 0..k {
            for (j, &a) in self.spectrum.amplitude(level).iter().enumerate() {
                psi[[j, level]] = a;
            }
        }
        Ok(Some(psi.into_pyarray(py).into_any()))
    }

    /// Particle mass (mₑ).
    #[getter]
    fn mass(&self) -> f64 {
        self.spectrum.mass
    }

    /// Grid points per half wavelength of the highest level.
    #[getter]
    fn points_per_half_wavelength(&self) -> f64 {
        self.spectrum.points_per_half_wavelength
    }

    /// Conditions the user should know about (the CLI prints them as warnings).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.spectrum
            .warnings
            .iter()
            .map(|w| w.message.clone())
            .collect()
    }

    /// The solver's report (Sturm count, residuals, orthogonality) as a dict.
    #[getter]
    fn solver(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = serde_json::to_value(&self.spectrum.report)
            .map_err(|e| confine_error(e.to_string()))?;
        json_to_py(py, &value)
    }

    /// The grid's summary (nodes, spacings, segments) as a dict.
    #[getter]
    fn grid(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = serde_json::to_value(self.spectrum.grid.summary())
            .map_err(|e| confine_error(e.to_string()))?;
        json_to_py(py, &value)
    }

    /// The levels as one-particle states (N = 1, g = 1) for the thermodynamics.
    fn states(&self) -> PyResult<PyStates> {
        let states = StateList::single_particle(self.spectrum.energies(), self.spectrum.kinetic())
            .map_err(|e| chained(&e))?;
        Ok(PyStates { states })
    }

    /// Every state of `particles` non-interacting fermions in these orbitals with total energy
    /// ≤ `energy_max` (Hartree), `spin` "half" (two per orbital) or "none" (spinless); the
    /// orbitals must reach high enough (an error says how far). The GIL is released.
    #[pyo3(signature = (particles, energy_max, spin = "half"))]
    fn fermions(
        &self,
        py: Python<'_>,
        particles: usize,
        energy_max: f64,
        spin: &str,
    ) -> PyResult<PyStates> {
        let spin = parse_spin(spin)?;
        let spectrum = &self.spectrum;
        solve(py, || {
            let orbitals = Orbitals::from_spectrum(spectrum).map_err(|e| chained(&e))?;
            let settings = EnumerationSettings::new(particles, spin, energy_max);
            let states = many_body::enumerate(&orbitals, &settings).map_err(|e| chained(&e))?;
            let states = states.to_state_list().map_err(|e| chained(&e))?;
            Ok(PyStates { states })
        })
    }

    /// Exact counts of `particles`-fermion states and their kinetic sums on energy bins of
    /// `bin_width` (Hartree) from the ground state to `energy_max` (Hartree), by dynamic
    /// programming: dict of float64 arrays `e_lo`, `count`, `kinetic_sum`, `entropy` (ln Ω at
    /// each bin's upper edge `upper_edge`) and the scalars of the counting.
    #[pyo3(signature = (particles, energy_max, bin_width, spin = "half"))]
    fn fermion_bins(
        &self,
        py: Python<'_>,
        particles: usize,
        energy_max: f64,
        bin_width: f64,
        spin: &str,
    ) -> PyResult<Py<PyAny>> {
        let spin = parse_spin(spin)?;
        let spectrum = &self.spectrum;
        let counts = solve(py, || {
            let orbitals = Orbitals::from_spectrum(spectrum).map_err(|e| chained(&e))?;
            many_body::binned_counts(&orbitals, particles, spin, energy_max, bin_width)
                .map_err(|e| chained(&e))
        })?;
        let dict = PyDict::new(py);
        let column = |f: fn(&many_body::Bin) -> f64| counts.bins.iter().map(f).collect::<Vec<_>>();
        dict.set_item("e_lo", column(|b| b.e_lo).into_pyarray(py))?;
        dict.set_item("count", column(|b| b.count).into_pyarray(py))?;
        dict.set_item("kinetic_sum", column(|b| b.kinetic_sum).into_pyarray(py))?;
        dict.set_item("upper_edge", counts.upper_edges().into_pyarray(py))?;
        dict.set_item("entropy", counts.entropy().into_pyarray(py))?;
        dict.set_item("e_ground", counts.e_ground)?;
        dict.set_item("bin_width", counts.bin_width)?;
        dict.set_item("energy_error_bound", counts.energy_error_bound)?;
        dict.set_item("orbitals_used", counts.orbitals_used)?;
        Ok(dict.into_any().unbind())
    }

    fn __len__(&self) -> usize {
        self.spectrum.levels.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Spectrum(levels={}, grid_points={}, E0={:.15e} Ha)",
            self.spectrum.levels.len(),
            self.spectrum.grid.interior_len(),
            self.spectrum.levels.first().map_or(f64::NAN, |l| l.energy)
        )
    }
}

/// "half" or "none" as a [`Spin`].
fn parse_spin(spin: &str) -> PyResult<Spin> {
    match spin {
        "half" => Ok(Spin::Half),
        "none" => Ok(Spin::None),
        other => Err(confine_error(format!(
            "spin = {other:?} is not a spin convention; use \"half\" (two per orbital) or \"none\" (spinless)"
        ))),
    }
}

/// "centered", "forward" or "backward" as a [`Difference`].
fn parse_difference(difference: &str) -> PyResult<Difference> {
    match difference {
        "centered" => Ok(Difference::Centered),
        "forward" => Ok(Difference::Forward),
        "backward" => Ok(Difference::Backward),
        other => Err(confine_error(format!(
            "difference = {other:?} is not a finite-difference scheme; use \"centered\", \"forward\" or \"backward\""
        ))),
    }
}

/// States of an N-particle system: energies and kinetic energies (Hartree), ascending, with
/// multiplicities; the input of every temperature definition.
#[pyclass(module = "confine", name = "States", frozen)]
struct PyStates {
    states: StateList,
}

#[pymethods]
impl PyStates {
    /// States with energies `energy` (Hartree, ascending), kinetic energies `kinetic` (Hartree,
    /// ≥ 0), multiplicities (default 1 each) and `particles` particles.
    #[new]
    #[pyo3(signature = (energy, kinetic, multiplicity = None, particles = 1))]
    fn new(
        energy: PyReadonlyArray1<'_, f64>,
        kinetic: PyReadonlyArray1<'_, f64>,
        multiplicity: Option<Vec<u64>>,
        particles: usize,
    ) -> PyResult<Self> {
        let energy = to_vec(&energy);
        let multiplicity = multiplicity.unwrap_or_else(|| vec![1; energy.len()]);
        let states = StateList::new(energy, to_vec(&kinetic), multiplicity, particles)
            .map_err(|e| chained(&e))?;
        Ok(Self { states })
    }

    /// Energies E_i (Hartree), float64 shape (n,).
    #[getter]
    fn energy<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.states.energy().to_vec().into_pyarray(py)
    }

    /// Kinetic energies K_i (Hartree), float64 shape (n,).
    #[getter]
    fn kinetic<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.states.kinetic().to_vec().into_pyarray(py)
    }

    /// Multiplicities g_i, uint64 shape (n,).
    #[getter]
    fn multiplicity<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        self.states.multiplicity().to_vec().into_pyarray(py)
    }

    /// Number of particles N.
    #[getter]
    fn particles(&self) -> usize {
        self.states.particles()
    }

    /// Per state: `t_kinetic` T^(K) = 2⟨K⟩/(dN) (Hartree), `entropy` the Hertz S = ln Ω(E)
    /// and `t_micro` T^(μ) = ΔE/ΔS (Hartree, NaN at the ends) with the finite `difference`
    /// "centered" (the paper's), "forward" or "backward"; float64 arrays shape (n,).
    #[pyo3(signature = (difference = "centered"))]
    fn per_state(&self, py: Python<'_>, difference: &str) -> PyResult<Py<PyAny>> {
        let scheme = parse_difference(difference)?;
        let states = &self.states;
        let (t_kinetic, entropy, t_micro) = solve(py, || {
            Ok((
                kinetic_temperature(states),
                hertz_entropy(states),
                per_state_microcanonical_temperature(states, scheme),
            ))
        })?;
        let dict = PyDict::new(py);
        dict.set_item("energy", self.states.energy().to_vec().into_pyarray(py))?;
        dict.set_item("t_kinetic", t_kinetic.into_pyarray(py))?;
        dict.set_item("entropy", entropy.into_pyarray(py))?;
        dict.set_item("t_micro", optional_array(py, &t_micro))?;
        Ok(dict.into_any().unbind())
    }

    /// Canonical U (Hartree), S, C (k_B = 1) and F (Hartree) at each temperature (Hartree):
    /// dict of float64 arrays shaped like `temperature`.
    fn canonical(
        &self,
        py: Python<'_>,
        temperature: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Py<PyAny>> {
        let temperatures = to_vec(&temperature);
        let states = &self.states;
        let points = solve(py, || {
            canonical_curve(states, &temperatures).map_err(|e| chained(&e))
        })?;
        let dict = PyDict::new(py);
        let column = |f: fn(&confine::physics::thermo::CanonicalPoint) -> f64| {
            points.iter().map(f).collect::<Vec<_>>()
        };
        dict.set_item("temperature", column(|p| p.temperature).into_pyarray(py))?;
        dict.set_item("energy", column(|p| p.energy).into_pyarray(py))?;
        dict.set_item("entropy", column(|p| p.entropy).into_pyarray(py))?;
        dict.set_item(
            "heat_capacity",
            column(|p| p.heat_capacity).into_pyarray(py),
        )?;
        dict.set_item("free_energy", column(|p| p.free_energy).into_pyarray(py))?;
        Ok(dict.into_any().unbind())
    }

    /// T^(C)(E) (Hartree): the temperature in [t_min, t_max] (Hartree) where U(T) = E, for each
    /// energy (Hartree); NaN where no such temperature exists. float64 shaped like `energy`.
    fn canonical_temperature<'py>(
        &self,
        py: Python<'py>,
        energy: PyReadonlyArray1<'_, f64>,
        t_min: f64,
        t_max: f64,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let energies = to_vec(&energy);
        let states = &self.states;
        let t = solve(py, || {
            canonical_temperatures(states, &energies, t_min, t_max).map_err(|e| chained(&e))
        })?;
        let t: Vec<Option<f64>> = t.into_iter().map(Result::ok).collect();
        Ok(optional_array(py, &t))
    }

    /// T_E^(K) (Hartree) over the windows [E, E + ε) at each energy (Hartree, ascending), ε =
    /// `epsilon` (Hartree): dict with float64 `temperature` and `kinetic` (NaN for an empty
    /// window) and int64 `weight` (Σ g in the window).
    fn window_temperature(
        &self,
        py: Python<'_>,
        energy: PyReadonlyArray1<'_, f64>,
        epsilon: f64,
    ) -> PyResult<Py<PyAny>> {
        let energies = to_vec(&energy);
        let states = &self.states;
        let windows = solve(py, || {
            window_averages(states, &energies, epsilon).map_err(|e| chained(&e))
        })?;
        let t: Vec<Option<f64>> = windows.iter().map(|w| w.temperature).collect();
        let k: Vec<Option<f64>> = windows.iter().map(|w| w.kinetic).collect();
        let g: Vec<u64> = windows.iter().map(|w| w.weight).collect();
        let dict = PyDict::new(py);
        dict.set_item("energy", energies.into_pyarray(py))?;
        dict.set_item("temperature", optional_array(py, &t))?;
        dict.set_item("kinetic", optional_array(py, &k))?;
        dict.set_item("weight", g.into_pyarray(py))?;
        Ok(dict.into_any().unbind())
    }

    fn __len__(&self) -> usize {
        self.states.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "States(n={}, particles={}, ground_energy={:.15e} Ha)",
            self.states.len(),
            self.states.particles(),
            self.states.ground_energy()
        )
    }
}

/// The negative-heat-capacity intervals of the curve T(E) (Hartree; NaN = undefined at that
/// energy), as the study finds them: a list of dicts (e_start, e_end, t_start, t_end, drop,
/// relative_drop, points, gaps, start_index, end_index).
#[pyfunction]
#[pyo3(signature = (energy, temperature, relative_tolerance = NHC_RELATIVE_TOLERANCE))]
fn nhc_intervals_of(
    py: Python<'_>,
    energy: PyReadonlyArray1<'_, f64>,
    temperature: PyReadonlyArray1<'_, f64>,
    relative_tolerance: f64,
) -> PyResult<Py<PyAny>> {
    let (e, t) = (to_vec(&energy), to_vec(&temperature));
    if e.len() != t.len() {
        return Err(confine_error(format!(
            "nhc_intervals: energy has {} points and temperature {}; give one T per E",
            e.len(),
            t.len()
        )));
    }
    let points: Vec<(f64, Option<f64>)> = e
        .into_iter()
        .zip(t)
        .map(|(e, t)| (e, (!t.is_nan()).then_some(t)))
        .collect();
    let intervals = solve(py, || {
        nhc_intervals(&points, relative_tolerance).map_err(|e| chained(&e))
    })?;
    let value = serde_json::to_value(&intervals).map_err(|e| confine_error(e.to_string()))?;
    json_to_py(py, &value)
}

/// The compiled part of the `confine` package (see the package's docstrings).
#[pymodule]
fn _confine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ConfineError", m.py().get_type::<ConfineError>())?;
    m.add("NHC_RELATIVE_TOLERANCE", NHC_RELATIVE_TOLERANCE)?;
    m.add_class::<PyProblem>()?;
    m.add_class::<PySpectrum>()?;
    m.add_class::<PyStates>()?;
    m.add_function(wrap_pyfunction!(nhc_intervals_of, m)?)?;
    run::register(m)?;
    Ok(())
}

/// The per-state arrays of a CI spectrum (Hartree): energy, ⟨K⟩, ⟨V⟩, ⟨W⟩, spin, rank in the
/// sector, parity, leading pair and its weight.
fn ci_states_dict<'py>(py: Python<'py>, ci: &CiSpectrum) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let column = |f: fn(&CiState) -> f64| ci.states.iter().map(f).collect::<Vec<_>>();
    dict.set_item("energy", column(|s| s.energy).into_pyarray(py))?;
    dict.set_item("kinetic", column(|s| s.kinetic).into_pyarray(py))?;
    dict.set_item("potential", column(|s| s.potential).into_pyarray(py))?;
    dict.set_item("interaction", column(|s| s.interaction).into_pyarray(py))?;
    let spin: Vec<&str> = ci.states.iter().map(|s| s.exchange.spin_name()).collect();
    dict.set_item("spin", spin)?;
    let rank: Vec<u64> = ci.states.iter().map(|s| s.sector_index as u64).collect();
    dict.set_item("sector_index", rank.into_pyarray(py))?;
    let parity: Vec<Option<&str>> = ci
        .states
        .iter()
        .map(|s| {
            s.parity.map(|p| match p {
                Parity::Even => "even",
                Parity::Odd => "odd",
            })
        })
        .collect();
    dict.set_item("parity", parity)?;
    let pairs: Vec<Vec<u64>> = ci
        .states
        .iter()
        .map(|s| vec![s.leading_pair.0 as u64, s.leading_pair.1 as u64])
        .collect();
    let pairs = numpy::PyArray2::from_vec2(py, &pairs)
        .map_err(|e| confine_error(format!("leading pairs: {e}")))?;
    dict.set_item("leading_pair", pairs)?;
    dict.set_item(
        "leading_weight",
        column(|s| s.leading_weight).into_pyarray(py),
    )?;
    Ok(dict)
}

/// The M -> M' check of a CI spectrum: per compared state the energies in both bases and the
/// change (Hartree), with the largest change.
fn convergence_dict<'py>(py: Python<'py>, c: &CiConvergence) -> PyResult<Bound<'py, PyDict>> {
    let check = PyDict::new(py);
    check.set_item("coarse_orbitals", c.coarse_orbitals)?;
    check.set_item("fine_orbitals", c.fine_orbitals)?;
    let row = |f: fn(&ConvergenceRow) -> f64| c.rows.iter().map(f).collect::<Vec<_>>();
    check.set_item("coarse", row(|r| r.coarse).into_pyarray(py))?;
    check.set_item("fine", row(|r| r.fine).into_pyarray(py))?;
    check.set_item("change", row(|r| r.change).into_pyarray(py))?;
    let spin: Vec<&str> = c.rows.iter().map(|r| r.exchange.spin_name()).collect();
    check.set_item("spin", spin)?;
    let index: Vec<u64> = c.rows.iter().map(|r| r.index as u64).collect();
    check.set_item("index", index.into_pyarray(py))?;
    check.set_item("max_abs_change", c.max_abs_change())?;
    Ok(check)
}
