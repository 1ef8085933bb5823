//! Estimate PPML-HDFE models from a CSV file (`tradesim estimate`) and show saved fits side
//! by side (`tradesim etable`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::estimate::{self, etable, FitStats, NaValues, PpmlFit, PpmlOptions};
use crate::output::WholeFile;

/// One or more models fitted to the same data, and what to do with them.
#[derive(Debug, Clone)]
pub struct EstimateRequest<'a> {
    /// The CSV file (with a header line).
    pub data: &'a Path,
    /// Formulas in fixest syntax; several are fitted one after the other on the same data.
    pub formula: &'a [String],
    /// Derived columns `name = expression`, applied in order before `subset`.
    pub define: &'a [String],
    /// The fit's settings (its progress hook hears of every IRLS iteration).
    pub options: PpmlOptions,
    /// The cells read as missing values: the default markers (empty, `NA`, `.`, `NaN`,
    /// `NULL`, `#N/A`) or, from `--na-values`, an empty cell and the listed tokens.
    pub na_values: NaValues,
    /// Show the fits as JSON.
    pub json: bool,
    /// Show the models side by side in this format (`md`, `csv`, `latex`); several formulas
    /// default to Markdown.
    pub table: Option<&'a str>,
    /// Write the fixed effects of the (one) model to this CSV file.
    pub fe_out: Option<&'a Path>,
    /// Write the fitted values of the (one) model to this CSV file.
    pub fitted_out: Option<&'a Path>,
    /// Replace existing `fe_out` and `fitted_out` files.
    pub force: bool,
}

/// Fitted models: the fits, their warnings and the text that shows them. [`Estimated::finish`]
/// writes the requested files and turns a fit that did not converge into an error.
#[derive(Debug)]
pub struct Estimated {
    /// Each model's fit and statistics, in the order of the formulas.
    pub fits: Vec<(PpmlFit, FitStats)>,
    /// The fits' warnings, each saying what to do.
    pub warnings: Vec<String>,
    /// Notes on the fits: the rows each left out for missing values (one note per fit that
    /// left some out, as fixest's "NOTE: 3 observations removed because of NA values").
    pub notes: Vec<String>,
    text: String,
    fe_out: Option<PathBuf>,
    fitted_out: Option<PathBuf>,
    force: bool,
}

/// An error of the estimation, in its words: `estimate: ` and the error's text.
fn within(e: Error) -> Error {
    Error::invalid("estimate", e.to_string())
}

