//! Scenario files: RON text → [`raw::RawScenario`] (serde) → merged along `extends` →
//! validated [`Scenario`] with its baseline loaded and every code resolved to an index.
//!
//! Every error names the file, line and column and says what to change; validation reports
//! every error it finds at once.

pub mod batch;
pub mod raw;
pub mod schema;

use crate::data::{self, Baseline};
use crate::error::{Error, Result};
use crate::model::caliendo_parro::SolverSettings;
use crate::policy::{Agreement, Depth, DepthPairs, Membership, ProductGroup, Rule, Schedule};
use raw::{
    BaselineRef, Deficits, Elasticity, PhaseOuts, RawAgreement, RawComparedWith, RawDepth,
    RawDepthPairs, RawScenario, RawSchedule,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The text of a scenario file, kept to point at mistakes.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// The 1-based line and column of the first `needle` after the first `anchor` (if any).
    fn locate(&self, anchor: Option<&str>, needle: &str) -> (usize, usize) {
        // Search the code only: comments are blanked out (same byte offsets).
        let code = blank_comments(&self.text);
        let start = anchor.and_then(|a| code.find(a)).unwrap_or(0);
        let at = code[start..]
            .find(needle)
            .map(|p| p + start)
            .or_else(|| anchor.and_then(|a| code.find(a)));
        match at {
            Some(off) => {
                let before = &self.text[..off];
                let line = before.matches('\n').count() + 1;
                let col = off - before.rfind('\n').map_or(0, |p| p + 1) + 1;
                (line, col)
            }
            None => (1, 1),
        }
    }

    fn error(&self, anchor: Option<&str>, needle: &str, message: impl Into<String>) -> Error {
        let (line, col) = self.locate(anchor, needle);
        Error::scenario(&self.path, &self.text, line, col, message)
    }
}

/// The text with `//` and `/* */` comments replaced by spaces (outside string literals), so
/// that byte offsets stay those of the original.
fn blank_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let (mut k, mut in_str) = (0, false);
    while k < b.len() {
        if in_str {
            if b[k] == b'\\' {
                k += 2;
                continue;
            }
            if b[k] == b'"' {
                in_str = false;
            }
            k += 1;
        } else if b[k] == b'"' {
            in_str = true;
            k += 1;
        } else if b[k..].starts_with(b"//") {
            while k < b.len() && b[k] != b'\n' {
                out[k] = b' ';
                k += 1;
            }
        } else if b[k..].starts_with(b"/*") {
            while k < b.len() && !b[k..].starts_with(b"*/") {
                if b[k] != b'\n' {
                    out[k] = b' ';
                }
                k += 1;
            }
            for _ in 0..2 {
                if k < b.len() {
                    out[k] = b' ';
                    k += 1;
                }
            }
        } else {
            k += 1;
        }
    }
    // Whole characters are blanked (comments end at a newline or `*/`), so this stays UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// A validated scenario, ready to resolve and solve.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    pub baseline: Baseline,
    pub base_year: i32,
    /// The years to solve, ascending.
    pub years: Vec<i32>,
    /// θ^j after overrides.
    pub theta: Vec<f64>,
    pub deficits: Deficits,
    pub input_output: bool,
    pub solver: SolverSettings,
    pub agreements: Vec<Agreement>,
    /// The investment block, when the scenario projects FDI.
    pub investment: Option<crate::invest::Investment>,
    /// What every `*_pct` output is measured against.
    pub compared_with: ComparedWith,
}

/// What a scenario's outcomes are measured against.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparedWith {
    /// The solved base year: every year against the base-year equilibrium.
    BaseYear,
    /// A reference path: every year against the reference's equilibrium of the same year,
    /// solved with the scenario's world, base year, θ, deficits, input-output setting and
    /// solver (and, in a batch, the same draw's parameters).
    Reference(Box<ReferencePath>),
}

/// The reference path a scenario is compared with: its policy (agreements), resolved on the
/// scenario's own world.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencePath {
    /// The reference scenario's name.
    pub name: String,
    /// The reference scenario file.
    pub file: PathBuf,
    /// The reference's agreements left out (they are `removed` in `agreements`).
    pub without: Vec<String>,
    /// The reference's agreements, those in `without` marked removed.
    pub agreements: Vec<Agreement>,
}

impl ComparedWith {
    /// `base_year` or `reference`: the value of the `compared_with` output column.
    pub fn kind(&self) -> &'static str {
        match self {
            ComparedWith::BaseYear => "base_year",
            ComparedWith::Reference(_) => "reference",
        }
    }

    /// One line saying what percent changes are measured against.
    pub fn describe(&self, base_year: i32) -> String {
        match self {
            ComparedWith::BaseYear => format!(
                "the solved base year {base_year} (every year against the {base_year} equilibrium)"
            ),
            ComparedWith::Reference(r) => format!(
                "the reference path `{}` ({}){}, year by year (each year against the reference's outcome in the same year)",
                r.name,
                r.file.display(),
                if r.without.is_empty() {
                    String::new()
                } else {
                    format!(" without {}", r.without.join(", "))
                }
            ),
        }
    }

    /// The reference's agreements, when there is a reference.
    pub fn reference(&self) -> Option<&ReferencePath> {
        match self {
            ComparedWith::BaseYear => None,
            ComparedWith::Reference(r) => Some(r),
        }
    }
}

/// A raw agreement with the file it came from.
#[derive(Debug, Clone)]
struct Located<T> {
    value: T,
    source: Arc<Source>,
}

/// A scenario merged along its `extends` chain, paths made absolute, not yet validated.
#[derive(Debug, Clone)]
struct Merged {
    name: String,
    description: Option<String>,
    source: Arc<Source>,
    baseline: Option<Located<BaselineRef>>,
    base_year: Option<i32>,
    horizon: Option<i32>,
    years: Option<Vec<i32>>,
    elasticities: BTreeMap<String, Located<Elasticity>>,
    deficits: Option<Deficits>,
    input_output: Option<bool>,
    solver: Option<raw::RawSolver>,
    agreements: Vec<Located<RawAgreement>>,
    investment: Option<Located<raw::RawInvestment>>,
    remove: Vec<Located<String>>,
    continue_phase_out: Vec<Located<String>>,
    phase_outs: Option<PhaseOuts>,
    compared_with: Option<Located<RawComparedWith>>,
    depth: BTreeMap<String, Located<RawDepth>>,
}

