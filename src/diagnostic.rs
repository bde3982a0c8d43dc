//! What a run tells its user besides its results, typed so that the study, the sweep and the
//! CLI handle it the same way (no message is ever matched as text).
//!
//! A [`Severity::Note`] says what the run did on purpose and why the results stay correct (the
//! spectrum extended for the canonical tail, counting on energy bins with their stated
//! exactness, a canonical table of an ensemble that ends where its own truncation ends). A
//! [`Severity::Warning`] says that a reported number is less accurate than the run claims, or
//! that something requested is missing from the results. Both are recorded per case in
//! `metadata.json` (`notes`, `warnings`); the CLI prints the warnings once per [`Kind`] with the
//! cases they concern ([`group`]), and the notes only with `-v`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Whether a diagnostic is a note (correct by design) or a warning (accuracy or range lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// What the run did on purpose; the results stay as accurate as claimed.
    Note,
    /// A reported number is less accurate than claimed, or a requested range is cut.
    Warning,
}

impl Severity {
    /// The word the CLI prints before the message ("note", "warning").
    pub fn word(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
        }
    }
}

/// What a diagnostic is about: one variant per condition, so that equal conditions of many
/// cases are printed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Levels with fewer than [`crate::spectrum::WARN_POINTS_PER_HALF_WAVELENGTH`] grid points
    /// per half wavelength (a warning when a reported quantity uses them, see docs/NUMERICS.md).
    UnderResolvedLevels,
    /// Adjacent levels closer than the solver resolves.
    UnresolvedSplittings,
    /// Levels added above the requested ones so that the omitted ones are negligible in Z.
    SpectrumExtended,
    /// The enumeration of N-particle states went over the state limit; counted on energy bins.
    BinnedCounting,
    /// Binned N-particle energies are exact to a stated bound.
    BinnedEnergies,
    /// The canonical table of an N-fermion gas ends where its computed orbitals stop bounding
    /// the omitted share of Z.
    FermionCanonicalRange,
    /// The canonical table of a Coulomb variant ends where its states below E_max stop bounding
    /// Z.
    CoulombCanonicalRange,
    /// The configured energy grid lies outside the computed levels.
    EnergyGridOutsideSpectrum,
    /// Levels whose self-convergence order is far from 2.
    OrderFarFromTwo,
}

impl Kind {
    /// A short phrase naming the condition, for the grouped line of the CLI.
    pub fn summary(self) -> &'static str {
        match self {
            Kind::UnderResolvedLevels => "levels under-resolved by the grid",
            Kind::UnresolvedSplittings => "level splittings below the solver's resolution",
            Kind::SpectrumExtended => "spectrum extended for the canonical tail",
            Kind::BinnedCounting => "N-particle states counted on energy bins",
            Kind::BinnedEnergies => "binned N-particle energies",
            Kind::FermionCanonicalRange => "N-fermion canonical table ends below T_max",
            Kind::CoulombCanonicalRange => "Coulomb canonical table ends below T_max",
            Kind::EnergyGridOutsideSpectrum => "energy grid outside the computed levels",
            Kind::OrderFarFromTwo => "convergence order far from 2",
        }
    }
}

/// One note or warning of a run: what it is about, in which case, the text for a human, and
/// the numbers behind it (named, in atomic units unless the name says otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Note or warning.
    pub severity: Severity,
    /// The condition.
    pub kind: Kind,
    /// The case it concerns (None outside a study, e.g. `confine spectrum`).
    pub case: Option<String>,
    /// The explanation, with what to change (does not repeat the case name).
    pub message: String,
    /// The numbers of the message, by name (Hartree, bohr, counts; dimensionless shares).
    pub numbers: BTreeMap<String, f64>,
}

impl Diagnostic {
    /// A warning of `kind` with `message`.
    pub fn warning(kind: Kind, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, kind, message)
    }

    /// A note of `kind` with `message`.
    pub fn note(kind: Kind, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, kind, message)
    }

    fn new(severity: Severity, kind: Kind, message: impl Into<String>) -> Self {
        Self {
            severity,
            kind,
            case: None,
            message: message.into(),
            numbers: BTreeMap::new(),
        }
    }

    /// The same with the number `value` recorded as `name`.
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.numbers.insert(name.to_string(), value);
        self
    }

    /// The same, said of case `case`.
    pub fn in_case(mut self, case: &str) -> Self {
        self.case = Some(case.to_string());
        self
    }

    /// True for a warning.
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.case {
            Some(case) => write!(f, "{}: case {case}: {}", self.severity.word(), self.message),
            None => write!(f, "{}: {}", self.severity.word(), self.message),
        }
    }
}

