//! Gravity covariates and the two-way fixed-effects Poisson (PPML) fit used to fill the
//! bilateral cells that are not observed.
//!
//! Method: Poisson pseudo-maximum likelihood, Santos Silva & Tenreyro (2006), "The Log of
//! Gravity", Review of Economics and Statistics 88(4). Model:
//! `E[X_ij] = exp(ln_dist_ij·b_1 + contig_ij·b_2 + lang_ij·b_3 + o_i + d_j)`, fitted by
//! iteratively reweighted least squares on the observed pairs, with exporter effects `o_i`
//! and importer effects `d_j` as dummies (the last importer's effect is normalised to zero).
//!
//! The builder fits with the project's PPML-HDFE ([`fit_hdfe`], through [`crate::estimate`]).
//! [`fit_ppml`] is a small dense IRLS with the effects as dummies (≈60 parameters, ≈700 rows),
//! written before `src/estimate/` was usable; it stays as an independent reference that the
//! tests hold the HDFE fit against (coefficients agree to 1e-6).

#[cfg(test)]
use crate::error::Solver;
use crate::error::{Error, Result};
#[cfg(test)]
use nalgebra::{DMatrix, DVector};

/// Mean Earth radius, km (IUGG mean radius R_1 = 6371.0088 km).
pub(crate) const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two points given in degrees, by the haversine formula:
/// `d = 2R·asin(√(sin²(Δφ/2) + cos φ_1 cos φ_2 sin²(Δλ/2)))`, in km.
pub(crate) fn great_circle_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, l1) = (a.0.to_radians(), a.1.to_radians());
    let (p2, l2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The result of the PPML fit.
#[derive(Debug, Clone)]
pub(crate) struct PpmlFit {
    /// Coefficients on the pair covariates, in the order given.
    pub beta: Vec<f64>,
    /// Heteroskedasticity-robust (Eicker–White, HC0: no small-sample factor) standard errors
    /// of `beta`. pyfixest's `vcov="hetero"` multiplies the variance by n/(n−k).
    pub se: Vec<f64>,
    /// Exporter effects `o_i`, one per exporter index.
    pub exporter_fe: Vec<f64>,
    /// Importer effects `d_j` (the last one is 0 by normalisation).
    pub importer_fe: Vec<f64>,
    /// IRLS iterations used.
    pub iterations: usize,
    /// Squared correlation between observed and fitted values.
    pub pseudo_r2: f64,
    /// Poisson deviance at the solution.
    pub deviance: f64,
}

/// One observation of the fit: exporter index, importer index, covariates, flow.
#[derive(Debug, Clone)]
pub(crate) struct Obs {
    pub exporter: usize,
    pub importer: usize,
    pub x: Vec<f64>,
    pub y: f64,
}

/// Fits `E[y] = exp(x·b + o_exporter + d_importer)` by PPML (Santos Silva & Tenreyro 2006)
/// with iteratively reweighted least squares: with `μ = exp(η)`, weights `W = μ`, working
/// response `z = η + (y − μ)/μ`, solve `(X'WX) b = X'Wz`; stop when the change in deviance
/// `dev = 2 Σ [y ln(y/μ) − (y − μ)]` satisfies `|Δdev| / (|dev| + 0.1) < 1e-12` (the rule of R's `glm`).
///
/// `n_exp`/`n_imp` are the numbers of exporter/importer indices; every index must appear in
/// at least one observation with a positive flow, else its effect is not identified.
#[cfg(test)]
pub(crate) fn fit_ppml(obs: &[Obs], n_exp: usize, n_imp: usize) -> Result<PpmlFit> {
    if obs.is_empty() || n_exp == 0 || n_imp == 0 {
        return Err(Error::invalid(
            "gravity fit",
            "no observed pairs; give observed bilateral flows to fit the gravity model on",
        ));
    }
    let k = obs[0].x.len();
    let p = k + n_exp + n_imp - 1;
    let n = obs.len();
    if n <= p {
        return Err(Error::invalid(
            "gravity fit",
            format!("{n} observations for {p} parameters"),
        ));
    }
    let mut x = DMatrix::<f64>::zeros(n, p);
    let mut y = DVector::<f64>::zeros(n);
    for (r, o) in obs.iter().enumerate() {
        for (c, v) in o.x.iter().enumerate() {
            x[(r, c)] = *v;
        }
        x[(r, k + o.exporter)] = 1.0;
        if o.importer + 1 < n_imp {
            x[(r, k + n_exp + o.importer)] = 1.0;
        }
        y[r] = o.y;
    }
    let ybar = y.mean();
    let mut mu = y.map(|v| (v + ybar) / 2.0);
    let mut eta = mu.map(f64::ln);
    let deviance = |mu: &DVector<f64>| -> f64 {
        2.0 * y
            .iter()
            .zip(mu.iter())
            .map(|(&yi, &mi)| {
                let t = if yi > 0.0 { yi * (yi / mi).ln() } else { 0.0 };
                t - (yi - mi)
            })
            .sum::<f64>()
    };
    let mut dev = deviance(&mu);
    let mut iterations = 0;
    let mut b = DVector::<f64>::zeros(p);
    for it in 1..=200 {
        iterations = it;
        let z = DVector::from_iterator(n, (0..n).map(|i| eta[i] + (y[i] - mu[i]) / mu[i]));
        let mut xtw = x.transpose();
        for i in 0..n {
            let w = mu[i];
            xtw.column_mut(i).scale_mut(w);
        }
        let xtwx = &xtw * &x;
        let xtwz = &xtw * &z;
        b = xtwx
            .cholesky()
            .ok_or_else(|| {
                Error::invalid("gravity fit", "X'WX is singular (collinear covariates)")
            })?
            .solve(&xtwz);
        eta = &x * &b;
        mu = eta.map(f64::exp);
        let new_dev = deviance(&mu);
        let change = (dev - new_dev).abs() / (new_dev.abs() + 0.1);
        dev = new_dev;
        if change < 1e-12 {
            break;
        }
        if it == 200 {
            return Err(Error::not_converged(
                Solver::Ppml,
                it,
                change,
                1e-12,
                None,
                format!("the world's gravity fit (deviance {dev}); check the distances and covariates of the facts"),
            ));
        }
    }
    // Robust (sandwich) covariance: (X'WX)^-1 X' diag((y-μ)^2) X (X'WX)^-1.
    let mut xtw = x.transpose();
    for i in 0..n {
        xtw.column_mut(i).scale_mut(mu[i]);
    }
    let bread = (&xtw * &x)
        .try_inverse()
        .ok_or_else(|| Error::invalid("gravity fit", "X'WX is singular"))?;
    let mut xte = x.transpose();
    for i in 0..n {
        xte.column_mut(i).scale_mut((y[i] - mu[i]).powi(2));
    }
    let meat = &xte * &x;
    let v = &bread * meat * &bread;
    let ym = y.mean();
    let mm = mu.mean();
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        sxy += (y[i] - ym) * (mu[i] - mm);
        sxx += (y[i] - ym).powi(2);
        syy += (mu[i] - mm).powi(2);
    }
    let mut importer_fe: Vec<f64> = (0..n_imp - 1).map(|j| b[k + n_exp + j]).collect();
    importer_fe.push(0.0);
    Ok(PpmlFit {
        beta: (0..k).map(|c| b[c]).collect(),
        se: (0..k).map(|c| v[(c, c)].max(0.0).sqrt()).collect(),
        exporter_fe: (0..n_exp).map(|i| b[k + i]).collect(),
        importer_fe,
        iterations,
        pseudo_r2: sxy * sxy / (sxx * syy),
        deviance: dev,
    })
}

