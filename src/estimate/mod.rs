//! Estimation: Poisson pseudo-maximum likelihood with high-dimensional fixed effects.
//!
//! Entry points: [`Dataset`] (from CSV with [`Dataset::from_csv`], or built in memory with
//! [`Dataset::push_numeric`] / [`Dataset::push_text`]), [`Formula::parse`] (fixest syntax), and
//! [`ppml::fit`] with [`PpmlOptions`], returning a [`PpmlFit`] with coefficients, variance,
//! fitted values aligned to the input rows, and fixed-effect estimates.
//!
//! ```no_run
//! use tradesim::estimate::{ppml, Dataset, Formula, PpmlOptions};
//! let mut ds = Dataset::from_csv("agtpa_applications.csv")?;
//! ds.define("pair = ifelse(exporter == importer, 0, pair_id)")?;
//! let f = Formula::parse("trade ~ rta | exporter^year + importer^year + pair")?;
//! let opts = PpmlOptions { subset: Some("year in 1986,1990,1994,1998,2002,2006".into()),
//!                          cluster: vec!["pair_id".into()], ..Default::default() };
//! let fit = ppml::fit(&ds, &f, &opts)?;
//! println!("{:?}", fit.coef("rta"));
//! # Ok::<(), tradesim::error::Error>(())
//! ```
//!
//! Code map: `data` (columns, factors), `expr` (subset/define expressions), `formula`,
//! `demean` (alternating projections, several columns per pass), `separation` (all-zero
//! fixed-effect levels; the iterative rectifier for separation by regressors), `ppml` (design,
//! IRLS, collinearity, fixed-effect recovery), `vcov`
//! (sandwich and small-sample corrections), `output` (table, JSON, fixed-effects CSV).
//! Invariant: apart from [`Dataset::from_csv`] (and `from_csv_columns`, which `run_models` uses to
//! read only the columns the models name), nothing here does I/O.

pub(crate) mod data;
pub(crate) mod demean;
pub(crate) mod etable;
pub(crate) mod expr;
pub(crate) mod formula;
mod gram;
pub(crate) mod output;
pub mod ppml;
pub(crate) mod separation;
pub(crate) mod stats;
pub(crate) mod vcov;

pub use data::{Column, Dataset, NaValues, TextColumn};
pub use demean::DemeanOptions;
pub use formula::{Atom, Formula, Term};
pub use ppml::{fit, FixedEffectEstimates, IrlsProgress, PpmlFit, PpmlOptions, ProgressHook};
pub use separation::SeparationReport;
pub use stats::FitStats;
pub use vcov::{Ssc, SscDetails};

/// Several models on one data set (loaded once, `na` its missing values), each with its fit
/// statistics (log-likelihood, pseudo-R²): what `tradesim estimate` with one or more
/// `--formula` does.
pub(crate) fn run_models(
    data: &std::path::Path,
    formulas: &[String],
    defines: &[String],
    opts: &PpmlOptions,
    na: &NaValues,
) -> crate::error::Result<Vec<(PpmlFit, FitStats)>> {
    let mut ds = match columns_used(formulas, defines, opts) {
        Some(wanted) => Dataset::from_csv_columns(data, &wanted, na)?,
        None => Dataset::from_csv_with(data, na)?,
    };
    for d in defines {
        ds.define(d)?;
    }
    let mut fits = Vec::with_capacity(formulas.len());
    for (j, text) in formulas.iter().enumerate() {
        let f = Formula::parse(text)?;
        // The last model may spend the data's memory: after it only its outcome is read.
        let fit = if j + 1 == formulas.len() {
            ppml::fit_spending(&mut ds, &f, opts)?
        } else {
            fit(&ds, &f, opts)?
        };
        let stats = stats::fit_statistics(&ds, &f, &fit)?;
        fits.push((fit, stats));
    }
    Ok(fits)
}

/// The columns of the data that the models read: the formulas' outcomes, regressors and
/// fixed effects, the clusters, the offset, and the columns named in the `subset` filter and
/// the `define` expressions. `None` when one of them does not parse (then every column is
/// read, and the error is reported where it always was).
fn columns_used(
    formulas: &[String],
    defines: &[String],
    opts: &PpmlOptions,
) -> Option<Vec<String>> {
    let mut cols: Vec<String> = Vec::new();
    let mut add = |c: &str| {
        if !cols.iter().any(|k| k == c) {
            cols.push(c.to_string());
        }
    };
    for text in formulas {
        let f = Formula::parse(text).ok()?;
        add(&f.outcome);
        f.terms
            .iter()
            .flat_map(|t| &t.atoms)
            .flat_map(Atom::columns)
            .for_each(&mut add);
        f.fixed_effects.iter().flatten().for_each(|c| add(c));
    }
    for c in &opts.cluster {
        c.split('^').for_each(|c| add(c.trim()));
    }
    if let Some(o) = &opts.offset {
        Term::parse(o)
            .ok()?
            .atoms
            .iter()
            .for_each(|a| add(a.column()));
    }
    let exprs = defines
        .iter()
        .map(|d| d.split_once('=').map(|(_, e)| e.trim()))
        .chain(std::iter::once(opts.subset.as_deref()).filter(Option::is_some));
    for e in exprs {
        expr::Expr::parse(e?)
            .ok()?
            .columns()
            .iter()
            .for_each(|c| add(c));
    }
    Some(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column a model reads is asked for, each once; a part that does not parse asks
    /// for the whole file.
    #[test]
    fn columns_used_names_what_the_models_read() {
        let opts = PpmlOptions {
            subset: Some("year in 1986,1990 & exporter != 'X'".into()),
            cluster: vec!["exporter ^ importer".into(), "region".into()],
            offset: Some("log(gdp)".into()),
            ..Default::default()
        };
        let formulas = [
            "trade ~ rta + log(dist):contig | exporter^year + importer^year + pair".to_string(),
            "trade ~ fta".to_string(),
        ];
        let defines = ["pair = ifelse(exporter == importer, 0, pair_id)".to_string()];
        let got = columns_used(&formulas, &defines, &opts).unwrap();
        let want = [
            "trade", "rta", "dist", "contig", "exporter", "year", "importer", "pair", "fta",
            "region", "gdp", "pair_id",
        ];
        assert_eq!(got, want);
        assert!(columns_used(&["trade ~ ~".to_string()], &[], &PpmlOptions::default()).is_none());
        let bad = PpmlOptions {
            subset: Some("year in (".into()),
            ..Default::default()
        };
        assert!(columns_used(&formulas, &[], &bad).is_none());
        assert!(columns_used(&formulas, &["no equals sign".to_string()], &opts).is_none());
    }
}