/// Parse one file's RON text into a [`RawScenario`], with line and column on error.
pub fn parse(path: &Path, text: &str) -> Result<RawScenario> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str::<RawScenario>(text).map_err(|e| {
        let message = explain_ron_error(&e.code);
        Error::scenario(path, text, e.span.start.line, e.span.start.col, message)
    })
}

fn explain_ron_error(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "unknown field `{found}`{}; expected one of: {}",
            outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default(),
            expected.join(", ")
        ),
        E::MissingStructField { field, outer } => format!(
            "missing field `{field}`{}; add it",
            outer
                .as_ref()
                .map(|o| format!(" in `{o}`"))
                .unwrap_or_default()
        ),
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "unknown variant `{found}`{}; expected one of: {}",
            outer
                .as_ref()
                .map(|o| format!(" of `{o}`"))
                .unwrap_or_default(),
            expected.join(", ")
        ),
        E::ExpectedDifferentStructName { expected, found } => {
            format!("this file starts with `{found}(`, but a scenario file must start with `{expected}(`")
        }
        other => format!(
            "{other}; check the syntax near here (RON: `field: value,` inside `Scenario( ... )`)"
        ),
    }
}

fn read_source(path: &Path) -> Result<Arc<Source>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(Arc::new(Source {
        path: path.to_path_buf(),
        text,
    }))
}

fn resolve(dir: &Path, p: &str) -> String {
    let pb = Path::new(p);
    if pb.is_absolute() {
        p.to_string()
    } else {
        dir.join(pb).display().to_string()
    }
}

/// Read a file and its `extends` chain into one merged scenario.
fn load_merged(path: &Path, chain: &mut Vec<PathBuf>) -> Result<Merged> {
    let canonical = path.canonicalize().map_err(|e| Error::io(path, e))?;
    if chain.contains(&canonical) {
        return Err(Error::invalid(
            path.display().to_string(),
            format!(
                "`extends` makes a cycle: {}; remove one link",
                chain
                    .iter()
                    .chain([&canonical])
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" → ")
            ),
        ));
    }
    chain.push(canonical);
    let source = read_source(path)?;
    let raw = parse(path, &source.text)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    fn at<T>(value: T, source: &Arc<Source>) -> Located<T> {
        Located {
            value,
            source: source.clone(),
        }
    }
    let mut m = match &raw.extends {
        Some(parent) => {
            let ppath = PathBuf::from(resolve(&dir, parent));
            if !ppath.exists() {
                return Err(source.error(Some("extends"), parent, format!("`extends` names {}, which does not exist; give a path relative to this file", ppath.display())));
            }
            load_merged(&ppath, chain)?
        }
        None => Merged {
            name: String::new(),
            description: None,
            source: source.clone(),
            baseline: None,
            base_year: None,
            horizon: None,
            years: None,
            elasticities: BTreeMap::new(),
            deficits: None,
            input_output: None,
            solver: None,
            agreements: Vec::new(),
            investment: None,
            remove: Vec::new(),
            continue_phase_out: Vec::new(),
            phase_outs: None,
            compared_with: None,
            depth: BTreeMap::new(),
        },
    };
    m.name = raw.name.clone();
    m.description = raw.description.clone();
    m.source = source.clone();
    if let Some(b) = raw.baseline {
        let b = match b {
            BaselineRef::Csv(p) => BaselineRef::Csv(resolve(&dir, &p)),
            BaselineRef::CaliendoParro2015(p) => BaselineRef::CaliendoParro2015(resolve(&dir, &p)),
            other => other,
        };
        m.baseline = Some(at(b, &source));
    }
    m.base_year = raw.base_year.or(m.base_year);
    m.horizon = raw.horizon.or(m.horizon);
    if raw.years.is_some() {
        m.years = raw.years;
    }
    for (k, v) in raw.elasticities {
        let v = match v {
            Elasticity::FromEstimate { file, coefficient } => Elasticity::FromEstimate {
                file: resolve(&dir, &file),
                coefficient,
            },
            other => other,
        };
        m.elasticities.insert(k, at(v, &source));
    }
    m.deficits = raw.deficits.or(m.deficits);
    m.input_output = raw.input_output.or(m.input_output);
    if let Some(s) = raw.solver {
        let old = m.solver.unwrap_or(raw::RawSolver {
            tolerance: None,
            max_iterations: None,
            step: None,
        });
        m.solver = Some(raw::RawSolver {
            tolerance: s.tolerance.or(old.tolerance),
            max_iterations: s.max_iterations.or(old.max_iterations),
            step: s.step.or(old.step),
        });
    }
    for mut a in raw.agreements {
        if let Some(RawDepth::FromEstimate { file, .. }) = &mut a.depth {
            *file = resolve(&dir, file);
        }
        m.agreements.retain(|x| x.value.name != a.name);
        m.agreements.push(at(a, &source));
    }
    if let Some(mut inv) = raw.investment {
        if let Some(p) = &mut inv.stocks {
            *p = resolve(&dir, p);
        }
        for e in &mut inv.from_estimate {
            e.file = resolve(&dir, &e.file);
        }
        m.investment = Some(at(inv, &source));
    }
    m.phase_outs = raw.phase_outs.or(m.phase_outs);
    if let Some(c) = raw.compared_with {
        let c = match c {
            RawComparedWith::Reference { file, without } => RawComparedWith::Reference {
                file: resolve(&dir, &file),
                without,
            },
            other => other,
        };
        m.compared_with = Some(at(c, &source));
    }
    for (k, mut d) in raw.depth {
        if let RawDepth::FromEstimate { file, .. } = &mut d {
            *file = resolve(&dir, file);
        }
        m.depth.insert(k, at(d, &source));
    }
    m.remove
        .extend(raw.remove_agreements.into_iter().map(|r| at(r, &source)));
    m.continue_phase_out
        .extend(raw.continue_phase_out.into_iter().map(|r| at(r, &source)));
    chain.pop();
    Ok(m)
}