/// Fits the same model as [`fit_ppml`] with the project's PPML-HDFE ([`crate::estimate::fit`],
/// formula `y ~ x1 + … | exporter + importer`, IRLS tolerance 1e-12, heteroskedasticity-robust
/// standard errors with fixest's small-sample correction). `exp_labels[p]`/`imp_labels[p]` name
/// exporter/importer index `p`; an effect that is not estimated (an economy whose flows are
/// all zero is dropped for separation) is returned as NaN. Covariates dropped as collinear get
/// coefficient 0 and standard error NaN.
pub(crate) fn fit_hdfe(
    obs: &[Obs],
    names: &[&str],
    exp_labels: &[String],
    imp_labels: &[String],
) -> Result<PpmlFit> {
    use crate::estimate::{fit, Dataset, Formula, PpmlOptions};
    if obs.is_empty() {
        return Err(Error::invalid(
            "gravity fit",
            "no observed pairs; give observed bilateral flows to fit the gravity model on",
        ));
    }
    let mut ds = Dataset::new();
    ds.push_numeric("y", obs.iter().map(|o| o.y).collect())?;
    for (c, name) in names.iter().enumerate() {
        ds.push_numeric(*name, obs.iter().map(|o| o.x[c]).collect())?;
    }
    ds.push_text(
        "exporter",
        obs.iter().map(|o| exp_labels[o.exporter].clone()).collect(),
    )?;
    ds.push_text(
        "importer",
        obs.iter().map(|o| imp_labels[o.importer].clone()).collect(),
    )?;
    let formula = Formula::parse(&format!("y ~ {} | exporter + importer", names.join(" + ")))?;
    let opts = PpmlOptions {
        tol: 1e-12,
        ..Default::default()
    };
    let f = fit(&ds, &formula, &opts)?;
    let fe = |dim: &str, labels: &[String]| -> Vec<f64> {
        let est = f.fixed_effects.iter().find(|e| e.dimension == dim);
        labels
            .iter()
            .map(|l| {
                est.and_then(|e| e.levels.iter().position(|x| x == l).map(|p| e.values[p]))
                    .unwrap_or(f64::NAN)
            })
            .collect()
    };
    let (mut ym, mut mm, mut k) = (0.0, 0.0, 0.0);
    for (o, &m) in obs.iter().zip(&f.fitted) {
        if m.is_finite() {
            ym += o.y;
            mm += m;
            k += 1.0;
        }
    }
    ym /= k;
    mm /= k;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (o, &m) in obs.iter().zip(&f.fitted) {
        if m.is_finite() {
            sxy += (o.y - ym) * (m - mm);
            sxx += (o.y - ym).powi(2);
            syy += (m - mm).powi(2);
        }
    }
    Ok(PpmlFit {
        beta: names
            .iter()
            .map(|n| f.coef(n).map_or(0.0, |c| c.0))
            .collect(),
        se: names
            .iter()
            .map(|n| f.coef(n).map_or(f64::NAN, |c| c.1))
            .collect(),
        exporter_fe: fe("exporter", exp_labels),
        importer_fe: fe("importer", imp_labels),
        iterations: f.iterations,
        pseudo_r2: sxy * sxy / (sxx * syy),
        deviance: f.deviance,
    })
}

