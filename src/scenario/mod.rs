//! Scenario files: RON text → [`raw::RawScenario`] (serde) → merged along `extends` →
//! validated [`Scenario`] with its baseline loaded and every code resolved to an index.
//!
//! Every error names the file, line and column and says what to change; validation reports
//! every error it finds at once.

pub mod batch;
mod hint;
pub mod inputs;
pub mod raw;
pub mod schema;

use crate::data::{self, Baseline};
use crate::error::{Error, Result};
use crate::model::solver::Settings;
use crate::policy::{Agreement, Depth, DepthPairs, Membership, ProductGroup, Rule, Schedule};
use crate::source::{blank_comments, blank_strings, Source};
use raw::{
    BaselineRef, Deficits, Elasticity, PhaseOuts, RawAgreement, RawComparedWith, RawDepth,
    RawDepthPairs, RawScenario, RawSchedule,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A validated scenario, ready to resolve and solve: its `extends` chain merged, its baseline
/// loaded, every economy and sector code resolved to an index of [`Scenario::baseline`]
/// ([`load`]; the fields of the file are documented in README "Scenario files").
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name, written in every output row.
    pub name: String,
    /// Free text from the file.
    pub description: Option<String>,
    /// The scenario file.
    pub path: PathBuf,
    /// The base-year world (economies, sectors, flows, input-output shares, tariffs).
    pub baseline: Baseline,
    /// The year of the baseline data, the year every policy path starts from.
    pub base_year: i32,
    /// The years to solve, ascending.
    pub years: Vec<i32>,
    /// θ^j, the trade elasticity of each sector of the baseline (in its order), after the
    /// file's `elasticities` overrides (MODEL.md §1).
    pub theta: Vec<f64>,
    /// Deficits in the solved baseline and the counterfactual (`D' = D` or `D' = 0`).
    pub deficits: Deficits,
    /// Whether intermediate inputs link sectors (the baseline's input-output shares); `false`
    /// solves with value added as the only input.
    pub input_output: bool,
    /// The checked settings of the Caliendo–Parro solver (defaults 1e-10, 5000, 0.5).
    pub solver: Settings,
    /// Every agreement of the scenario and its parents (`extends`); those in
    /// `remove_agreements` are kept, marked [`Agreement::removed`].
    pub agreements: Vec<Agreement>,
    /// The file that defines each agreement (parallel to `agreements`), and whether that file
    /// is the scenario's own or one of its parents that is not a description of the base-year
    /// data (a file whose agreements are all in force in the base year).
    pub agreement_origins: Vec<AgreementOrigin>,
    /// The investment block, when the scenario projects FDI.
    pub investment: Option<crate::invest::Investment>,
    /// What every `*_pct` output is measured against.
    pub compared_with: ComparedWith,
    /// Every file and directory the scenario was read from: the files of its `extends` chain,
    /// the baseline's directory, and any estimate or FDI-stock files it names. An output
    /// directory may not equal or contain one of them (`output::staging`).
    pub inputs: Vec<PathBuf>,
    /// What validation accepted but the user should hear about, each saying what to do
    /// (`file:line:column: message`, with the line and a caret).
    pub warnings: Vec<String>,
}

/// Where an agreement of a scenario was defined.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementOrigin {
    /// The file whose `agreements` list defines it.
    pub file: PathBuf,
    /// Defined in the scenario file itself or in a parent that is not a base-year data file:
    /// the scenario's own agreement (`tradesim check` shows these; `--all` shows every one).
    pub own: bool,
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
    /// The files the reference is made from (its `extends` chain and the estimate files its
    /// depth effects name); they join the scenario's [`Scenario::inputs`].
    pub inputs: Vec<PathBuf>,
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
    pub(crate) fn describe(&self, base_year: i32) -> String {
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
    base_year: Option<Located<i32>>,
    horizon: Option<Located<i32>>,
    years: Option<Located<Vec<i32>>>,
    elasticities: BTreeMap<String, Located<Elasticity>>,
    deficits: Option<Deficits>,
    input_output: Option<bool>,
    solver: Option<Located<raw::RawSolver>>,
    agreements: Vec<Located<RawAgreement>>,
    investment: Option<Located<raw::RawInvestment>>,
    remove: Vec<Located<String>>,
    continue_phase_out: Vec<Located<String>>,
    phase_outs: Option<PhaseOuts>,
    compared_with: Option<Located<RawComparedWith>>,
    depth: BTreeMap<String, Located<RawDepth>>,
    /// Accessions to agreements by name, (agreement, economy) → year; a later file's replaces
    /// an earlier one's.
    accessions: BTreeMap<(String, String), Located<i32>>,
    /// Withdrawals from agreements by name, (agreement, economy) → first year out.
    withdrawals: BTreeMap<(String, String), Located<i32>>,
    /// The files read along the `extends` chain and the files they name (estimates, FDI stocks).
    inputs: Vec<PathBuf>,
}

/// Parse one file's RON text into a [`RawScenario`], with line and column on error.
pub fn parse(path: &Path, text: &str) -> Result<RawScenario> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options
        .from_str::<RawScenario>(text)
        .map_err(|e| ron_error(path, text, &e, "Scenario"))
}

/// A RON parse error as a scenario error: the position, a message naming the field where the
/// parser stopped, and what to write instead. `top` is the file's top-level struct name.
pub(crate) fn ron_error(path: &Path, text: &str, e: &ron::error::SpannedError, top: &str) -> Error {
    let (line, col) = (e.span.start.line, e.span.start.col);
    let field = field_before(text, line, col);
    let message = if blank_comments(text)
        .trim_start_matches('\u{feff}')
        .trim()
        .is_empty()
    {
        // An emptied or truncated file: the parser's "expected `(`" says too little.
        format!("the file is empty{}: a {} file holds `{top}( ... )`; write it there (a file in scenarios/ is a start), or restore the file if it was emptied by mistake", if text.trim().is_empty() { "" } else { " (only comments)" }, if top == "StructuralGravity" { "structural gravity".to_string() } else { top.to_lowercase() })
    } else {
        explain_ron_error(&e.code, field.as_deref(), top)
    };
    Error::scenario(path, text, line, col, message)
}

/// The name of the field whose value starts before 1-based `line`, `col`: the identifier
/// before the last `:` (outside strings and comments) that precedes the position.
fn field_before(text: &str, line: usize, col: usize) -> Option<String> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let off = text[start..]
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(text.len(), |(k, _)| start + k)
        .min(text.len());
    let code = blank_strings(&blank_comments(text));
    let before = code.get(..off)?;
    let colon = before.rfind(':')?;
    let name: String = before[..colon]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty()).then_some(name)
}

/// What a whole-number field takes, for messages.
fn integer_hint(field: &str) -> &'static str {
    match field {
        "years" | "phase_in_years" => "a whole number of years, at least 1 (e.g. `years: 10`)",
        "max_iterations" => "a whole number, at least 1",
        "draws" => "a whole number of Monte Carlo draws, 0 or more",
        "seed" => "a whole number, 0 or more",
        "horizon" | "base_year" | "entry_into_force" | "year" => {
            "a calendar year written as a whole number (e.g. 2030)"
        }
        _ => "a whole number in the range this field allows (counts cannot be negative)",
    }
}

/// `did you mean `x`? ` for the candidate closest to `found` (nothing when none is close),
/// to go before a message's list of what is expected.
fn did_you_mean_first<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    crate::error::did_you_mean(found, candidates)
        .first()
        .map(|n| format!("did you mean `{n}`? "))
        .unwrap_or_default()
}

/// A value of the wrong shape for `field` (a text where a list goes, `Linear(10)` for
/// `Linear(years: 10)`), said with what the field takes in RON ([`hint::field_takes`]);
/// `None` for other errors, or when the field's shape is not known.
fn wrong_shape(code: &ron::Error, field: &str, top: &str) -> Option<String> {
    use ron::Error as E;
    let found = match code {
        E::ExpectedArray
        | E::ExpectedMap
        | E::ExpectedString
        | E::ExpectedStructLike
        | E::ExpectedNamedStructLike(_)
        | E::ExpectedBoolean
        | E::ExpectedFloat
        | E::ExpectedOption
        | E::ExpectedUnit
        | E::ExpectedIdentifier => code.to_string(),
        // RON's advice for these (a raw identifier `r#10`) is not what a scenario wants.
        E::InvalidIdentifier(id) | E::SuggestRawIdentifier(id) => {
            format!("`{id}` is not a name that can stand here")
        }
        _ => return None,
    };
    let takes = hint::field_takes(top, field)?;
    Some(format!("{found} (at `{field}`): `{field}` takes {takes}"))
}