/// Fit the models of `req`. Every error is `Error::Invalid` in the context `estimate`. A number that is not finite (an estimate, a standard error, a
/// fixed effect to be written) is an error: nothing is shown or written.
pub fn estimate(req: &EstimateRequest) -> Result<Estimated> {
    if req.formula.len() > 1 && (req.fe_out.is_some() || req.fitted_out.is_some()) {
        return Err(Error::invalid(
            "estimate",
            "`fe_out` and `fitted_out` take one `formula`; run the model alone",
        ));
    }
    if let (Some(fe), Some(fitted)) = (req.fe_out, req.fitted_out) {
        if crate::output::staging::absolute(fe) == crate::output::staging::absolute(fitted) {
            return Err(Error::invalid(
                "estimate",
                format!(
                    "`fe_out` and `fitted_out` both name {}; give each file its own name",
                    fitted.display()
                ),
            ));
        }
    }
    for p in req.fe_out.iter().chain(&req.fitted_out) {
        crate::output::staging::check_new_file(p, req.force).map_err(within)?;
    }
    let format: Option<etable::Format> = match req.table {
        Some(t) => Some(t.parse().map_err(within)?),
        None if req.formula.len() > 1 => Some(etable::Format::Markdown),
        None => None,
    };
    let fits = estimate::run_models(
        req.data,
        req.formula,
        req.define,
        &req.options,
        &req.na_values,
    )
    .map_err(within)?;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    for (fit, _) in &fits {
        if fit.dropped_missing > 0 {
            let model = if fits.len() > 1 {
                format!("`{}`: ", fit.formula)
            } else {
                String::new()
            };
            notes.push(format!(
                "{model}{} observation(s) removed because of missing values ({}); {} used",
                fit.dropped_missing,
                estimate::ppml::missing_counts(&fit.missing),
                fit.nobs
            ));
        }
        // No NaN or infinity is shown or written with exit status 0.
        let mut numbers = fit
            .names
            .iter()
            .zip(fit.coefficients.iter().zip(&fit.std_errors));
        if let Some((name, (b, se))) =
            numbers.find(|(_, (b, se))| !(b.is_finite() && se.is_finite()))
        {
            return Err(Error::invalid("estimate", format!("the estimate of `{name}` is {b} with standard error {se}: not a finite number, so nothing is printed or written; look for a regressor that separates the zeros of the outcome or is collinear with the fixed effects")));
        }
        if let Some(fe) = fit
            .fixed_effects
            .iter()
            .find(|fe| fe.values.iter().any(|v| !v.is_finite()))
        {
            if req.fe_out.is_some() {
                return Err(Error::invalid("estimate", format!("the fixed effects of `{}` include a value that is not finite, so `fe_out` is not written", fe.dimension)));
            }
        }
        warnings.extend(fit.warnings.iter().cloned());
    }
    let json: Vec<serde_json::Value> = fits
        .iter()
        .map(|(f, st)| estimate::output::to_json(f, st))
        .collect();
    let text = if req.json {
        let j = if json.len() == 1 {
            json[0].clone()
        } else {
            serde_json::Value::Array(json.clone())
        };
        let mut t = serde_json::to_string_pretty(&j)
            .map_err(|e| Error::invalid("estimate", e.to_string()))?;
        t.push('\n');
        t
    } else if let Some(format) = format {
        let models = json
            .iter()
            .map(|j| etable::Model::from_json(j, "estimate"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(within)?;
        etable::render(&models, format)
    } else {
        estimate::output::table(&fits[0].0, &fits[0].1)
    };
    Ok(Estimated {
        fits,
        warnings,
        notes,
        text,
        fe_out: req.fe_out.map(Path::to_path_buf),
        fitted_out: req.fitted_out.map(Path::to_path_buf),
        force: req.force,
    })
}

impl Estimated {
    /// Write the fixed effects and fitted values asked for, whole or not at all (both files
    /// renamed into place once both are written: [`crate::output::write_whole`]); then an error
    /// if the fit did not converge (its numbers are not estimates, though shown when unconverged
    /// fits are allowed).
    pub fn finish(&self) -> Result<()> {
        let fit = &self.fits[0].0;
        let fe = self
            .fe_out
            .as_ref()
            .map(|_| estimate::output::fixed_effects_csv(fit));
        let mut files = Vec::new();
        if let (Some(p), Some(fe)) = (&self.fe_out, &fe) {
            files.push(WholeFile::bytes(p.clone(), fe.as_bytes()));
        }
        if let Some(p) = &self.fitted_out {
            files.push(WholeFile::with(p.clone(), |out| {
                estimate::output::write_fitted_csv(fit, out)
            }));
        }
        if !files.is_empty() {
            crate::output::write_whole(files, self.force).map_err(|e| match e {
                Error::Io { .. } => within(Error::invalid(
                    e.to_string(),
                    "nothing was written, and a file already there is as it was; make room, or choose a place you can write, and run again",
                )),
                e => within(e),
            })?;
        }
        if !fit.converged {
            return Err(Error::invalid(
                "estimate",
                format!(
                    "the fit above did not converge in {} IRLS iterations; its numbers are not estimates",
                    fit.iterations
                ),
            ));
        }
        Ok(())
    }
}

/// The fits: a regression table, the models side by side, or JSON.
impl fmt::Display for Estimated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where the `k`-th of the fits `list` read from `file` is, for errors: the file, and with
/// several fits "model K of N" and its formula when it has one.
fn model_source(file: &Path, k: usize, list: &[serde_json::Value]) -> String {
    if list.len() < 2 {
        return file.display().to_string();
    }
    let formula = list[k]["formula"]
        .as_str()
        .map(|f| format!(" (`{f}`)"))
        .unwrap_or_default();
    format!(
        "{}, model {} of {}{formula}",
        file.display(),
        k + 1,
        list.len()
    )
}

/// Saved fits (the JSON of `estimate` with `json`: an object or an array of them per file)
/// side by side in `table`'s format (`md`, `csv`, `latex`), as fixest's etable.
pub fn etable(files: &[PathBuf], table: &str) -> Result<String> {
    let format: etable::Format = table.parse()?;
    if files.is_empty() {
        return Err(Error::invalid(
            "etable",
            "name at least one JSON file of `tradesim estimate --json`",
        ));
    }
    let mut models = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                f.display().to_string(),
                format!("line {}, column {}: not JSON ({e}); save the output of `tradesim estimate --json`", e.line(), e.column()),
            )
        })?;
        let list = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        if list.is_empty() {
            return Err(Error::invalid(
                f.display().to_string(),
                "no fits in the file (an empty array); save the output of `tradesim estimate --json`",
            ));
        }
        for (k, m) in list.iter().enumerate() {
            models.push(etable::Model::from_json(m, &model_source(f, k, &list))?);
        }
    }
    Ok(etable::render(&models, format))
}
