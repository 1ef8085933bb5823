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
//! Invariant: apart from [`Dataset::from_csv`], nothing here does I/O.

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

pub use data::{Column, Dataset, TextColumn};
pub use demean::DemeanOptions;
pub use formula::{Atom, Formula, Term};
pub use ppml::{fit, FixedEffectEstimates, IrlsProgress, PpmlFit, PpmlOptions, ProgressHook};
pub use separation::SeparationReport;
pub use stats::FitStats;
pub use vcov::{Ssc, SscDetails};

/// Several models on one data set (loaded once), each with its fit statistics
/// (log-likelihood, pseudo-R²): what `tradesim estimate` with one or more `--formula` does.
pub(crate) fn run_models(
    data: &std::path::Path,
    formulas: &[String],
    defines: &[String],
    opts: &PpmlOptions,
) -> crate::error::Result<Vec<(PpmlFit, FitStats)>> {
    let mut ds = Dataset::from_csv(data)?;
    for d in defines {
        ds.define(d)?;
    }
    formulas
        .iter()
        .map(|text| {
            let f = Formula::parse(text)?;
            let fit = fit(&ds, &f, opts)?;
            let stats = stats::fit_statistics(&ds, &f, &fit)?;
            Ok((fit, stats))
        })
        .collect()
}
