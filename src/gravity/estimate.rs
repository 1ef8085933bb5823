//! Trade costs estimated as in the Advanced Guide (Yotov et al. 2016, ch. 2, application 2;
//! Anderson & Yotov 2016's two-stage procedure; MODEL.md §2 steps 1–2), with
//! [`crate::estimate::ppml`]:
//!
//! 1. PPML on the estimation years of `trade ~ policy | exporter^year + importer^year + pair`,
//!    where `pair` is the symmetric pair id for international pairs and one shared level for
//!    all domestic pairs. Pairs without trade in any year are dropped by the estimator
//!    (separation). `t̄_ij = exp(γ_ij − γ_domestic)`, unique because the pair effect is
//!    symmetric; `t̄_ii = 1`.
//! 2. For the dropped pairs, `t̄_ij` is the prediction of a PPML, on the baseline year's
//!    international pairs, of `t̄_ij` on the `fill` covariates with exporter and importer
//!    effects.
//!
//! Baseline costs: `t_BLN = t̄ · exp(Σ_k β_k policy_k)` in the baseline year.

use super::data::{Covariate, Panel, YearData};
use crate::error::{Error, Result};
use crate::estimate::{ppml, Dataset, Formula, PpmlOptions};
use std::collections::HashMap;

/// Baseline costs `t_BLN^{1−σ} = t̄_ij exp(Σ β_k policy_k)` and the policy coefficients.
pub(crate) struct EstimatedCosts {
    pub costs: Vec<f64>,
    pub policy: Vec<(Covariate, f64)>,
}