/// Load, merge and validate a scenario file, loading its baseline.
pub fn load(path: &Path) -> Result<Scenario> {
    let m = load_merged(path, &mut Vec::new())?;
    let src = m.source.clone();
    let Some(bref) = &m.baseline else {
        return Err(src.error(None, "Scenario", "no `baseline` is given (here or in the files it extends); add e.g. `baseline: Builtin(\"apac-americas-2014\")`"));
    };
    let baseline = load_baseline(&bref.value).map_err(|e| match e {
        Error::Io { path, source } => bref.source.error(
            Some("baseline"),
            "baseline",
            format!("the baseline cannot be read: {}: {source}; check the path (relative to this file) or the data directory", path.display()),
        ),
        other => other,
    })?;
    validate(m, baseline)
}

/// Load, merge and validate a scenario file against `baseline` instead of the baseline the
/// file names (the world builder validates the agreements of `baseline-2014.ron` against the
/// world it is building).
pub fn load_with_baseline(path: &Path, baseline: Baseline) -> Result<Scenario> {
    let m = load_merged(path, &mut Vec::new())?;
    validate(m, baseline)
}

/// Load the baseline a scenario names.
pub fn load_baseline(r: &BaselineRef) -> Result<Baseline> {
    match r {
        BaselineRef::Builtin(name) => {
            let dir = builtin_dir(name);
            if !dir.is_dir() {
                return Err(Error::invalid(format!("Builtin(\"{name}\")"), format!("no built-in world of that name (looked in {}); the built-in world is `apac-americas-2014`", dir.display())));
            }
            let mut b = data::tidy::load(&dir)?;
            b.name = name.clone();
            Ok(b)
        }
        BaselineRef::Csv(dir) => data::tidy::load(Path::new(dir)),
        BaselineRef::CaliendoParro2015(dir) => data::cp2015::load(Path::new(dir)),
    }
}

/// Where the built-in worlds live: `data/<name>` in the repository.
pub fn builtin_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// Read a coefficient from an estimate's JSON file (`tradesim estimate --json`).
pub fn estimate_coefficient(file: &str, coefficient: &str) -> std::result::Result<f64, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the estimate file {file}: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
    let coefs = v.get("coefficients").ok_or_else(|| {
        format!("{file} has no `coefficients` object; write it with `tradesim estimate --json`")
    })?;
    let c = coefs.get(coefficient).ok_or_else(|| {
        let names: Vec<&str> = coefs
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        format!(
            "{file} has no coefficient `{coefficient}` (it has: {})",
            names.join(", ")
        )
    })?;
    c.get("estimate")
        .and_then(|e| e.as_f64())
        .filter(|e| e.is_finite())
        .ok_or_else(|| format!("coefficient `{coefficient}` in {file} has no finite `estimate`"))
}