fn explain_ron_error(code: &ron::Error, field: Option<&str>, top: &str) -> String {
    use ron::Error as E;
    let within = |outer: &Option<String>| {
        outer
            .as_ref()
            .map(|o| format!(" in `{o}`"))
            .unwrap_or_default()
    };
    let near = field.map(|f| format!(" (at `{f}`)")).unwrap_or_default();
    if let Some(message) = field.and_then(|f| wrong_shape(code, f, top)) {
        return message;
    }
    match code {
        E::NoSuchStructField {
            expected,
            found,
            outer,
        } => {
            format!(
                "unknown field `{found}`{}; {}expected one of: {}",
                within(outer),
                did_you_mean_first(found, expected.iter().copied()),
                expected.join(", ")
            )
        }
        E::MissingStructField { field, outer } => {
            format!("missing field `{field}`{}; add it", within(outer))
        }
        E::DuplicateStructField { field, outer } => format!(
            "the field `{field}` is given twice{}; keep one",
            within(outer)
        ),
        E::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "unknown variant `{found}`{}; {}expected one of: {}",
            outer
                .as_ref()
                .map(|o| format!(" of `{o}`"))
                .unwrap_or_default(),
            did_you_mean_first(found, expected.iter().copied()),
            expected.join(", ")
        ),
        // A struct inside the file written with another name (`investment: true`).
        E::ExpectedDifferentStructName { expected, found } if *expected != top => {
            let takes = field
                .and_then(|f| Some((f, hint::field_takes(top, f)?)))
                .map(|(f, t)| format!("`{f}` takes {t}"))
                .unwrap_or_else(|| format!("write `{expected}( ... )` or `( ... )`"));
            format!("found `{found}` where `{expected}( ... )` goes{near}: {takes}")
        }
        E::ExpectedDifferentStructName { expected, found } => {
            format!(
                "this file starts with `{found}(`, but a {} file must start with `{expected}(`",
                expected.to_lowercase()
            )
        }
        E::IntegerOutOfBounds | E::ExpectedInteger => match field {
            Some(f) => format!(
                "`{f}` takes {}; {}",
                integer_hint(f),
                if matches!(code, E::IntegerOutOfBounds) {
                    "this value is out of range"
                } else {
                    "this is not a whole number"
                }
            ),
            None => format!("{code}: write a whole number"),
        },
        E::InvalidValueForType { expected, found } => match field {
            Some(f) => format!("`{f}` takes {expected}, not {found}"),
            None => format!("expected {expected}, not {found}"),
        },
        other => format!(
            "{other}{near}; check the syntax near here (RON: `field: value,` inside `{top}( ... )`)"
        ),
    }
}

/// The largest scenario or batch file tradesim reads: such files are kilobytes of text.
pub(crate) const MAX_FILE_BYTES: u64 = 4 << 20;

/// The deepest `extends` chain tradesim follows.
pub(crate) const MAX_EXTENDS_DEPTH: usize = 32;

/// Read a scenario, batch or structural-gravity file as text, refusing a file larger than
/// [`MAX_FILE_BYTES`] (a device such as `/dev/zero`, or the wrong file) and text that is not
/// UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    use std::io::Read;
    if path.is_dir() {
        return Err(Error::invalid(
            path.display().to_string(),
            "is a directory; name a .ron file",
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::invalid(
            path.display().to_string(),
            format!("is larger than {} MiB; scenario and batch files are a few kilobytes of RON text: is this the right file?", MAX_FILE_BYTES >> 20),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::invalid(
            path.display().to_string(),
            "is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8",
        ));
    }
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the text; the lines
    // and columns of messages are the same without it.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let before = &body[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
        // Valid UTF-8 up to `at`, so the column counts characters.
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        Error::invalid(
            format!("{}:{line}:{column}", path.display()),
            format!(
                "is not UTF-8 text (byte 0x{:02X} here; Latin-1 or Windows-1252, perhaps); save the file as UTF-8",
                body[at]
            ),
        )
    })?;
    if text.contains('\r') && !text.contains('\n') {
        return Err(Error::invalid(
            path.display().to_string(),
            "ends its lines with a carriage return alone (old Mac line endings), so a `//` comment would run to the end of the file; save it with LF or CRLF line endings",
        ));
    }
    Ok(text.to_string())
}