fn pair_label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Steps 1–2 of the Guide's procedure (see the module documentation).
pub(crate) fn guide_costs(
    panel: &Panel,
    yd: &YearData,
    years: &[i64],
    pair: &str,
    policy: &[String],
    fill: &[String],
) -> Result<EstimatedCosts> {
    let context =
        |m: String| Error::invalid(format!("{} (costs: Estimate)", panel.path.display()), m);
    let pair_col = panel.column(pair).expect("pair column is loaded");
    let policy: Vec<Covariate> = policy.iter().map(|p| Covariate::parse(p)).collect();
    let fill_cov: Vec<Covariate> = fill.iter().map(|p| Covariate::parse(p)).collect();

    // step 1: the panel PPML
    let rows: Vec<usize> = (0..panel.obs.len())
        .filter(|&k| years.contains(&panel.obs[k].year))
        .collect();
    let mut ds = Dataset::new();
    let o = |k: usize| &panel.obs[k];
    ds.push_numeric("trade", rows.iter().map(|&k| o(k).trade).collect())?;
    ds.push_text(
        "exporter",
        rows.iter()
            .map(|&k| panel.names[o(k).exporter].clone())
            .collect(),
    )?;
    ds.push_text(
        "importer",
        rows.iter()
            .map(|&k| panel.names[o(k).importer].clone())
            .collect(),
    )?;
    ds.push_numeric("year", rows.iter().map(|&k| o(k).year as f64).collect())?;
    ds.push_text(
        "pair",
        rows.iter()
            .map(|&k| {
                if o(k).exporter == o(k).importer {
                    "domestic".to_string()
                } else {
                    pair_label(panel.value(k, pair_col))
                }
            })
            .collect(),
    )?;
    let mut terms = Vec::new();
    for (m, cov) in policy.iter().enumerate() {
        let name = format!("policy{m}");
        let values = rows
            .iter()
            .map(|&k| panel.covariate(cov, k))
            .collect::<Result<Vec<f64>>>()?;
        ds.push_numeric(name.clone(), values)?;
        terms.push(name);
    }
    let formula = Formula::parse(&format!(
        "trade ~ {} | exporter^year + importer^year + pair",
        terms.join(" + ")
    ))?;
    let fit = ppml::fit(&ds, &formula, &PpmlOptions::default())?;
    let mut betas = Vec::new();
    for (m, cov) in policy.iter().enumerate() {
        let (b, _) = fit.coef(&format!("policy{m}")).ok_or_else(|| {
            context(format!(
                "the coefficient of {} could not be estimated (collinear with the fixed effects?)",
                cov.label
            ))
        })?;
        betas.push((cov.clone(), b));
    }
    let pair_fe = fit
        .fixed_effects
        .iter()
        .find(|f| f.dimension == "pair")
        .ok_or_else(|| context("the estimator returned no pair effects".into()))?;
    let gamma: HashMap<&str, f64> = pair_fe
        .levels
        .iter()
        .map(|s| s.as_str())
        .zip(pair_fe.values.iter().copied())
        .collect();
    let g_dom = *gamma.get("domestic").ok_or_else(|| {
        context(
            "no domestic flows were used in the estimation; the Guide's procedure needs them"
                .into(),
        )
    })?;

    // t̄ for the baseline year: estimated or missing
    let n = yd.names.len();
    let mut tbar: Vec<Option<f64>> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            if i == j {
                return Some(1.0);
            }
            let label = pair_label(panel.value(yd.obs[k], pair_col));
            gamma.get(label.as_str()).map(|g| (g - g_dom).exp())
        })
        .collect();
    let filled = tbar.iter().filter(|v| v.is_none()).count();

    // step 2: fill missing pairs
    if filled > 0 {
        if fill_cov.is_empty() {
            return Err(context(format!(
                "{filled} pairs have no trade in any estimation year, so no pair effect; list fill covariates (e.g. [\"ln(dist)\", \"cntg\", \"lang\", \"clny\"]) to predict their costs"
            )));
        }
        let intl: Vec<usize> = (0..n * n).filter(|k| k / n != k % n).collect();
        let mut ds2 = Dataset::new();
        ds2.push_numeric(
            "tbar",
            intl.iter().map(|&k| tbar[k].unwrap_or(0.0)).collect(),
        )?;
        ds2.push_numeric(
            "known",
            intl.iter()
                .map(|&k| if tbar[k].is_some() { 1.0 } else { 0.0 })
                .collect(),
        )?;
        ds2.push_text(
            "exporter",
            intl.iter().map(|&k| yd.names[k / n].clone()).collect(),
        )?;
        ds2.push_text(
            "importer",
            intl.iter().map(|&k| yd.names[k % n].clone()).collect(),
        )?;
        let mut x: Vec<Vec<f64>> = Vec::new();
        let mut names = Vec::new();
        for (m, cov) in fill_cov.iter().enumerate() {
            let v = intl
                .iter()
                .map(|&k| panel.covariate(cov, yd.obs[k]))
                .collect::<Result<Vec<f64>>>()?;
            ds2.push_numeric(format!("fill{m}"), v.clone())?;
            x.push(v);
            names.push(format!("fill{m}"));
        }
        let f2 = Formula::parse(&format!(
            "tbar ~ {} | exporter + importer",
            names.join(" + ")
        ))?;
        let opts = PpmlOptions {
            subset: Some("known == 1".into()),
            ..Default::default()
        };
        let fit2 = ppml::fit(&ds2, &f2, &opts)?;
        let fe = |dim: &str| -> HashMap<String, f64> {
            fit2.fixed_effects
                .iter()
                .find(|f| f.dimension == dim)
                .map(|f| {
                    f.levels
                        .iter()
                        .cloned()
                        .zip(f.values.iter().copied())
                        .collect()
                })
                .unwrap_or_default()
        };
        let (fe_e, fe_i) = (fe("exporter"), fe("importer"));
        let coefs: Vec<f64> = names
            .iter()
            .map(|nm| fit2.coef(nm).map(|c| c.0).unwrap_or(0.0))
            .collect();
        for (r, &k) in intl.iter().enumerate() {
            if tbar[k].is_none() {
                let (e, i) = (&yd.names[k / n], &yd.names[k % n]);
                let (Some(a), Some(b)) = (fe_e.get(e), fe_i.get(i)) else {
                    return Err(context(format!(
                        "cannot predict the cost of {e} -> {i}: the fill regression has no effect for one of them"
                    )));
                };
                let xb: f64 = (0..names.len()).map(|m| coefs[m] * x[m][r]).sum();
                tbar[k] = Some((a + b + xb).exp());
            }
        }
    }
    let mut costs = Vec::with_capacity(n * n);
    for (k, known) in tbar.iter().enumerate() {
        // t_BLN = t̄ exp(Σ β policy), domestic pairs included (their policy values are 0)
        let mut t = known.expect("filled above");
        for (cov, b) in &betas {
            t *= (b * panel.covariate(cov, yd.obs[k])?).exp();
        }
        costs.push(t);
    }
    Ok(EstimatedCosts {
        costs,
        policy: betas,
    })
}