/// The diagnostics of one severity and kind over all cases: printed as one line.
#[derive(Debug, Clone, PartialEq)]
pub struct Group<'a> {
    /// Note or warning.
    pub severity: Severity,
    /// The condition.
    pub kind: Kind,
    /// Every diagnostic of this kind, in the order given.
    pub members: Vec<&'a Diagnostic>,
}

/// At most this many case names are listed on a grouped line; the rest are counted.
pub const LISTED_CASES: usize = 5;

impl Group<'_> {
    /// The distinct cases of the group, in the order given.
    pub fn cases(&self) -> Vec<&str> {
        let mut cases: Vec<&str> = Vec::new();
        for d in &self.members {
            if let Some(c) = d.case.as_deref() {
                if !cases.contains(&c) {
                    cases.push(c);
                }
            }
        }
        cases
    }
}

impl fmt::Display for Group<'_> {
    /// `warning: <kind> in 3 cases (A, B, C): <the first case's message>`; a group of one case
    /// or of none prints its message as it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cases = self.cases();
        let first = self.members[0];
        if cases.len() <= 1 && self.members.len() == 1 {
            return write!(f, "{first}");
        }
        let word = self.severity.word();
        if cases.is_empty() {
            write!(
                f,
                "{word}: {} ({} times):",
                self.kind.summary(),
                self.members.len()
            )?;
            for d in &self.members {
                write!(f, "\n  {}", d.message)?;
            }
            return Ok(());
        }
        let mut listed = cases
            .iter()
            .take(LISTED_CASES)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if cases.len() > LISTED_CASES {
            listed.push_str(&format!(" and {} more", cases.len() - LISTED_CASES));
        }
        let plural = if cases.len() == 1 { "" } else { "s" };
        write!(
            f,
            "{word}: {} in {} case{plural} ({listed}); e.g. case {}: {}",
            self.kind.summary(),
            cases.len(),
            first.case.as_deref().unwrap_or(""),
            first.message
        )?;
        if self.members.len() > cases.len() {
            write!(
                f,
                " ({} in all; each is listed in its case's metadata.json)",
                self.members.len()
            )?;
        }
        Ok(())
    }
}

/// The diagnostics of `severity` in `all`, one group per kind (in the order of [`Kind`]).
pub fn group(all: &[Diagnostic], severity: Severity) -> Vec<Group<'_>> {
    let mut by_kind: BTreeMap<Kind, Vec<&Diagnostic>> = BTreeMap::new();
    for d in all.iter().filter(|d| d.severity == severity) {
        by_kind.entry(d.kind).or_default().push(d);
    }
    by_kind
        .into_iter()
        .map(|(kind, members)| Group {
            severity,
            kind,
            members,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_kind_lists_the_cases_once() {
        let w =
            |case: &str, m: &str| Diagnostic::warning(Kind::CoulombCanonicalRange, m).in_case(case);
        let all = vec![
            w("a", "W off: x"),
            w("a", "eps_r = 1: y"),
            w("b", "W off: z"),
            Diagnostic::note(Kind::SpectrumExtended, "n").in_case("a"),
        ];
        let groups = group(&all, Severity::Warning);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].cases(), ["a", "b"]);
        assert_eq!(
            groups[0].to_string(),
            "warning: Coulomb canonical table ends below T_max in 2 cases (a, b); e.g. case a: W off: x (3 in all; each is listed in its case's metadata.json)"
        );
        let notes = group(&all, Severity::Note);
        assert_eq!(notes[0].to_string(), "note: case a: n");
        // Without cases (e.g. `confine spectrum`), each message on its own line.
        let free = [
            Diagnostic::warning(Kind::UnresolvedSplittings, "p"),
            Diagnostic::warning(Kind::UnresolvedSplittings, "q"),
        ];
        assert_eq!(
            group(&free, Severity::Warning)[0].to_string(),
            "warning: level splittings below the solver's resolution (2 times):\n  p\n  q"
        );
        let many: Vec<Diagnostic> = (0..7)
            .map(|i| Diagnostic::warning(Kind::UnderResolvedLevels, "m").in_case(&format!("c{i}")))
            .collect();
        assert!(group(&many, Severity::Warning)[0]
            .to_string()
            .contains("in 7 cases (c0, c1, c2, c3, c4 and 2 more)"));
    }
}