fn read_source(path: &Path) -> Result<Arc<Source>> {
    let text = read_text(path)?;
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
    let show = |chain: &[PathBuf], last: &PathBuf| {
        chain
            .iter()
            .chain([last])
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" → ")
    };
    if chain.contains(&canonical) {
        return Err(Error::invalid(
            path.display().to_string(),
            format!(
                "`extends` makes a cycle: {}; remove one link",
                show(chain, &canonical)
            ),
        ));
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(Error::invalid(
            chain[0].display().to_string(),
            format!(
                "the `extends` chain is more than {MAX_EXTENDS_DEPTH} files deep ({} → … → {}); tradesim follows at most {MAX_EXTENDS_DEPTH}: merge some of the files",
                chain[0].display(),
                canonical.display()
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
    // Mistakes within this one file, found before merging.
    let mut errors = Vec::new();
    if raw.horizon.is_some() && raw.years.is_some() {
        errors.push(source.field_error("years", "both `horizon` and `years` are given; `years` lists the years to solve and `horizon` means every year up to it: keep one"));
    }
    let mut first_seen: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &raw.agreements {
        let nth = first_seen.entry(a.name.as_str()).or_insert(0);
        if *nth > 0 {
            let (l0, c0) = source.agreement_at(&a.name, 0);
            let (line, col) = source.agreement_at(&a.name, *nth);
            errors.push(Error::scenario(
                path,
                &source.text,
                line,
                col,
                format!("agreement `{}` is defined twice in this file, here and at {}:{l0}:{c0}; an agreement's name identifies it (a file that extends another replaces the parent's agreement of the same name), so rename or remove one", a.name, path.display()),
            ));
        }
        *nth += 1;
    }
    let mut m = match &raw.extends {
        Some(parent) => {
            let ppath = PathBuf::from(resolve(&dir, parent));
            let kind = || read_text(&ppath).ok().map(|text| file_kind(&text));
            let problem = if parent.trim().is_empty() {
                Some("`extends` is empty; give the path of the scenario file this one builds on (relative to this file), or leave `extends` out".to_string())
            } else if !ppath.exists() {
                Some(format!(
                    "`extends` names {}, which does not exist; give a path relative to this file",
                    ppath.display()
                ))
            } else if ppath.is_dir() {
                Some(format!(
                    "`extends` names {}, which is a directory; name the scenario file (.ron) in it",
                    ppath.display()
                ))
            } else if let Some(looped) = ppath.canonicalize().ok().filter(|c| chain.contains(c)) {
                Some(format!(
                    "`extends` makes a cycle: {}; remove one link",
                    show(chain, &looped)
                ))
            } else if let Some(k @ (FileKind::Batch | FileKind::StructuralGravity)) = kind() {
                let what = if k == FileKind::Batch {
                    "a batch file (`Batch(...)`)"
                } else {
                    "a structural gravity file (`StructuralGravity(...)`)"
                };
                Some(format!("`extends` names {}, which is {what}; a scenario extends a scenario file (`Scenario(...)`)", ppath.display()))
            } else {
                None
            };
            if let Some(problem) = problem {
                errors.push(source.error(Some("extends"), parent, problem));
                return Err(Error::one_or_many(errors));
            }
            match load_merged(&ppath, chain) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(e);
                    return Err(Error::one_or_many(errors));
                }
            }
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
            accessions: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
            inputs: Vec::new(),
        },
    };
    if !errors.is_empty() {
        return Err(Error::one_or_many(errors));
    }
    m.inputs.push(path.to_path_buf());
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
    if let Some(y) = raw.base_year {
        m.base_year = Some(at(y, &source));
    }
    // A file's `horizon` replaces an inherited `years`, and its `years` an inherited `horizon`.
    if let Some(h) = raw.horizon {
        m.horizon = Some(at(h, &source));
        m.years = None;
    }
    if let Some(ys) = raw.years {
        m.years = Some(at(ys, &source));
        m.horizon = None;
    }
    for (k, v) in raw.elasticities {
        let v = match v {
            Elasticity::FromEstimate { file, coefficient } => {
                let file = resolve(&dir, &file);
                m.inputs.push(PathBuf::from(&file));
                Elasticity::FromEstimate { file, coefficient }
            }
            other => other,
        };
        m.elasticities.insert(k, at(v, &source));
    }
    m.deficits = raw.deficits.or(m.deficits);
    m.input_output = raw.input_output.or(m.input_output);
    if let Some(s) = raw.solver {
        let old = m.solver.as_ref().map_or(
            raw::RawSolver {
                tolerance: None,
                max_iterations: None,
                step: None,
            },
            |o| o.value,
        );
        m.solver = Some(at(
            raw::RawSolver {
                tolerance: s.tolerance.or(old.tolerance),
                max_iterations: s.max_iterations.or(old.max_iterations),
                step: s.step.or(old.step),
            },
            &source,
        ));
    }
    for mut a in raw.agreements {
        if let Some(RawDepth::FromEstimate { file, .. }) = &mut a.depth {
            *file = resolve(&dir, file);
            m.inputs.push(PathBuf::from(&*file));
        }
        m.agreements.retain(|x| x.value.name != a.name);
        m.agreements.push(at(a, &source));
    }
    if let Some(mut inv) = raw.investment {
        if let Some(p) = &mut inv.stocks {
            *p = resolve(&dir, p);
            m.inputs.push(PathBuf::from(&*p));
        }
        for e in &mut inv.from_estimate {
            e.file = resolve(&dir, &e.file);
            m.inputs.push(PathBuf::from(&e.file));
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
            m.inputs.push(PathBuf::from(&*file));
        }
        m.depth.insert(k, at(d, &source));
    }
    for (agreement, joins) in raw.accessions {
        for (code, year) in joins {
            m.accessions
                .insert((agreement.clone(), code), at(year, &source));
        }
    }
    for (agreement, leaves) in raw.withdrawals {
        for (code, year) in leaves {
            m.withdrawals
                .insert((agreement.clone(), code), at(year, &source));
        }
    }
    m.remove
        .extend(raw.remove_agreements.into_iter().map(|r| at(r, &source)));
    m.continue_phase_out
        .extend(raw.continue_phase_out.into_iter().map(|r| at(r, &source)));
    chain.pop();
    Ok(m)
}

/// A scenario-like file, loaded and checked, by kind: the one front end of `tradesim run` and
/// `check` (and of the golden test), which dispatch on it once.
#[derive(Debug)]
pub enum Input {
    /// `Scenario(...)`: the multi-sector model ([`load`]).
    Scenario(Box<Scenario>),
    /// `StructuralGravity(...)`: the one-sector structural gravity model
    /// ([`crate::gravity::GravityScenario`]).
    Gravity(Box<crate::gravity::GravityScenario>),
    /// `Batch(...)`: scenarios, grids and draws ([`batch::load`]).
    Batch(Box<batch::Batch>),
}

/// Reads the file at `path`, tells its kind from its top-level name ([`file_kind`]) and loads
/// it with that kind's loader. A file of no known kind is read as a `Scenario(...)`, whose
/// loader says what is wrong.
pub fn load_input(path: &Path) -> Result<Input> {
    let text = read_text(path)?;
    Ok(match file_kind(&text) {
        FileKind::StructuralGravity => {
            Input::Gravity(Box::new(crate::gravity::load_gravity_scenario(path)?))
        }
        FileKind::Batch => Input::Batch(Box::new(batch::load(path)?)),
        FileKind::Scenario | FileKind::Unknown => Input::Scenario(Box::new(load(path)?)),
    })
}

/// Load, merge and validate a scenario file, loading its baseline.
pub fn load(path: &Path) -> Result<Scenario> {
    let m = load_merged(path, &mut Vec::new())?;
    let src = m.source.clone();
    let Some(bref) = &m.baseline else {
        return Err(src.error(None, "Scenario", "no `baseline` is given (here or in the files it extends); add e.g. `baseline: Builtin(\"apac-americas-2014\")`"));
    };
    let (baseline, notes) = load_baseline_noting(&bref.value).map_err(|e| match e {
        Error::Io { path, source } => {
            let hint = baseline_read_hint(&path, &source);
            bref.source.error(
                Some("baseline"),
                "baseline",
                format!(
                    "the baseline cannot be read: {}: {source}{hint}",
                    path.display()
                ),
            )
        }
        other => other,
    })?;
    let baseline_dir = baseline_path(&bref.value);
    let builtin = match &bref.value {
        BaselineRef::Builtin(name) => Some((name.clone(), bref.source.clone())),
        _ => None,
    };
    let base_year_at = m.base_year.as_ref().map(|y| y.source.clone());
    let mut s = validate(m, baseline)?;
    s.warnings.splice(0..0, notes);
    // A built-in world named for its year (`…-2014`) under another base year: its data are
    // labelled with a year they are not of.
    let data_year = builtin.as_ref().and_then(|(name, _)| {
        let (_, y) = name.rsplit_once('-')?;
        y.parse::<i32>().ok().filter(|y| (1800..=2500).contains(y))
    });
    if let (Some(year), Some(at)) = (data_year, base_year_at) {
        if year != s.base_year {
            let name = builtin.as_ref().map_or("", |(n, _)| n.as_str());
            s.warnings.push(at.field_error("base_year", format!(
                "base_year is {}, but the built-in world `{name}` holds the data of {year}: its flows, tariffs and shares are those of {year}, labelled {} in every output, and agreements are new or in the data by {} instead of {year}. Write base_year: {year}; if {year}'s world is meant to stand in for {}, ignore this",
                s.base_year, s.base_year, s.base_year, s.base_year
            )).to_string());
        }
    }
    if let Some((name, source)) = builtin {
        if !s
            .agreements
            .iter()
            .any(|a| a.entry_into_force <= s.base_year)
        {
            let agreements =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline-2014.ron");
            s.warnings.push(source.warning(Some("baseline"), "baseline", format!(
                "the built-in world `{name}` holds each importer's MFN rates, and the preferences in force in {} come from the agreements of {}; this scenario has no agreement in force in {}, so every pair starts from its MFN rate (Mercosur's, NAFTA's, the EU's too) and an agreement among partners that already trade free of duty is credited with cutting their MFN tariffs. To start from the applied rates, write `extends: \"{}\"` (or extend reference.ron beside it) instead of `baseline`; if a world without preferences is meant, ignore this",
                s.base_year,
                agreements.display(),
                s.base_year,
                agreements.display()
            )));
        }
    }
    s.inputs.push(baseline_dir);
    Ok(s)
}

/// What to do about a baseline file that cannot be read: reference data not beside the
/// repository, data too large for the memory tradesim may use, or a wrong path.
fn baseline_read_hint(path: &Path, source: &std::io::Error) -> String {
    if let Some(n) = crate::error::reference_data_note(path) {
        format!("; {n}")
    } else if source.kind() == std::io::ErrorKind::OutOfMemory {
        "; the baseline does not fit in the memory tradesim may use here (a memory limit such as `ulimit -v`, or the machine's): run it where more memory is available, or on a smaller world".into()
    } else {
        "; check the path (relative to this file) or the data directory".into()
    }
}

/// The directory a baseline reference reads.
pub(crate) fn baseline_path(r: &BaselineRef) -> PathBuf {
    match r {
        BaselineRef::Builtin(name) => builtin_dir(name),
        BaselineRef::CaliendoParro2015(dir) | BaselineRef::Csv(dir) => PathBuf::from(dir),
    }
}

/// Load, merge and validate a scenario file against `baseline` instead of the baseline the
/// file names (the world builder validates the agreements of `baseline-2014.ron` against the
/// world it is building).
pub(crate) fn load_with_baseline(path: &Path, baseline: Baseline) -> Result<Scenario> {
    let m = load_merged(path, &mut Vec::new())?;
    validate(m, baseline)
}

/// Load the baseline a scenario names, with the loader's warnings (values it accepted but
/// adjusted or doubts, each saying what to do).
pub(crate) fn load_baseline_noting(r: &BaselineRef) -> Result<(Baseline, Vec<String>)> {
    match r {
        BaselineRef::Builtin(name) => {
            let dir = builtin_dir(name);
            if !dir.is_dir() {
                return Err(Error::invalid(format!("Builtin(\"{name}\")"), format!("no built-in world of that name (looked in {}); the built-in world is `apac-americas-2014`", dir.display())));
            }
            let (mut b, notes) = data::tidy::load_noting(&dir)?;
            b.name = name.clone();
            Ok((b, notes))
        }
        BaselineRef::Csv(dir) if !Path::new(dir).exists() => Err(Error::invalid(
            format!("baseline Csv(\"{dir}\")"),
            "the directory does not exist; a relative path in a scenario file starts at the scenario file's directory (not the directory you run from): correct the path, or write the baseline there (tradesim data import … --out DIR)",
        )),
        BaselineRef::Csv(dir) => data::tidy::load_noting(Path::new(dir)),
        BaselineRef::CaliendoParro2015(dir) => {
            Ok((data::cp2015::load(Path::new(dir))?, Vec::new()))
        }
    }
}

/// Where the built-in worlds live: `data/<name>` in the repository.
pub(crate) fn builtin_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// The one model of an estimate's JSON (`tradesim estimate --json`): the object itself, or the
/// only element of a list; a list of several models (several `--formula`s in one run) is an
/// error naming their formulas.
pub(crate) fn estimate_model<'v>(
    v: &'v serde_json::Value,
    file: &str,
) -> std::result::Result<&'v serde_json::Value, String> {
    match v.as_array().map(Vec::as_slice) {
        None => Ok(v),
        Some([one]) => Ok(one),
        Some(models) => {
            let formulas: Vec<&str> = models
                .iter()
                .filter_map(|m| m.get("formula").and_then(|f| f.as_str()))
                .collect();
            Err(format!(
                "{file} holds {} models ({}); write the one to draw from alone, with `tradesim estimate --json` and that one `--formula`",
                models.len(),
                formulas.join("; ")
            ))
        }
    }
}