/// Ordinary least squares of `y` on `[1, x]`: returns `(a, b)` minimising `Σ (y − a − b x)²`.
/// Pairs with a non-finite `y` are left out.
pub(crate) fn ols_line(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (x, y): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(_, b)| b.is_finite())
        .map(|(a, b)| (*a, *b))
        .unzip();
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mx, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_tokyo_washington() {
        // Tokyo (35.68, 139.75) to Washington (38.88, -77.0): about 10,900 km.
        let d = great_circle_km((35.683333, 139.75), (38.883333, -77.0));
        assert!((d - 10_900.0).abs() < 100.0, "{d}");
    }

    #[test]
    fn ppml_recovers_known_coefficients() {
        // Noise-free data generated by the model itself: the fit must recover it exactly.
        let n = 6;
        let mut obs = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let ld = ((i as f64 - j as f64).abs() + 1.0).ln() + 0.1 * (i * j) as f64 / 10.0;
                let c = if (i + j) % 3 == 0 { 1.0 } else { 0.0 };
                let eta = -0.8 * ld + 0.5 * c + 0.1 * i as f64 - 0.2 * j as f64 + 3.0;
                obs.push(Obs {
                    exporter: i,
                    importer: j,
                    x: vec![ld, c],
                    y: eta.exp(),
                });
            }
        }
        let fit = fit_ppml(&obs, n, n).unwrap();
        assert!((fit.beta[0] + 0.8).abs() < 1e-8, "{:?}", fit.beta);
        assert!((fit.beta[1] - 0.5).abs() < 1e-8, "{:?}", fit.beta);
    }

    #[test]
    fn hdfe_and_dense_fits_agree_on_noisy_data() {
        let n = 8;
        let mut obs = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let ld = ((i as f64 - j as f64).abs() + 1.5).ln();
                let c = if (i * 7 + j * 3) % 5 == 0 { 1.0 } else { 0.0 };
                let noise = ((i * 31 + j * 17) % 11) as f64 / 10.0 + 0.5; // deterministic
                let eta = -0.9 * ld + 0.4 * c + 0.2 * i as f64 - 0.1 * j as f64 + 2.0;
                obs.push(Obs {
                    exporter: i,
                    importer: j,
                    x: vec![ld, c],
                    y: eta.exp() * noise,
                });
            }
        }
        let labels: Vec<String> = (0..n).map(|i| format!("E{i}")).collect();
        let dense = fit_ppml(&obs, n, n).unwrap();
        let hdfe = fit_hdfe(&obs, &["ldist", "contig"], &labels, &labels).unwrap();
        for k in 0..2 {
            assert!(
                (dense.beta[k] - hdfe.beta[k]).abs() < 1e-6,
                "{:?} {:?}",
                dense.beta,
                hdfe.beta
            );
        }
        // Effects agree up to the normalisation, which cancels in o_i + d_j.
        let s = |f: &PpmlFit, i: usize, j: usize| f.exporter_fe[i] + f.importer_fe[j];
        assert!((s(&dense, 2, 5) - s(&hdfe, 2, 5)).abs() < 1e-6);
        assert!((s(&dense, 7, 0) - s(&hdfe, 7, 0)).abs() < 1e-6);
    }
}
