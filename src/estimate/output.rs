//! Presentation of a [`PpmlFit`]: a readable table, the JSON object of `--json`, the fixed
//! effects as CSV rows `dimension,level,value` and the fitted values as CSV `row,fitted`. Pure
//! formatting; the caller names the file (the fitted values are streamed into a writer it gives).

use super::ppml::PpmlFit;
use super::stats::{p_value, stars, FitStats, SIGNIF_CODES};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// A plain-text table of the estimates (with p-values and fixest's significance codes) and
/// fit statistics.
pub(crate) fn table(fit: &PpmlFit, st: &FitStats) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "PPML estimation: {}", fit.formula);
    let _ = writeln!(
        s,
        "Observations: {}   (dropped: {} separated{}{}; {} excluded by subset{})",
        fit.nobs,
        fit.dropped_separation,
        if fit.separated_by_relu > 0 {
            format!(
                " ({} in all-zero fixed-effect groups, {} by the regressors)",
                fit.dropped_separation - fit.separated_by_relu,
                fit.separated_by_relu
            )
        } else {
            String::new()
        },
        if fit.dropped_singletons > 0 {
            format!(", {} singletons", fit.dropped_singletons)
        } else {
            String::new()
        },
        fit.excluded_by_subset,
        if fit.dropped_missing > 0 {
            format!(
                "; {} with missing values ({})",
                fit.dropped_missing,
                super::ppml::missing_counts(&fit.missing)
            )
        } else {
            String::new()
        }
    );
    for fe in &fit.fixed_effects {
        let n = fe.levels.len();
        let _ = writeln!(
            s,
            "Fixed effect {}: {n} level{}",
            fe.dimension,
            if n == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(s, "Standard errors: {}", fit.vcov_description);
    let w = fit.names.iter().map(|n| n.len()).max().unwrap_or(8).max(8);
    let _ = writeln!(
        s,
        "{:<w$}  {:>12}  {:>12}  {:>9}  {:>10}",
        "", "Estimate", "Std. Error", "z value", "Pr(>|z|)"
    );
    for (j, name) in fit.names.iter().enumerate() {
        let (b, se) = (fit.coefficients[j], fit.std_errors[j]);
        let p = p_value(b / se);
        let _ = writeln!(
            s,
            "{name:<w$}  {b:>12.6}  {se:>12.6}  {:>9.3}  {:>10}  {}",
            b / se,
            format_p(p),
            stars(p)
        );
    }
    let _ = writeln!(s, "---\n{SIGNIF_CODES}");
    if !fit.collinear.is_empty() {
        let _ = writeln!(s, "Dropped as collinear: {}", fit.collinear.join(", "));
    }
    let _ = writeln!(
        s,
        "Log-likelihood: {:.2}   Pseudo R2 (McFadden): {:.6}   Null log-likelihood: {:.2}",
        st.loglik, st.pseudo_r2, st.null_loglik
    );
    let _ = writeln!(
        s,
        "Deviance: {:.6}   IRLS iterations: {}   converged: {}",
        fit.deviance, fit.iterations, fit.converged
    );
    s
}

/// A p-value as R prints it: `< 2e-16` below that, else 3 significant digits.
pub(crate) fn format_p(p: f64) -> String {
    if p < 2e-16 {
        "< 2e-16".into()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// The JSON object printed by `--json` (read back by `tradesim etable`).
pub(crate) fn to_json(fit: &PpmlFit, st: &FitStats) -> Value {
    let mut coefs = Map::new();
    for (j, name) in fit.names.iter().enumerate() {
        let (b, se) = (fit.coefficients[j], fit.std_errors[j]);
        coefs.insert(
            name.clone(),
            json!({"estimate": b, "std_error": se, "z_value": b / se, "p_value": p_value(b / se)}),
        );
    }
    let vcov: Vec<Vec<f64>> = (0..fit.vcov.nrows())
        .map(|a| (0..fit.vcov.ncols()).map(|b| fit.vcov[(a, b)]).collect())
        .collect();
    let fes: Map<String, Value> = fit
        .fixed_effects
        .iter()
        .map(|f| (f.dimension.clone(), json!(f.levels.len())))
        .collect();
    let mut out = json!({
        "formula": fit.formula,
        "coefficients": coefs,
        "nobs": fit.nobs,
        "dropped": fit.dropped_separation + fit.dropped_singletons,
        "dropped_separation": fit.dropped_separation,
        "separated_by_relu": fit.separated_by_relu,
        "relu_iterations": fit.separation.relu_iterations,
        "separated_groups": fit.separated_groups.iter().map(|(d, g)| (d.clone(), json!(g))).collect::<Map<String, Value>>(),
        "dropped_singletons": fit.dropped_singletons,
        "excluded_by_subset": fit.excluded_by_subset,
        "collinear": fit.collinear,
        "iterations": fit.iterations,
        "deviance": fit.deviance,
        "loglik": st.loglik,
        "null_loglik": st.null_loglik,
        "pseudo_r2": st.pseudo_r2,
        "converged": fit.converged,
        "demean_sweeps": fit.demean_sweeps,
        "vcov_type": fit.vcov_description,
        "ssc": fit.ssc_details,
        "vcov": vcov,
        "coefficient_names": fit.names,
        "fixed_effect_levels": fes,
        "warnings": fit.warnings,
    });
    // Only when rows were left out for missing values: a fit of complete data prints as it
    // always did.
    if fit.dropped_missing > 0 {
        out["dropped_missing"] = json!(fit.dropped_missing);
        out["missing"] = fit
            .missing
            .iter()
            .map(|(c, n)| (c.clone(), json!(n)))
            .collect::<Map<String, Value>>()
            .into();
    }
    out
}

/// The fixed effects as CSV text with header `dimension,level,value`.
pub(crate) fn fixed_effects_csv(fit: &PpmlFit) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["dimension", "level", "value"]);
    for fe in &fit.fixed_effects {
        for (l, v) in fe.levels.iter().zip(&fe.values) {
            let _ = w.write_record([fe.dimension.as_str(), l.as_str(), &format!("{v:.17e}")]);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Fitted values as CSV `row,fitted`, written to `out` line by line (the file of a 10-million-row
/// panel is hundreds of MB): one line per input data row (1 = the first row after the header),
/// the value empty where the row was not used.
pub(crate) fn write_fitted_csv(fit: &PpmlFit, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(b"row,fitted\n")?;
    for (i, v) in fit.fitted.iter().enumerate() {
        if v.is_finite() {
            writeln!(out, "{},{v:.17e}", i + 1)?;
        } else {
            writeln!(out, "{},", i + 1)?;
        }
    }
    Ok(())
}