/// Why the estimate `v` (one model, from `file`) has no coefficient `name`: dropped as
/// collinear by the fit, or not among its coefficients (with the closest names).
pub(crate) fn missing_coefficient(v: &serde_json::Value, file: &str, name: &str) -> String {
    let dropped = v
        .get("collinear")
        .and_then(|c| c.as_array())
        .is_some_and(|c| c.iter().any(|x| x.as_str() == Some(name)));
    if dropped {
        return format!(
            "{file} has no coefficient `{name}`: the fit dropped it as collinear with the fixed effects or the other regressors (`collinear` in the file), so it has no estimate to use"
        );
    }
    let names: Vec<&str> = v
        .get("coefficients")
        .and_then(|c| c.as_object())
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    format!(
        "{file} has no coefficient `{name}`; {}",
        crate::error::suggestion(name, &names, "coefficients")
    )
}

/// Read a coefficient from an estimate's JSON file (`tradesim estimate --json`).
pub(crate) fn estimate_coefficient(
    file: &str,
    coefficient: &str,
) -> std::result::Result<f64, String> {
    let text =
        read_text(Path::new(file)).map_err(|e| format!("cannot read the estimate file: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
    let v = estimate_model(&v, file)?;
    let coefs = v.get("coefficients").ok_or_else(|| {
        format!("{file} has no `coefficients` object; write it with `tradesim estimate --json`")
    })?;
    let c = coefs
        .get(coefficient)
        .ok_or_else(|| missing_coefficient(v, file, coefficient))?;
    c.get("estimate")
        .and_then(|e| e.as_f64())
        .filter(|e| e.is_finite())
        .ok_or_else(|| format!("coefficient `{coefficient}` in {file} has no finite `estimate`"))
}

/// The calendar years tradesim accepts anywhere in a scenario.
pub(crate) const YEAR_RANGE: (i32, i32) = (1800, 2500);

/// The farthest a solved year may lie after the base year (each year is one equilibrium solve).
pub(crate) const MAX_YEARS_AHEAD: i32 = 200;

/// Why `year` is not a calendar year tradesim accepts, if it is not.
fn check_year(year: i32) -> std::result::Result<(), String> {
    let (lo, hi) = YEAR_RANGE;
    if (lo..=hi).contains(&year) {
        Ok(())
    } else {
        Err(format!(
            "year {year} is outside {lo}–{hi}; write a calendar year such as 2030"
        ))
    }
}

fn validate(m: Merged, baseline: Baseline) -> Result<Scenario> {
    let src = m.source.clone();
    let mut inputs = m.inputs.clone();
    let mut errors: Vec<Error> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let base_year = match &m.base_year {
        Some(y) => {
            if let Err(msg) = check_year(y.value) {
                errors.push(y.source.field_error("base_year", msg));
            }
            y.value
        }
        None => {
            errors.push(src.error(
                None,
                "Scenario",
                "no `base_year` is given; add the year of the baseline data, e.g. `base_year: 2014`",
            ));
            0
        }
    };
    let last_allowed = base_year.saturating_add(MAX_YEARS_AHEAD);
    let years: Vec<i32> = match (&m.years, &m.horizon) {
        (Some(ys), _) => {
            for (k, y) in ys.value.iter().enumerate() {
                if let Some(first) = ys.value[..k].iter().position(|x| x == y) {
                    errors.push(ys.source.error_at(
                        ys.source.list_field_item("years", k),
                        format!("year {y} is listed twice in `years` (items {} and {}); each year is solved once: remove this one, or correct it if another year was meant", first + 1, k + 1),
                    ));
                }
            }
            let mut v = ys.value.clone();
            v.sort_unstable();
            v.dedup();
            if v.is_empty() {
                errors.push(ys.source.field_error("years", "`years` is empty; list at least one year or remove it to solve base_year..=horizon"));
            }
            if let Some(y) = v.iter().find(|y| **y < base_year) {
                errors.push(ys.source.error(Some("years"), &y.to_string(), format!("year {y} is before base_year {base_year}; years are solved from the base year on")));
            }
            if let Some(y) = v.iter().find(|y| **y > last_allowed) {
                errors.push(ys.source.error(Some("years"), &y.to_string(), format!("year {y} is more than {MAX_YEARS_AHEAD} years after base_year {base_year}; tradesim projects at most {MAX_YEARS_AHEAD} years ahead")));
            }
            v.retain(|y| (base_year..=last_allowed).contains(y));
            v
        }
        (None, Some(h)) => {
            if h.value < base_year {
                errors.push(h.source.field_error(
                    "horizon",
                    format!("horizon {} is before base_year {base_year}; the horizon is the last year solved, at or after the base year", h.value),
                ));
            } else if h.value > last_allowed {
                errors.push(h.source.field_error(
                    "horizon",
                    format!("horizon {} is more than {MAX_YEARS_AHEAD} years after base_year {base_year}; tradesim projects at most {MAX_YEARS_AHEAD} years ahead (each year is a full equilibrium solve)", h.value),
                ));
            }
            (base_year..=h.value.min(last_allowed)).collect()
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

    let sector_codes: Vec<&str> = baseline.sectors.iter().map(|s| s.code.as_str()).collect();
    let mut theta: Vec<f64> = baseline.sectors.iter().map(|s| s.theta).collect();
    for (code, e) in &m.elasticities {
        let Some(j) = baseline.sector_index(code) else {
            errors.push(e.source.error(
                Some("elasticities"),
                &format!("\"{code}\""),
                format!(
                    "elasticity for `{code}`, which is not a sector of the baseline; {}",
                    crate::error::suggestion(code, &sector_codes, "sectors")
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
        match v.and_then(|v| data::check_theta(v).map(|_| v)) {
            Ok(v) => theta[j] = v,
            Err(msg) => errors.push(e.source.error(
                Some("elasticities"),
                &format!("\"{code}\""),
                format!("the elasticity of `{code}`: {msg}"),
            )),
        }
    }

    // Checked here, where the file is read: a value out of range is an error at its field.
    let solver = match &m.solver {
        None => Settings::CALIENDO_PARRO,
        Some(s) => {
            let v = s.value;
            Settings::CALIENDO_PARRO
                .with(v.tolerance, v.max_iterations, v.step)
                .unwrap_or_else(|bad| {
                    for b in bad {
                        errors.push(s.source.solver_field_error(b.field, b.message));
                    }
                    Settings::CALIENDO_PARRO
                })
        }
    };

    let names: Vec<&str> = m.agreements.iter().map(|a| a.value.name.as_str()).collect();
    for r in m.remove.iter().chain(&m.continue_phase_out) {
        if !names.contains(&r.value.as_str()) {
            errors.push(r.source.error(
                None,
                &format!("\"{}\"", r.value),
                format!(
                    "no agreement named `{}`; {}",
                    r.value,
                    crate::error::suggestion(&r.value, &names, "agreements")
                ),
            ));
        }
    }
    // An agreement of this file whose name is nearly an inherited one's (another case, or one
    // or two letters off) and whose members are among its members or the other way round: it
    // is added beside the inherited agreement, not in its place, which is what a misspelt name
    // does without a word (China-Australia beside Chile-Australia is not such a case).
    let economies = |a: &RawAgreement| -> BTreeSet<String> {
        a.members
            .iter()
            .chain(a.accessions.keys())
            .cloned()
            .collect()
    };
    let this_file = |a: &&Located<RawAgreement>| a.source.path == src.path;
    for a in m.agreements.iter().filter(this_file) {
        let name = a.value.name.to_lowercase();
        if name.chars().count() < 4 {
            continue;
        }
        let mine = economies(&a.value);
        let near = m.agreements.iter().filter(|b| !this_file(b)).find(|b| {
            let other = b.value.name.to_lowercase();
            (other == name || crate::error::edit_distance(&name, &other) <= 2) && {
                let theirs = economies(&b.value);
                mine.is_subset(&theirs) || theirs.is_subset(&mine)
            }
        });
        if let Some(b) = near {
            let quoted = format!("\"{}\"", a.value.name);
            warnings.push(a.source.warning(None, &quoted, format!("agreement `{}` is new in this file, beside the inherited `{}` ({}): an agreement replaces an inherited one only under exactly the same name, so both are in the scenario. To replace it, write `{}`; if this is another agreement, ignore this warning", a.value.name, b.value.name, b.source.path.display(), b.value.name)));
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
    // A parent whose agreements are all in force in the base year describes the data.
    let mut has_new: BTreeMap<&Path, bool> = BTreeMap::new();
    for a in &m.agreements {
        *has_new.entry(a.source.path.as_path()).or_default() |=
            a.value.entry_into_force > base_year;
    }
    let mut agreements = Vec::new();
    let mut agreement_origins = Vec::new();
    for a in &m.agreements {
        let name = a.value.name.as_str();
        let mut ag = validate_agreement(
            &a.value,
            &a.source,
            &baseline,
            base_year,
            &mut errors,
            &mut warnings,
        );
        ag.removed = removed.contains(name);
        let is_continued = continued.contains(name);
        if ag.entry_into_force <= base_year && !is_continued && !run_to_the_end {
            ag.frozen_from = Some(base_year);
        }
        let file = a.source.path.clone();
        let own = file == src.path || has_new[file.as_path()] || ag.removed || is_continued;
        let anchor = format!("\"{name}\"");
        if ag.entry_into_force <= base_year
            && a.value.in_baseline.is_none()
            && !ag.removed
            && !is_continued
            && !run_to_the_end
        {
            warnings.push(a.source.warning(Some(&anchor), "entry_into_force", format!("agreement `{name}` enters into force in {}, not after base_year {base_year}: it is taken as part of the base-year data and held at its {base_year} rates, so it changes nothing in this scenario. For a new agreement set entry_into_force after {base_year}; for one in the data say `in_baseline: true` (and list it in `continue_phase_out` to let its phase-out run on)", ag.entry_into_force)));
        }
        if let Some(&last) = years.last() {
            if ag.entry_into_force > last && !ag.removed {
                warnings.push(a.source.warning(Some(&anchor), "entry_into_force", format!("agreement `{name}` enters into force in {}, after the last year solved ({last}): it has no effect; move the horizon or the date", ag.entry_into_force)));
            }
        }
        agreements.push(ag);
        agreement_origins.push(AgreementOrigin { file, own });
    }
    // Accessions first, so that a member acceding in this scenario can also withdraw.
    let changes = m
        .accessions
        .iter()
        .map(|c| (MembershipMap::Accession, c))
        .chain(m.withdrawals.iter().map(|c| (MembershipMap::Withdrawal, c)));
    let mut unknown = BTreeSet::new();
    for (kind, ((name, code), year)) in changes {
        // An agreement the scenario does not have is named once, not once per economy.
        if unknown.contains(&(kind, name)) {
            continue;
        }
        if !agreements.iter().any(|a| &a.name == name) {
            unknown.insert((kind, name));
        }
        let change = MembershipChange {
            kind,
            name,
            code,
            year,
        };
        if let Some(k) = change.apply(&mut agreements, &baseline, &mut errors) {
            // The scenario changes the agreement: it is one of its own, shown by `check`.
            agreement_origins[k].own = true;
        }
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
                warnings.extend(falling_profile(
                    ag.depth.as_ref(),
                    name,
                    &d.source,
                    Some(&anchor),
                ));
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
    // A new agreement's depth that reaches none of its member pairs, each being already in an
    // earlier agreement at least as deep, changes nothing: said, with the fix.
    if let Some(&last) = years.last() {
        let world: Vec<&crate::policy::Agreement> =
            agreements.iter().filter(|a| !a.removed).collect();
        for (ag, a) in agreements.iter().zip(&m.agreements) {
            if ag.removed || ag.entry_into_force <= base_year {
                continue;
            }
            let Some(cov) = ag.depth_coverage(last, &world) else {
                continue;
            };
            if cov.pairs == 0 || cov.applies > 0 || cov.blocked_by.is_empty() {
                continue;
            }
            let name = &ag.name;
            let beta = ag.depth.as_ref().map_or(0.0, |d| d.beta);
            let message = format!(
                "agreement `{name}`: its depth (β {beta}) applies to none of its {} member pairs in {last}: each is already in an earlier agreement at least as deep ({}; one with no declared depth counts, its non-tariff effect being in the data), so the depth changes nothing. If β is what this agreement adds on top of those, write `pairs: AllMembers` in its depth",
                cov.pairs,
                cov.blocked_by.join(", ")
            );
            let anchor = format!("\"{name}\"");
            warnings.push(match m.depth.iter().find(|(n, _)| *n == name) {
                Some((_, d)) => d.source.warning(Some("depth"), &anchor, message),
                None => a.source.warning(Some(&anchor), "depth", message),
            });
        }
    }
    let compared_with = match &m.compared_with {
        None => ComparedWith::BaseYear,
        Some(c) => match &c.value {
            RawComparedWith::BaseYear => ComparedWith::BaseYear,
            RawComparedWith::Reference { file, without } => {
                match reference_path(&m, c, file, without, &baseline, base_year, &years) {
                    Ok(r) => {
                        inputs.extend(r.inputs.iter().cloned());
                        ComparedWith::Reference(Box::new(r))
                    }
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
            agreement_origins,
            investment,
            compared_with,
            inputs,
            warnings,
        }),
        _ => Err(Error::one_or_many(errors)),
    }
}

fn codes<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Which of a scenario's membership maps an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum MembershipMap {
    /// `accessions: { agreement: { code: year } }`.
    Accession,
    /// `withdrawals: { agreement: { code: first year out } }`.
    Withdrawal,
}

impl MembershipMap {
    fn field(self) -> &'static str {
        match self {
            MembershipMap::Accession => "accessions",
            MembershipMap::Withdrawal => "withdrawals",
        }
    }
}

/// One entry of a scenario's `accessions` or `withdrawals` by agreement name (README
/// "Scenario files"): `code` joins agreement `name` in `year`, or leaves it then.
struct MembershipChange<'a> {
    kind: MembershipMap,
    name: &'a str,
    code: &'a str,
    year: &'a Located<i32>,
}

impl MembershipChange<'_> {
    /// Apply the change to its agreement among `agreements` ([`Agreement::accede`],
    /// [`Agreement::withdraw`]). Returns the agreement's index, or `None` with an error at the
    /// entry: no such agreement, an unknown economy, a year out of range, or what the
    /// agreement refuses.
    fn apply(
        &self,
        agreements: &mut [Agreement],
        b: &Baseline,
        errors: &mut Vec<Error>,
    ) -> Option<usize> {
        let (name, code, field) = (self.name, self.code, self.kind.field());
        let src = &self.year.source;
        let place = src.map_of_maps_field_offset(field);
        let at_name = place.and_then(|p| src.offset_from(p, &format!("\"{name}\"")));
        let at_code = at_name.and_then(|p| src.offset_from(p, &format!("\"{code}\"")));
        let mut fail = |at: Option<usize>, message: String| {
            errors.push(src.error_at(at.or(at_name).or(place), message));
            None
        };
        let Some(k) = agreements.iter().position(|a| a.name == name) else {
            return fail(
                at_name,
                format!(
                    "`{field}` names agreement `{name}`, which this scenario does not have{}",
                    did_you_mean(name, agreements.iter().map(|a| a.name.as_str()))
                ),
            );
        };
        let Some(e) = b.economy_index(code) else {
            return fail(
                at_code,
                format!("`{field}` of `{name}`: {}", unknown_economy(code, b)),
            );
        };
        let y = self.year.value;
        if let Err(msg) = check_year(y) {
            return fail(at_code, format!("`{field}` of `{name}`: `{code}`: {msg}"));
        }
        let done = match self.kind {
            MembershipMap::Accession => agreements[k].accede(e, code, y),
            MembershipMap::Withdrawal => agreements[k].withdraw(e, code, y),
        };
        match done {
            Ok(()) => Some(k),
            Err(msg) => fail(at_code, format!("`{field}` of `{name}`: {msg}")),
        }
    }
}

/// "unknown economy `X`; did you mean `Y`? the baseline's economies are: …", for a code the
/// baseline `b` does not have (in an agreement, or a scenario's `accessions`/`withdrawals`).
fn unknown_economy(code: &str, b: &Baseline) -> String {
    let codes: Vec<&str> = b.economies.iter().map(|e| e.code.as_str()).collect();
    format!(
        "unknown economy `{code}`; {}the baseline's economies are: {}",
        did_you_mean_first(code, codes.iter().copied()),
        codes.join(", ")
    )
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
    if r.base_year.as_ref().map(|y| y.value) != Some(base_year) {
        return Err(here(format!(
            "the reference {} has base year {}, this scenario {base_year}; a reference must have the same base year",
            path.display(),
            r.base_year
                .as_ref()
                .map_or("none".to_string(), |y| y.value.to_string())
        )));
    }
    let ref_years: Vec<i32> = match (&r.years, &r.horizon) {
        (Some(ys), _) => ys.value.clone(),
        (None, Some(h)) => (base_year..=h.value).collect(),
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
            compact_years(&ref_years)
        )));
    }
    // The reference contributes its policy; the model settings are the scenario's.
    r.compared_with = None;
    r.years = Some(Located {
        value: years.to_vec(),
        source: r.source.clone(),
    });
    r.horizon = None;
    r.investment = None;
    let name = r.name.clone();
    let reference = validate(r, baseline.clone())?;
    let mut agreements = reference.agreements;
    let ref_inputs = reference.inputs;
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
            inputs: ref_inputs,
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

/// The place of step `k` of the depth `profile` after `anchor` (of the profile when the step
/// is not found).
fn profile_step_at(src: &Source, anchor: Option<&str>, k: usize) -> Option<usize> {
    src.item_or_place(src.offset(anchor, "profile"), k)
}

/// A warning at the first step of a depth profile whose share falls. Shares are cumulative: a
/// falling one shrinks the effect again, which an estimated lag profile can do, but which is
/// more often a share written as the increment of its step.
fn falling_profile(
    depth: Option<&Depth>,
    name: &str,
    src: &Source,
    anchor: Option<&str>,
) -> Option<String> {
    let d = depth?;
    let p = &d.profile;
    let k = (1..p.len()).find(|&k| p[k].1 < p[k - 1].1)?;
    let ((o, s), (po, ps)) = (p[k], p[k - 1]);
    Some(src.error_at(profile_step_at(src, anchor, k), format!("agreement `{name}`: depth profile share falls from {ps} at offset {po} to {s} at offset {o}, so the depth effect shrinks again there (and rises to all of β at phase_in_years {}). Shares are cumulative shares of β reached by each offset, not the increments of each step: if these are increments, write their running sums; if the effect is meant to fall, ignore this warning", d.phase_in_years)).to_string())
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
    let problem = crate::policy::check_depth_beta(beta)
        .err()
        .or_else(|| (phase_in_years == 0).then(|| "phase_in_years must be at least 1".to_string()));
    if let Some(msg) = problem {
        errors.push(src.error(anchor, "depth", format!("agreement `{name}`: {msg}")));
        return None;
    }
    // A bad step is an error at the step; an offset that does not ascend is one at the step
    // that comes too late.
    let bad_step = (0..profile.len()).find(|&k| {
        let (o, s) = profile[k];
        o >= phase_in_years || !(0.0..=1.0).contains(&s) || (k > 0 && o <= profile[k - 1].0)
    });
    if let Some(k) = bad_step {
        let (o, s) = profile[k];
        errors.push(src.error_at(
            profile_step_at(src, anchor, k),
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
    warnings: &mut Vec<String>,
) -> Agreement {
    let anchor = format!("\"{}\"", a.name);
    let anchor = Some(anchor.as_str());
    let sector_codes: Vec<&str> = b.sectors.iter().map(|s| s.code.as_str()).collect();
    let economy = |code: &str, errors: &mut Vec<Error>| -> Option<usize> {
        let idx = b.economy_index(code);
        if idx.is_none() {
            errors.push(src.error(
                anchor,
                &format!("\"{code}\""),
                format!("agreement `{}`: {}", a.name, unknown_economy(code, b)),
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
                    "agreement `{}`: unknown sector `{code}`; {}",
                    a.name,
                    crate::error::suggestion(code, &sector_codes, "baseline's sectors")
                ),
            ));
        }
        idx
    };
    for (what, y) in std::iter::once(("entry_into_force", a.entry_into_force))
        .chain(a.accessions.values().map(|y| ("accessions", *y)))
        .chain(a.withdrawals.values().map(|y| ("withdrawals", *y)))
    {
        if let Err(msg) = check_year(y) {
            errors.push(src.error(
                anchor,
                &y.to_string(),
                format!("agreement `{}`: {what}: {msg}", a.name),
            ));
        }
    }
    let mut members = Vec::new();
    let mut seen = BTreeSet::new();
    for code in a.members.iter().chain(a.accessions.keys()) {
        if !seen.insert(code.clone()) {
            let repeat = src.second_offset(anchor, &format!("\"{code}\""));
            errors.push(src.error_at(repeat, format!("agreement `{}`: `{code}` is listed twice among members and accessions; keep one", a.name)));
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
            Some(m) => {
                if *year <= m.joins {
                    warnings.push(src.warning(anchor, &format!("\"{code}\""), format!("agreement `{}`: `{code}` withdraws in {year}, not after it joins ({}), so it never takes part; if that is meant, remove it from the members and `withdrawals`, else correct the year", a.name, m.joins)));
                }
                m.leaves = Some(*year);
            }
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
    // An importer or exporter a rule or product group names: an economy of the baseline and a
    // member (founding or acceding), else the rule could never apply.
    let member = |code: &str, what: &str, errors: &mut Vec<Error>| -> Option<usize> {
        let e = economy(code, errors)?;
        if members.iter().any(|m| m.economy == e) {
            return Some(e);
        }
        let listed: Vec<&str> = a
            .members
            .iter()
            .chain(a.accessions.keys())
            .map(String::as_str)
            .collect();
        errors.push(src.error(anchor, &format!("\"{code}\""), format!("agreement `{}`: {what} `{code}` is not a member ({}), so this never applies; add `{code}` to `members` or `accessions`, or correct the code", a.name, listed.join(", "))));
        None
    };
    let sched = |s: &RawSchedule, at: SchedulePlace, errors: &mut Vec<Error>| {
        schedule(s, a, at, src, b, errors)
    };
    let default = sched(&a.schedule, SchedulePlace::Default, errors);
    let mut rules = Vec::new();
    for (k, r) in a.schedules.iter().enumerate() {
        rules.push(Rule {
            importer: r
                .importer
                .as_deref()
                .and_then(|c| member(c, "the importer", errors)),
            exporter: r
                .exporter
                .as_deref()
                .and_then(|c| member(c, "the exporter", errors)),
            sector: r.sector.as_deref().and_then(|c| sector(c, errors)),
            schedule: sched(&r.schedule, SchedulePlace::Rule(k), errors),
        });
    }
    let mut groups: Vec<ProductGroup> = Vec::new();
    // Whether each group came from an entry that names its exporter: such an entry replaces an
    // earlier all-partners entry's row for that exporter (more specific wins; among equally
    // specific entries, the later).
    let mut explicit: Vec<bool> = Vec::new();
    for g in &a.product_groups {
        let ganchor = format!("\"{}\"", g.name);
        let Some(imp) = member(&g.importer, "the product group's importer", errors) else {
            continue;
        };
        let exp = g
            .exporter
            .as_deref()
            .and_then(|c| member(c, "the product group's exporter", errors));
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
        let schedule = sched(&g.schedule, SchedulePlace::Group(&ganchor), errors);
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
            let same = groups.iter().position(|h| {
                h.name == g.name && h.importer == imp && h.exporter == exporter && h.sector == sec
            });
            if let Some(k) = same {
                if explicit[k] && exp.is_none() {
                    continue;
                }
                groups.remove(k);
                explicit.remove(k);
            }
            explicit.push(exp.is_some());
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
    let mut weight_sum: BTreeMap<(usize, Option<usize>, usize), f64> = BTreeMap::new();
    for h in &groups {
        *weight_sum
            .entry((h.importer, h.exporter, h.sector))
            .or_default() += h.weight;
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
    warnings.extend(falling_profile(depth.as_ref(), &a.name, src, anchor));
    let ag = Agreement {
        name: a.name.clone(),
        entry_into_force: a.entry_into_force,
        members,
        schedule: default,
        rules,
        groups,
        depth,
        depth_phase_in: None,
        removed: false,
        frozen_from: None,
        investment: a.investment_provisions,
    };
    warnings.extend(
        rates_above_base(&ag, b)
            .into_iter()
            .chain(quotas_of_several_exporters(&ag, b))
            .map(|(group, msg)| {
                let needle = group.map_or("schedule".to_string(), |g| format!("\"{g}\""));
                src.warning(anchor, &needle, format!("agreement `{}`: {msg}", a.name))
            }),
    );
    ag
}

/// The tariff-rate quotas of an agreement that several exporters get at once (a product group
/// or a schedule without an `exporter`): a quota is a pair's (importer, exporter, sector), so
/// each of them gets the whole quota, and their imports under it can reach that many times
/// it. tradesim has no quota shared among exporters; one message per quota and importer,
/// naming the exporters and what to write for a joint quota.
fn quotas_of_several_exporters<'a>(
    ag: &'a Agreement,
    b: &Baseline,
) -> Vec<(Option<String>, String)> {
    let members: Vec<usize> = ag.members.iter().map(|m| m.economy).collect();
    // (the quota's schedule, importer, sector) → (its group, the quota, the exporters).
    type Seen<'a> = (&'a Schedule, usize, usize, Option<&'a str>, f64, Vec<usize>);
    let mut seen: Vec<Seen> = Vec::new();
    let mut record = |s: &'a Schedule, n: usize, j: usize, group: Option<&'a str>, i: usize| {
        if let Schedule::TariffRateQuota { quota, .. } = s {
            match seen
                .iter_mut()
                .find(|e| std::ptr::eq(e.0, s) && e.1 == n && e.2 == j)
            {
                Some(e) => e.5.push(i),
                None => seen.push((s, n, j, group, *quota, vec![i])),
            }
        }
    };
    for &n in &members {
        for &i in members.iter().filter(|&&i| i != n) {
            for j in (0..b.n_sectors()).filter(|&j| b.sectors[j].traded) {
                let groups = crate::policy::groups_for(&ag.groups, n, i, j);
                for g in &groups {
                    record(&g.schedule, n, j, Some(g.name.as_str()), i);
                }
                if groups.iter().map(|g| g.weight).sum::<f64>() < 1.0 {
                    record(ag.schedule_for(n, i, j), n, j, None, i);
                }
            }
        }
    }
    seen.into_iter()
        .filter(|e| e.5.len() > 1)
        .map(|(_, n, j, group, quota, exporters)| {
            let code = |e: usize| b.economies[e].code.as_str();
            let list: Vec<&str> = exporters.iter().map(|&e| code(e)).collect();
            let what = group.map_or_else(
                || "tariff-rate quota".to_string(),
                |g| format!("product group `{g}`'s tariff-rate quota"),
            );
            let msg = format!(
                "{what} on {}'s {} imports ({quota} at base-year prices) is each exporter's: {} get {quota} each, {} in all. tradesim has no quota shared among exporters; if {quota} is their joint quota, give each exporter a group of its own (`exporter: Some(\"{}\")`) with its share of it, e.g. by base-year imports",
                code(n),
                b.sectors[j].code,
                list.join(", "),
                quota * exporters.len() as f64,
                list[0]
            );
            (group.map(String::from), msg)
        })
        .collect()
}

/// The schedules of an agreement that set a rate above the base they move from, for some
/// member pair and sector: a quota's in- or out-of-quota rate above the group's base rate, or a
/// `Path` rate above the data rate. Such rates are not applied (a schedule never raises a rate
/// above its base, see [`crate::policy::resolve_year`]); one message per schedule, saying what
/// is applied instead and what to change.
fn rates_above_base(ag: &Agreement, b: &Baseline) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    let members: Vec<usize> = ag.members.iter().map(|m| m.economy).collect();
    let code = |n: usize| b.economies[n].code.as_str();
    let mut note = |key: String, msg: String| {
        if !out.iter().any(|(_, m)| m.starts_with(&key)) {
            let group = key
                .strip_prefix("product group `")
                .and_then(|k| k.strip_suffix("`: "))
                .map(String::from);
            out.push((group, format!("{key}{msg}")));
        }
    };
    for &n in &members {
        for &i in &members {
            if i == n {
                continue;
            }
            for j in (0..b.n_sectors()).filter(|&j| b.sectors[j].traded) {
                let base = b.tariffs.get(j, n, i);
                let cell = format!(
                    "{}'s {} imports from {}",
                    code(n),
                    b.sectors[j].code,
                    code(i)
                );
                let groups: Vec<&ProductGroup> = ag
                    .groups
                    .iter()
                    .filter(|g| {
                        g.importer == n && g.sector == j && g.exporter.is_none_or(|e| e == i)
                    })
                    .collect();
                for g in &groups {
                    let gb = g.base_rate.unwrap_or(base);
                    let what = if g.base_rate.is_some() {
                        "its base_rate"
                    } else {
                        "the data rate"
                    };
                    if let Schedule::TariffRateQuota {
                        in_quota_rate,
                        out_of_quota_rate,
                        ..
                    } = g.schedule
                    {
                        let high = out_of_quota_rate.max(in_quota_rate);
                        if high > gb + 1e-12 {
                            note(format!("product group `{}`: ", g.name), format!("the tariff-rate quota's {} rate {high} is above the group's base rate {gb} ({what} of {cell}); a quota never takes a rate above the base, so {gb} is charged instead. If the group's own MFN rate is higher than the sector's, give it as `base_rate`", if out_of_quota_rate > gb + 1e-12 { "out-of-quota" } else { "in-quota" }));
                        }
                    }
                    if let Schedule::Path(points) = &g.schedule {
                        if let Some((y, r)) = points.iter().find(|(_, r)| *r > gb + 1e-12) {
                            note(format!("product group `{}`: ", g.name), format!("Path rate {r} in {y} is above the group's base rate {gb} ({what} of {cell}); a schedule never raises a rate above its base, so {gb} applies: write the rates the agreement sets, at or below the base"));
                        }
                    }
                }
                if groups.iter().map(|g| g.weight).sum::<f64>() >= 1.0 {
                    continue;
                }
                match ag.schedule_for(n, i, j) {
                    Schedule::TariffRateQuota {
                        in_quota_rate,
                        out_of_quota_rate,
                        ..
                    } => {
                        let high = out_of_quota_rate.max(*in_quota_rate);
                        if groups.is_empty() && high > base + 1e-12 {
                            note("tariff-rate quota: ".into(), format!("the rate {high} is above the data rate {base} of {cell}; a quota never takes a rate above the data rate, so {base} is charged instead"));
                        }
                    }
                    Schedule::Path(points) => {
                        if let Some((y, r)) = points.iter().find(|(_, r)| *r > base + 1e-12) {
                            if groups.is_empty() {
                                note("Path: ".into(), format!("the rate {r} in {y} is above the data rate {base} of {cell}; the applied rate stays at the lowest of the data rate and the agreements' rates, so this rate is not applied: write the rates the agreement sets, at or below the data rate"));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
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
                crate::policy::Provisions::Pta => betas.pta = b,
                crate::policy::Provisions::InvestmentChapter => betas.investment_chapter = b,
                crate::policy::Provisions::BitEquivalent => betas.bit_equivalent = b,
                crate::policy::Provisions::Deep => betas.deep = b,
                crate::policy::Provisions::None => errors.push(src.error(
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

/// Which of an agreement's schedules is read, for its errors to point there.
#[derive(Clone, Copy)]
enum SchedulePlace<'a> {
    /// The agreement's own `schedule:`.
    Default,
    /// The `k`th entry of its `schedules: [...]`.
    Rule(usize),
    /// The product group whose name (quoted) is given.
    Group(&'a str),
}

/// The agreement `a`'s schedule `s`, read at `at`.
fn schedule(
    s: &RawSchedule,
    a: &RawAgreement,
    at: SchedulePlace,
    src: &Source,
    b: &Baseline,
    errors: &mut Vec<Error>,
) -> Schedule {
    let anchor = format!("\"{}\"", a.name);
    let anchor = Some(anchor.as_str());
    // An error at the first `needle` of the schedule's place, or with `item`, at that item of
    // the list after it (a `Staged` step, a `Path` point).
    let mut bad_at = |needle: &str, item: Option<usize>, msg: String| {
        let msg = format!("agreement `{}`: {msg}", a.name);
        let off = match at {
            SchedulePlace::Default => src.offset(anchor, needle),
            SchedulePlace::Rule(k) => src
                .offset_in_rule(anchor, k, needle)
                .or_else(|| src.offset(anchor, needle)),
            SchedulePlace::Group(g) => src.offset(Some(g), needle),
        };
        let off = item.map_or(off, |i| src.item_or_place(off, i));
        errors.push(src.error_at(off, msg));
    };
    let rate_ok = |r: f64| r.is_finite() && r >= 0.0;
    match s {
        RawSchedule::Immediate => Schedule::Immediate,
        RawSchedule::Excluded => Schedule::Excluded,
        RawSchedule::Linear { years, to } => {
            if *years == 0 {
                bad_at(
                    "Linear",
                    None,
                    "Linear needs years ≥ 1 (use Immediate for an immediate cut)".into(),
                );
            }
            if !(0.0..=1.0).contains(to) {
                bad_at(
                    "Linear",
                    None,
                    format!("Linear `to` is {to}; it is a fraction of the base rate in [0, 1]"),
                );
            }
            Schedule::Linear {
                years: *years,
                to: *to,
            }
        }
        RawSchedule::Staged(steps) => {
            let mut offsets = BTreeSet::new();
            for (k, (o, f)) in steps.iter().enumerate() {
                if !rate_ok(*f) {
                    bad_at("Staged", Some(k), format!("Staged step ({o}, {f}): the fraction of the base rate must be non-negative"));
                } else if *f > 1.0 {
                    bad_at("Staged", Some(k), format!("Staged step ({o}, {f}): the fraction of the base rate is above 1, which would raise the rate above its base; a step is a fraction of the base rate in [0, 1] (0.8 = 80% of it, not 80)"));
                }
                if !offsets.insert(*o) {
                    bad_at(
                        "Staged",
                        Some(k),
                        format!("Staged offset {o} is given twice; keep one step per offset"),
                    );
                }
            }
            if let Some(k) = (1..steps.len()).find(|&k| steps[k].0 < steps[k - 1].0) {
                let ((o, f), (po, pf)) = (steps[k], steps[k - 1]);
                bad_at("Staged", Some(k), format!("Staged step ({o}, {f}) comes after ({po}, {pf}) but has an earlier offset; steps apply by offset, not by their place in the list, so this step would apply before ({po}, {pf}). List the steps in order of offset (years after entry into force), or correct this offset if a later year was meant"));
            }
            Schedule::Staged(steps.clone())
        }
        RawSchedule::Path(points) => {
            let mut years = BTreeSet::new();
            for (y, r) in points {
                if *y < a.entry_into_force {
                    bad_at(&y.to_string(), None, format!("Path year {y} is before entry into force ({}); a schedule starts when the agreement does", a.entry_into_force));
                }
                if !rate_ok(*r) {
                    bad_at(&r.to_string(), None, format!("Path rate {r} in {y} is negative; tariff rates are fractions ≥ 0 (0.05 = 5%)"));
                }
                if !years.insert(*y) {
                    bad_at(
                        &y.to_string(),
                        None,
                        format!("Path year {y} is given twice; keep one rate per year"),
                    );
                }
            }
            if let Some(k) = (1..points.len()).find(|&k| points[k].0 < points[k - 1].0) {
                let ((y, r), (py, pr)) = (points[k], points[k - 1]);
                bad_at("Path", Some(k), format!("Path point ({y}, {r}) comes after ({py}, {pr}) but has an earlier year; points apply by year, not by their place in the list, so this rate would apply before ({py}, {pr}). List the points in order of year, or correct this year if a later one was meant"));
            }
            Schedule::Path(points.clone())
        }
        RawSchedule::TariffRateQuota {
            quota,
            in_quota_rate,
            out_of_quota_rate,
        } => {
            if !(quota.is_finite() && *quota > 0.0) {
                bad_at("quota", None, format!("TariffRateQuota quota {quota} must be positive (base-year money at base-year prices)"));
            }
            if !rate_ok(*in_quota_rate)
                || !rate_ok(*out_of_quota_rate)
                || in_quota_rate > out_of_quota_rate
            {
                bad_at("TariffRateQuota", None, format!("TariffRateQuota rates must be ≥ 0 with in_quota_rate ({in_quota_rate}) ≤ out_of_quota_rate ({out_of_quota_rate})"));
            }
            Schedule::TariffRateQuota {
                quota: *quota,
                in_quota_rate: *in_quota_rate,
                out_of_quota_rate: *out_of_quota_rate,
            }
        }
        RawSchedule::ToTariffSet(name) => {
            if !b.tariff_sets.contains_key(name) {
                bad_at(
                    &format!("\"{name}\""),
                    None,
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
    pub(crate) fn measured(&self, a: &Agreement) -> bool {
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
            v.extend(
                r.agreements
                    .iter()
                    .filter(|x| !x.removed && !self.agreements.iter().any(|a| a.name == x.name)),
            );
        }
        v
    }

    /// The members, in `year`, of the agreements the outcomes measure
    /// ([`Scenario::measured_agreements`]), sorted: the economies whose trade with each other
    /// the summary reports.
    pub(crate) fn changed_members(&self, year: i32) -> Vec<usize> {
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
    /// `Scenario(...)`: a multi-sector scenario.
    Scenario,
    /// `Batch(...)`: a batch of scenarios and draws.
    Batch,
    /// `StructuralGravity(...)`: a one-sector structural gravity scenario.
    StructuralGravity,
    /// Anything else (the loaders then report what they expected).
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

/// The policy of every year of the scenario, resolved (for `check`, the reports and the solve):
/// the base year's, then each solved year's.
pub fn resolve_paths(s: &Scenario) -> (crate::policy::YearPolicy, Vec<crate::policy::YearPolicy>) {
    let base = crate::policy::resolve_year(&s.baseline, &s.agreements, s.base_year, false);
    let years = s
        .years
        .iter()
        .map(|&y| crate::policy::resolve_year(&s.baseline, &s.agreements, y, true))
        .collect();
    (base, years)
}

/// Years as a range (`2014–2035`) when consecutive, else a list.
pub(crate) fn compact_years(ys: &[i32]) -> String {
    match (ys.first(), ys.last()) {
        (Some(a), Some(z)) if ys.len() as i32 == z - a + 1 && ys.len() > 2 => format!("{a}–{z}"),
        _ => ys
            .iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};
    use std::path::Path;

    /// A baseline too large for the memory allowed is said to be so, not sent to check its
    /// path; a missing file still is.
    #[test]
    fn a_baseline_read_failure_says_what_to_do() {
        let flows = Path::new("world/flows.csv");
        let oom = super::baseline_read_hint(flows, &Error::from(ErrorKind::OutOfMemory));
        assert!(
            oom.contains("does not fit in the memory") && !oom.contains("check the path"),
            "{oom}"
        );
        let missing = super::baseline_read_hint(flows, &Error::from(ErrorKind::NotFound));
        assert!(missing.contains("check the path"), "{missing}");
    }
}