fn validate(m: Merged, baseline: Baseline) -> Result<Scenario> {
    let src = m.source.clone();
    let mut errors: Vec<Error> = Vec::new();
    let base_year = m.base_year.unwrap_or_else(|| {
        errors.push(src.error(
            None,
            "Scenario",
            "no `base_year` is given; add the year of the baseline data, e.g. `base_year: 2014`",
        ));
        0
    });
    let years: Vec<i32> = match (&m.years, m.horizon) {
        (Some(ys), _) => {
            let mut ys = ys.clone();
            ys.sort_unstable();
            ys.dedup();
            if ys.is_empty() {
                errors.push(src.error(Some("years"), "years", "`years` is empty; list at least one year or remove it to solve base_year..=horizon"));
            }
            if let Some(y) = ys.iter().find(|y| **y < base_year) {
                errors.push(src.error(Some("years"), &y.to_string(), format!("year {y} is before base_year {base_year}; years are solved from the base year on")));
            }
            ys
        }
        (None, Some(h)) => {
            if h < base_year {
                errors.push(src.error(
                    Some("horizon"),
                    "horizon",
                    format!("horizon {h} is before base_year {base_year}"),
                ));
            }
            (base_year..=h).collect()
        }
        (None, None) => {
            errors.push(src.error(
                None,
                "Scenario",
                "neither `horizon` nor `years` is given; add e.g. `horizon: 2035`",
            ));
            Vec::new()
        }
    };

    let mut theta: Vec<f64> = baseline.sectors.iter().map(|s| s.theta).collect();
    for (code, e) in &m.elasticities {
        let Some(j) = baseline.sector_index(code) else {
            errors.push(e.source.error(
                Some("elasticities"),
                &format!("\"{code}\""),
                format!(
                    "elasticity for `{code}`, which is not a sector of the baseline (sectors: {})",
                    codes(baseline.sectors.iter().map(|s| &s.code))
                ),
            ));
            continue;
        };
        let v = match &e.value {
            Elasticity::Value(v) => Ok(*v),
            Elasticity::FromEstimate { file, coefficient } => {
                estimate_coefficient(file, coefficient).map(|c| -c)
            }
        };
        match v {
            Ok(v) if v.is_finite() && v > 0.0 => theta[j] = v,
            Ok(v) => errors.push(e.source.error(Some("elasticities"), &format!("\"{code}\""), format!("the elasticity of `{code}` is {v}; θ must be positive (an estimate's coefficient on log(1+tariff) is −θ)"))),
            Err(msg) => errors.push(e.source.error(Some("elasticities"), &format!("\"{code}\""), msg)),
        }
    }

    let solver = {
        let d = SolverSettings::default();
        let s = m.solver.unwrap_or(raw::RawSolver {
            tolerance: None,
            max_iterations: None,
            step: None,
        });
        let st = SolverSettings {
            tolerance: s.tolerance.unwrap_or(d.tolerance),
            max_iterations: s.max_iterations.unwrap_or(d.max_iterations),
            step: s.step.unwrap_or(d.step),
        };
        if !(st.tolerance > 0.0 && st.tolerance < 1.0)
            || st.max_iterations == 0
            || !(st.step > 0.0 && st.step <= 1.0)
        {
            errors.push(src.error(Some("solver"), "solver", "solver settings out of range: tolerance in (0, 1), max_iterations ≥ 1, step in (0, 1]"));
        }
        st
    };

    let names: BTreeSet<&str> = m.agreements.iter().map(|a| a.value.name.as_str()).collect();
    for r in m.remove.iter().chain(&m.continue_phase_out) {
        if !names.contains(r.value.as_str()) {
            errors.push(r.source.error(
                None,
                &format!("\"{}\"", r.value),
                format!(
                    "no agreement named `{}` (agreements: {})",
                    r.value,
                    names.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let removed: BTreeSet<&str> = m.remove.iter().map(|r| r.value.as_str()).collect();
    let continued: BTreeSet<&str> = m
        .continue_phase_out
        .iter()
        .map(|r| r.value.as_str())
        .collect();
    let investment = m
        .investment
        .as_ref()
        .and_then(|inv| validate_investment(inv, &baseline, &mut errors));
    let run_to_the_end = m.phase_outs == Some(PhaseOuts::RunToTheEnd);
    let mut agreements = Vec::new();
    for a in &m.agreements {
        let mut ag = validate_agreement(&a.value, &a.source, &baseline, base_year, &mut errors);
        ag.removed = removed.contains(ag.name.as_str());
        if ag.entry_into_force <= base_year
            && !run_to_the_end
            && !continued.contains(ag.name.as_str())
        {
            ag.frozen_from = Some(base_year);
        }
        agreements.push(ag);
    }
    for (name, d) in &m.depth {
        let anchor = format!("\"{name}\"");
        match agreements.iter_mut().find(|a| &a.name == name) {
            Some(ag) => {
                let members: Vec<usize> = ag.members.iter().map(|x| x.economy).collect();
                ag.depth = validate_depth(
                    &d.value,
                    name,
                    &members,
                    &d.source,
                    Some(&anchor),
                    &baseline,
                    &mut errors,
                );
            }
            None => errors.push(d.source.error(
                Some("depth"),
                &anchor,
                format!(
                    "`depth` names agreement `{name}`, which this scenario does not have{}",
                    did_you_mean(name, agreements.iter().map(|a| a.name.as_str()))
                ),
            )),
        }
    }
    let compared_with = match &m.compared_with {
        None => ComparedWith::BaseYear,
        Some(c) => match &c.value {
            RawComparedWith::BaseYear => ComparedWith::BaseYear,
            RawComparedWith::Reference { file, without } => {
                match reference_path(&m, c, file, without, &baseline, base_year, &years) {
                    Ok(r) => ComparedWith::Reference(Box::new(r)),
                    Err(e) => {
                        errors.push(e);
                        ComparedWith::BaseYear
                    }
                }
            }
        },
    };
    if let (ComparedWith::Reference(r), true) = (&compared_with, errors.is_empty()) {
        if let Err(e) = same_base_year_policy(
            &baseline,
            base_year,
            &agreements,
            r,
            m.compared_with.as_ref().expect("a reference was given"),
        ) {
            errors.push(e);
        }
    }
    match errors.len() {
        0 => Ok(Scenario {
            name: m.name,
            description: m.description,
            path: src.path.clone(),
            baseline,
            base_year,
            years,
            theta,
            deficits: m.deficits.unwrap_or(Deficits::Baseline),
            input_output: m.input_output.unwrap_or(true),
            solver,
            agreements,
            investment,
            compared_with,
        }),
        1 => Err(errors.pop().expect("one error")),
        _ => Err(Error::Many(errors)),
    }
}

fn codes<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// `; did you mean `x`?` for the closest name (by edit distance, when it is close), else the
/// list of names.
fn did_you_mean<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    let lower = name.to_lowercase();
    let best = names
        .iter()
        .map(|n| (edit_distance(&lower, &n.to_lowercase()), *n))
        .min();
    match best {
        Some((d, n)) if d <= 3.max(name.len() / 3) => format!("; did you mean `{n}`?"),
        _ if names.is_empty() => String::new(),
        _ => format!("; its agreements are: {}", names.join(", ")),
    }
}

/// The baseline a scenario file names, normalised for comparison (directories canonicalised).
fn baseline_key(b: &BaselineRef) -> String {
    let canon = |p: &str| {
        Path::new(p)
            .canonicalize()
            .map_or_else(|_| p.to_string(), |c| c.display().to_string())
    };
    match b {
        BaselineRef::Builtin(n) => format!("Builtin(\"{n}\")"),
        BaselineRef::Csv(p) => format!("Csv(\"{}\")", canon(p)),
        BaselineRef::CaliendoParro2015(p) => format!("CaliendoParro2015(\"{}\")", canon(p)),
    }
}

/// Load the reference path a scenario names: the reference file on the same world and base
/// year, solving the scenario's years, its agreements validated on the scenario's baseline,
/// those in `without` removed.
fn reference_path(
    m: &Merged,
    c: &Located<RawComparedWith>,
    file: &str,
    without: &[String],
    baseline: &Baseline,
    base_year: i32,
    years: &[i32],
) -> Result<ReferencePath> {
    let src = &c.source;
    let here = |msg: String| src.error(Some("compared_with"), "Reference", msg);
    let path = PathBuf::from(file);
    if !path.exists() {
        return Err(here(format!(
            "the reference {} does not exist; give a scenario file relative to this file",
            path.display()
        )));
    }
    let mut r = load_merged(&path, &mut Vec::new())?;
    if r.source.path.canonicalize().ok() == m.source.path.canonicalize().ok() {
        return Err(here(
            "a scenario cannot be its own reference; name the reference path's file".into(),
        ));
    }
    let (mine, theirs) = (
        m.baseline.as_ref().map(|b| baseline_key(&b.value)),
        r.baseline.as_ref().map(|b| baseline_key(&b.value)),
    );
    if mine != theirs {
        return Err(here(format!(
            "the reference {} is built on another world ({}) than this scenario ({}); a reference must use the same baseline",
            path.display(),
            theirs.as_deref().unwrap_or("no baseline"),
            mine.as_deref().unwrap_or("no baseline")
        )));
    }
    if r.base_year != Some(base_year) {
        return Err(here(format!(
            "the reference {} has base year {}, this scenario {base_year}; a reference must have the same base year",
            path.display(),
            r.base_year.map_or("none".to_string(), |y| y.to_string())
        )));
    }
    let ref_years: Vec<i32> = match (&r.years, r.horizon) {
        (Some(ys), _) => ys.clone(),
        (None, Some(h)) => (base_year..=h).collect(),
        (None, None) => Vec::new(),
    };
    let missing: Vec<String> = years
        .iter()
        .filter(|y| !ref_years.contains(y))
        .map(|y| y.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(here(format!(
            "the reference {} does not solve year(s) {} that this scenario solves (it solves {}); give the reference a horizon that covers the scenario's years",
            path.display(),
            missing.join(", "),
            crate::report::compact_years(&ref_years)
        )));
    }
    // The reference contributes its policy; the model settings are the scenario's.
    r.compared_with = None;
    r.years = Some(years.to_vec());
    r.horizon = None;
    r.investment = None;
    let name = r.name.clone();
    let reference = validate(r, baseline.clone())?;
    let mut agreements = reference.agreements;
    let mut errors = Vec::new();
    for w in without {
        match agreements.iter_mut().find(|a| &a.name == w) {
            Some(a) => a.removed = true,
            None => errors.push(src.error(
                Some("without"),
                &format!("\"{w}\""),
                format!(
                    "`without` names `{w}`, which the reference {} does not have{}",
                    path.display(),
                    did_you_mean(w, agreements.iter().map(|a| a.name.as_str()))
                ),
            )),
        }
    }
    match errors.len() {
        0 => Ok(ReferencePath {
            name,
            file: path,
            without: without.to_vec(),
            agreements,
        }),
        1 => Err(errors.pop().expect("one error")),
        _ => Err(Error::Many(errors)),
    }
}

/// The scenario and its reference must describe the same base-year world: the same applied
/// tariffs and depth effects in the base year (the data), so that both start from one solved
/// baseline.
fn same_base_year_policy(
    b: &Baseline,
    base_year: i32,
    agreements: &[Agreement],
    r: &ReferencePath,
    c: &Located<RawComparedWith>,
) -> Result<()> {
    let mine = crate::policy::resolve_year(b, agreements, base_year, false);
    let theirs = crate::policy::resolve_year(b, &r.agreements, base_year, false);
    let differ = mine
        .tariffs
        .data
        .iter()
        .zip(&theirs.tariffs.data)
        .position(|(x, y)| x != y);
    if let Some(k) = differ {
        let nn = b.n_economies();
        let (j, rest) = (k / (nn * nn), k % (nn * nn));
        let (n, i) = (rest / nn, rest % nn);
        let in_force = |ags: &[Agreement]| -> Vec<String> {
            ags.iter()
                .filter(|a| a.pair_start(n, i, base_year).is_some())
                .map(|a| a.name.clone())
                .collect()
        };
        return Err(c.source.error(Some("compared_with"), "Reference", format!(
            "this scenario and its reference {} differ in the base year {base_year}: {}'s tariff on {} in {} is {:.4} here and {:.4} in the reference (agreements covering the pair here: [{}]; in the reference: [{}]); agreements in force in the base year are part of the data and must be the same in both",
            r.file.display(),
            b.economies[n].code,
            b.economies[i].code,
            b.sectors[j].code,
            mine.tariffs.data[k],
            theirs.tariffs.data[k],
            in_force(agreements).join(", "),
            in_force(&r.agreements).join(", "),
        )));
    }
    if mine.depth != theirs.depth {
        return Err(c.source.error(Some("compared_with"), "Reference", format!(
            "this scenario and its reference {} differ in the base year's depth effects; agreements in force in the base year must carry the same `depth` in both",
            r.file.display()
        )));
    }
    Ok(())
}

/// Validate a depth effect of agreement `name` with members `members`.
fn validate_depth(
    d: &RawDepth,
    name: &str,
    members: &[usize],
    src: &Source,
    anchor: Option<&str>,
    b: &Baseline,
    errors: &mut Vec<Error>,
) -> Option<Depth> {
    let (beta, phase_in_years, pairs, profile) = match d {
        RawDepth::Given {
            beta,
            phase_in_years,
            pairs,
            profile,
        } => (*beta, *phase_in_years, pairs, profile),
        RawDepth::FromEstimate {
            file,
            coefficient,
            phase_in_years,
            pairs,
            profile,
        } => match estimate_coefficient(file, coefficient) {
            Ok(beta) => (beta, *phase_in_years, pairs, profile),
            Err(msg) => {
                errors.push(src.error(anchor, "depth", msg));
                return None;
            }
        },
    };
    if !beta.is_finite() || phase_in_years == 0 {
        errors.push(src.error(
            anchor,
            "depth",
            format!("agreement `{name}`: depth needs a finite beta and phase_in_years ≥ 1"),
        ));
        return None;
    }
    let ascending = profile.windows(2).all(|w| w[0].0 < w[1].0);
    if let Some((o, s)) = profile
        .iter()
        .find(|(o, s)| *o >= phase_in_years || !(0.0..=1.0).contains(s))
        .or(if ascending { None } else { profile.first() })
    {
        errors.push(src.error(
            anchor,
            "profile",
            format!("agreement `{name}`: depth profile step ({o}, {s}) is not valid: offsets ascend and stay below phase_in_years ({phase_in_years}), shares of β lie in [0, 1] (β is reached in full at phase_in_years)"),
        ));
        return None;
    }
    let mut code = |c: &str| -> Option<usize> {
        let Some(e) = b.economy_index(c) else {
            errors.push(src.error(
                anchor,
                &format!("\"{c}\""),
                format!(
                    "agreement `{name}`: depth pairs name `{c}`, which is not an economy of the baseline (its economies are: {})",
                    codes(b.economies.iter().map(|e| &e.code))
                ),
            ));
            return None;
        };
        if !members.contains(&e) {
            errors.push(src.error(
                anchor,
                &format!("\"{c}\""),
                format!("agreement `{name}`: depth pairs name `{c}`, which is not a member; depth applies only between members"),
            ));
            return None;
        }
        Some(e)
    };
    let directed = |pairs: Vec<(Option<usize>, Option<usize>)>| -> DepthPairs {
        let mut v: Vec<(usize, usize)> = pairs
            .into_iter()
            .filter_map(|(x, m)| Some((x?, m?)))
            .filter(|(x, m)| x != m)
            .collect();
        v.sort_unstable();
        v.dedup();
        DepthPairs::Directed(v)
    };
    let pairs = match pairs {
        RawDepthPairs::NewlyLiberalised => DepthPairs::NewlyLiberalised,
        RawDepthPairs::AllMembers => DepthPairs::AllMembers,
        RawDepthPairs::Among(list) => {
            let ids: Vec<Option<usize>> = list.iter().map(|c| code(c)).collect();
            directed(
                ids.iter()
                    .flat_map(|&x| ids.iter().map(move |&m| (x, m)))
                    .collect(),
            )
        }
        RawDepthPairs::Between(a, z) => {
            let a: Vec<Option<usize>> = a.iter().map(|c| code(c)).collect();
            let z: Vec<Option<usize>> = z.iter().map(|c| code(c)).collect();
            directed(
                a.iter()
                    .flat_map(|&x| z.iter().flat_map(move |&m| [(x, m), (m, x)]))
                    .collect(),
            )
        }
        RawDepthPairs::Directed(list) => {
            let v: Vec<(Option<usize>, Option<usize>)> =
                list.iter().map(|(x, m)| (code(x), code(m))).collect();
            directed(v)
        }
    };
    Some(Depth {
        beta,
        phase_in_years,
        pairs,
        profile: profile.clone(),
    })
}

fn validate_agreement(
    a: &RawAgreement,
    src: &Source,
    b: &Baseline,
    base_year: i32,
    errors: &mut Vec<Error>,
) -> Agreement {
    let anchor = format!("\"{}\"", a.name);
    let anchor = Some(anchor.as_str());
    let economy = |code: &str, errors: &mut Vec<Error>| -> Option<usize> {
        let idx = b.economy_index(code);
        if idx.is_none() {
            errors.push(src.error(
                anchor,
                &format!("\"{code}\""),
                format!(
                    "agreement `{}`: unknown economy `{code}`; the baseline's economies are: {}",
                    a.name,
                    codes(b.economies.iter().map(|e| &e.code))
                ),
            ));
        }
        idx
    };
    let sector = |code: &str, errors: &mut Vec<Error>| -> Option<usize> {
        let idx = b.sector_index(code);
        if idx.is_none() {
            errors.push(src.error(
                anchor,
                &format!("\"{code}\""),
                format!(
                    "agreement `{}`: unknown sector `{code}`; the baseline's sectors are: {}",
                    a.name,
                    codes(b.sectors.iter().map(|s| &s.code))
                ),
            ));
        }
        idx
    };
    let mut members = Vec::new();
    let mut seen = BTreeSet::new();
    for code in a.members.iter().chain(a.accessions.keys()) {
        if !seen.insert(code.clone()) {
            errors.push(src.error(anchor, &format!("\"{code}\""), format!("agreement `{}`: `{code}` is listed twice among members and accessions; keep one", a.name)));
            continue;
        }
        let Some(e) = economy(code, errors) else {
            continue;
        };
        let joins = a
            .accessions
            .get(code)
            .copied()
            .unwrap_or(a.entry_into_force);
        if joins < a.entry_into_force {
            errors.push(src.error(anchor, &format!("\"{code}\""), format!("agreement `{}`: `{code}` accedes in {joins}, before entry into force in {}; list it among `members` instead", a.name, a.entry_into_force)));
        }
        members.push(Membership {
            economy: e,
            joins: joins.max(a.entry_into_force),
            leaves: None,
        });
    }
    for (code, year) in &a.withdrawals {
        let Some(e) = economy(code, errors) else {
            continue;
        };
        match members.iter_mut().find(|m| m.economy == e) {
            Some(m) => m.leaves = Some(*year),
            None => errors.push(src.error(anchor, &format!("\"{code}\""), format!("agreement `{}`: `{code}` withdraws but is not a member; add it to `members` or remove the withdrawal", a.name))),
        }
    }
    if a.members.len() + a.accessions.len() < 2 {
        errors.push(src.error(
            anchor,
            "members",
            format!("agreement `{}` needs at least two members", a.name),
        ));
    }
    match a.in_baseline {
        Some(true) if a.entry_into_force > base_year => errors.push(src.error(anchor, "in_baseline", format!("agreement `{}` says in_baseline: true but enters into force in {}, after base_year {base_year}", a.name, a.entry_into_force))),
        Some(false) if a.entry_into_force <= base_year => errors.push(src.error(anchor, "in_baseline", format!("agreement `{}` says in_baseline: false but entered into force in {}, not after base_year {base_year}; agreements in force in the base year are part of the data", a.name, a.entry_into_force))),
        _ => {}
    }
    let sched = |s: &RawSchedule, errors: &mut Vec<Error>| schedule(s, a, src, b, errors);
    let default = sched(&a.schedule, errors);
    let mut rules = Vec::new();
    for r in &a.schedules {
        rules.push(Rule {
            importer: r.importer.as_deref().and_then(|c| economy(c, errors)),
            exporter: r.exporter.as_deref().and_then(|c| economy(c, errors)),
            sector: r.sector.as_deref().and_then(|c| sector(c, errors)),
            schedule: sched(&r.schedule, errors),
        });
    }
    let mut groups = Vec::new();
    let mut weight_sum: BTreeMap<(usize, Option<usize>, usize), f64> = BTreeMap::new();
    for g in &a.product_groups {
        let ganchor = format!("\"{}\"", g.name);
        let Some(imp) = economy(&g.importer, errors) else {
            continue;
        };
        let exp = g.exporter.as_deref().and_then(|c| economy(c, errors));
        if g.exporter.is_some() && exp.is_none() {
            continue;
        }
        let given_sector = match &g.sector {
            Some(c) => match sector(c, errors) {
                Some(j) => Some(j),
                None => continue,
            },
            None => None,
        };
        if let Some(w) = g.weight {
            if !(w > 0.0 && w <= 1.0) {
                errors.push(src.error(Some(&ganchor), "weight", format!("product group `{}`: weight {w} must be in (0, 1]: the group's share of the sector's bilateral imports", g.name)));
            }
        }
        if let Some(r) = g.base_rate {
            if !(r.is_finite() && r >= 0.0) {
                errors.push(src.error(Some(&ganchor), "base_rate", format!("product group `{}`: base_rate {r} must be a non-negative fraction (0.035 = 3.5%)", g.name)));
            }
        }
        // The world's rows of a group of that name: (exporter, weight, base rate).
        let world: Vec<&data::BaselineProductGroup> = b.product_group_rows(imp, &g.name).collect();
        let Some(sec) = given_sector.or(world.first().map(|w| w.sector)) else {
            if g.weight.is_none() {
                errors.push(src.error(
                    Some(&ganchor),
                    &ganchor,
                    unknown_group(b, imp, &g.name, &a.name),
                ));
            } else {
                errors.push(src.error(Some(&ganchor), &ganchor, format!("product group `{}`: give its `sector` (the baseline has no group of that name for {}, so it is defined here)", g.name, g.importer)));
            }
            continue;
        };
        if !b.sectors[sec].traded {
            errors.push(src.error(
                Some(&ganchor),
                "sector",
                format!(
                    "product group `{}`: sector {} is not traded",
                    g.name, b.sectors[sec].code
                ),
            ));
        }
        let schedule = sched(&g.schedule, errors);
        // (exporter, weight, base rate) of every group this entry stands for: the world's
        // exporter-specific rows and its all-partners row, unless the entry names its exporter
        // or gives its own weight.
        let all_partners = world.iter().find(|w| w.exporter.is_none());
        let parts: Vec<(Option<usize>, f64, Option<f64>)> = match (exp, g.weight) {
            (_, Some(w)) => {
                let row = world
                    .iter()
                    .find(|r| exp.is_some() && r.exporter == exp)
                    .or(all_partners);
                vec![(exp, w, g.base_rate.or(row.map(|r| r.base_rate)))]
            }
            (Some(e), None) => match world
                .iter()
                .find(|r| r.exporter == Some(e))
                .or(all_partners)
            {
                Some(r) => vec![(exp, r.weight, g.base_rate.or(Some(r.base_rate)))],
                None => {
                    errors.push(src.error(Some(&ganchor), "exporter", format!("product group `{}`: the baseline's group has no row for exporter {} nor an all-partners row; give `weight`", g.name, b.economies[e].code)));
                    continue;
                }
            },
            (None, None) => world
                .iter()
                .map(|r| (r.exporter, r.weight, g.base_rate.or(Some(r.base_rate))))
                .collect(),
        };
        for (exporter, weight, base_rate) in parts {
            *weight_sum.entry((imp, exporter, sec)).or_default() += weight;
            groups.push(ProductGroup {
                name: g.name.clone(),
                importer: imp,
                exporter,
                sector: sec,
                weight,
                base_rate,
                schedule: schedule.clone(),
            });
        }
    }
    for ((imp, _, sec), w) in &weight_sum {
        if *w > 1.0 + 1e-9 {
            errors.push(src.error(anchor, "product_groups", format!("agreement `{}`: the product groups of importer {} in sector {} weigh {w} together, more than 1", a.name, b.economies[*imp].code, b.sectors[*sec].code)));
        }
    }
    let member_ids: Vec<usize> = members.iter().map(|m| m.economy).collect();
    let depth = a
        .depth
        .as_ref()
        .and_then(|d| validate_depth(d, &a.name, &member_ids, src, anchor, b, errors));
    Agreement {
        name: a.name.clone(),
        entry_into_force: a.entry_into_force,
        members,
        schedule: default,
        rules,
        groups,
        depth,
        removed: false,
        frozen_from: None,
        investment: a.investment_provisions,
    }
}

/// The message for a product group name the baseline does not define for `importer`, listing
/// its groups and suggesting the nearest name.
fn unknown_group(b: &Baseline, importer: usize, name: &str, agreement: &str) -> String {
    let names = b.product_group_names(importer);
    let code = &b.economies[importer].code;
    if names.is_empty() {
        return format!("agreement `{agreement}`: product group `{name}`: the baseline defines no product groups for {code}; give `sector` and `weight` to define the group here");
    }
    let near = names
        .iter()
        .min_by_key(|n| edit_distance(n, &name.to_lowercase()))
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    format!("agreement `{agreement}`: product group `{name}` is not one of {code}'s groups in the baseline{near}; its groups are: {}. Name one of them, or give `sector` and `weight` to define a group here", names.join(", "))
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn validate_investment(
    inv: &Located<raw::RawInvestment>,
    b: &Baseline,
    errors: &mut Vec<Error>,
) -> Option<crate::invest::Investment> {
    let src = &inv.source;
    let v = &inv.value;
    let path = match &v.stocks {
        Some(p) => PathBuf::from(p),
        None => {
            // A tidy baseline directory's own fdi.csv, or the built-in world's.
            let own = Path::new(&b.name).join("fdi.csv");
            let p = if own.exists() {
                own
            } else {
                builtin_dir(&b.name).join("fdi.csv")
            };
            if !p.exists() {
                errors.push(src.error(Some("investment"), "investment", format!("the investment block names no `stocks` file and the baseline `{}` ships none; add `stocks: \"fdi.csv\"` (CSV source,host,stock[,sales_ratio])", b.name)));
                return None;
            }
            p
        }
    };
    let stocks = match crate::invest::load_stocks(&path, &|c| b.economy_index(c)) {
        Ok(s) => s,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let d = crate::invest::SemiElasticities::default();
    let r = v.semi_elasticities.unwrap_or(raw::RawBetas {
        pta: None,
        investment_chapter: None,
        bit_equivalent: None,
        deep: None,
    });
    let mut betas = crate::invest::SemiElasticities {
        pta: r.pta.unwrap_or(d.pta),
        investment_chapter: r.investment_chapter.unwrap_or(d.investment_chapter),
        bit_equivalent: r.bit_equivalent.unwrap_or(d.bit_equivalent),
        deep: r.deep.unwrap_or(d.deep),
    };
    for e in &v.from_estimate {
        match estimate_coefficient(&e.file, &e.coefficient) {
            Ok(b) => match e.provisions {
                crate::invest::Provisions::Pta => betas.pta = b,
                crate::invest::Provisions::InvestmentChapter => betas.investment_chapter = b,
                crate::invest::Provisions::BitEquivalent => betas.bit_equivalent = b,
                crate::invest::Provisions::Deep => betas.deep = b,
                crate::invest::Provisions::None => errors.push(src.error(
                    Some("from_estimate"),
                    "None",
                    "investment.from_estimate: provisions `None` has no effect to estimate; name Pta, InvestmentChapter, BitEquivalent or Deep",
                )),
            },
            Err(msg) => errors.push(src.error(Some("from_estimate"), &e.coefficient, msg)),
        }
    }
    let eta = v.eta.unwrap_or(1.0);
    let phase_in_years = v.phase_in_years.unwrap_or(10);
    let finite = [
        betas.pta,
        betas.investment_chapter,
        betas.bit_equivalent,
        betas.deep,
    ]
    .iter()
    .all(|x| x.is_finite());
    if !eta.is_finite() || phase_in_years == 0 || !finite {
        errors.push(src.error(
            Some("investment"),
            "investment",
            "investment: eta and the semi-elasticities must be finite numbers and phase_in_years ≥ 1",
        ));
        return None;
    }
    Some(crate::invest::Investment {
        stocks,
        eta,
        phase_in_years,
        betas,
    })
}

fn schedule(
    s: &RawSchedule,
    a: &RawAgreement,
    src: &Source,
    b: &Baseline,
    errors: &mut Vec<Error>,
) -> Schedule {
    let anchor = format!("\"{}\"", a.name);
    let anchor = Some(anchor.as_str());
    let mut bad = |needle: &str, msg: String| {
        errors.push(src.error(anchor, needle, format!("agreement `{}`: {msg}", a.name)))
    };
    let rate_ok = |r: f64| r.is_finite() && r >= 0.0;
    match s {
        RawSchedule::Immediate => Schedule::Immediate,
        RawSchedule::Excluded => Schedule::Excluded,
        RawSchedule::Linear { years, to } => {
            if *years == 0 {
                bad(
                    "Linear",
                    "Linear needs years ≥ 1 (use Immediate for an immediate cut)".into(),
                );
            }
            if !(0.0..=1.0).contains(to) {
                bad(
                    "Linear",
                    format!("Linear `to` is {to}; it is a fraction of the base rate in [0, 1]"),
                );
            }
            Schedule::Linear {
                years: *years,
                to: *to,
            }
        }
        RawSchedule::Staged(steps) => {
            for (o, f) in steps {
                if !rate_ok(*f) {
                    bad("Staged", format!("Staged step ({o}, {f}): the fraction of the base rate must be non-negative"));
                }
            }
            Schedule::Staged(steps.clone())
        }
        RawSchedule::Path(points) => {
            for (y, r) in points {
                if *y < a.entry_into_force {
                    bad(&y.to_string(), format!("Path year {y} is before entry into force ({}); a schedule starts when the agreement does", a.entry_into_force));
                }
                if !rate_ok(*r) {
                    bad(&r.to_string(), format!("Path rate {r} in {y} is negative; tariff rates are fractions ≥ 0 (0.05 = 5%)"));
                }
            }
            Schedule::Path(points.clone())
        }
        RawSchedule::TariffRateQuota {
            quota,
            in_quota_rate,
            out_of_quota_rate,
        } => {
            if !(quota.is_finite() && *quota > 0.0) {
                bad("quota", format!("TariffRateQuota quota {quota} must be positive (base-year money at base-year prices)"));
            }
            if !rate_ok(*in_quota_rate)
                || !rate_ok(*out_of_quota_rate)
                || in_quota_rate > out_of_quota_rate
            {
                bad("TariffRateQuota", format!("TariffRateQuota rates must be ≥ 0 with in_quota_rate ({in_quota_rate}) ≤ out_of_quota_rate ({out_of_quota_rate})"));
            }
            Schedule::TariffRateQuota {
                quota: *quota,
                in_quota_rate: *in_quota_rate,
                out_of_quota_rate: *out_of_quota_rate,
            }
        }
        RawSchedule::ToTariffSet(name) => {
            if !b.tariff_sets.contains_key(name) {
                bad(
                    &format!("\"{name}\""),
                    format!(
                        "the baseline has no tariff set `{name}` (it has: {})",
                        b.tariff_sets.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            Schedule::ToTariffSet(name.clone())
        }
    }
}

impl Scenario {
    /// Whether the scenario's outcomes measure agreement `a` (one of its agreements): against
    /// the base year, a new, removed or continuing agreement; against a reference path, one that
    /// is in one world and not the other, or in both with different terms.
    pub fn measured(&self, a: &Agreement) -> bool {
        match self.compared_with.reference() {
            None => a.removed || a.entry_into_force > self.base_year || a.frozen_from.is_none(),
            Some(r) => {
                let there = r.agreements.iter().find(|x| x.name == a.name && !x.removed);
                match (a.removed, there) {
                    (false, None) | (true, Some(_)) => true,
                    (true, None) => false,
                    (false, Some(x)) => x != a,
                }
            }
        }
    }

    /// The agreements the outcomes measure: the scenario's measured ones, and the reference's
    /// agreements the scenario does not declare at all.
    pub fn measured_agreements(&self) -> Vec<&Agreement> {
        let mut v: Vec<&Agreement> = self
            .agreements
            .iter()
            .filter(|a| self.measured(a))
            .collect();
        if let Some(r) = self.compared_with.reference() {
            v.extend(r.agreements.iter().filter(|x| {
                !x.removed && !self.agreements.iter().any(|a| a.name == x.name)
            }));
        }
        v
    }

    /// The members, in `year`, of the agreements the outcomes measure
    /// ([`Scenario::measured_agreements`]), sorted: the economies whose trade with each other
    /// the summary reports.
    pub fn changed_members(&self, year: i32) -> Vec<usize> {
        let mut m: Vec<usize> = self
            .measured_agreements()
            .into_iter()
            .flat_map(|a| a.members_in(year))
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    }
}

/// What a RON file holds, from its top-level struct name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Scenario,
    Batch,
    StructuralGravity,
    Unknown,
}

/// Read the top-level struct name of a RON text (after comments and `#![...]` attributes).
pub fn file_kind(text: &str) -> FileKind {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("#![") {
            rest = r.split_once(']').map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let ident: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    match ident.as_str() {
        "Scenario" => FileKind::Scenario,
        "Batch" => FileKind::Batch,
        "StructuralGravity" => FileKind::StructuralGravity,
        _ => FileKind::Unknown,
    }
}
