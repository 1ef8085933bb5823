//! Sandwich variance of the PPML estimates: heteroskedasticity-robust and one- or two-way
//! clustered (Cameron, Gelbach & Miller 2011), with fixest's small-sample corrections
//! (Bergé 2018; fixest's `ssc()` defaults, reproduced by pyfixest).
//!
//! With demeaned regressors `X̃`, IRLS weights `w` and working residuals `e` from the last IRLS
//! step, scores are `s_i = w_i e_i x̃_i` (at convergence `w_i e_i = y_i − μ_i`) and the bread is
//! `B = (X̃'WX̃)⁻¹`:
//!
//! ```text
//! hetero:     V = n/(n−K) · B (Σ_i s_i s_i') B
//! cluster:    V = G/(G−1) · (n−1)/(n−K) · B (Σ_g S_g S_g') B,   S_g = Σ_{i∈g} s_i
//! two-way:    V = G_min/(G_min−1) · (n−1)/(n−K) · B (M_1 + M_2 − M_12) B
//! ```
//!
//! `K` counts the regressors plus the fixed-effect coefficients, `Σ_g (levels_g) − (G_fe − 1)`,
//! except that fixed effects nested in a cluster variable (every level inside one cluster) are
//! not counted — fixest's `fixef.K = "nested"` and Stata's ppmlhdfe convention. A matrix with a
//! negative diagonal is repaired by zeroing negative eigenvalues (fixest, CGM 2011).

use super::data::Factor;
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::Serialize;

/// Which small-sample correction to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ssc {
    /// fixest's default `ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE,
    /// cluster.df = "min")`: fixed effects nested in a cluster variable are not counted in K.
    #[default]
    Fixest,
    /// pyfixest's default `ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")`: the
    /// same formula, except that with two-way clustering a fixed effect nested in the
    /// intersection of the two cluster variables also counts as nested.
    Pyfixest,
    /// Only the cluster adjustment G/(G−1) (n/(n−1) when heteroskedasticity-robust): fixest's
    /// `ssc(adj = FALSE)`, the convention of Stata's maximum-likelihood commands (`poisson`,
    /// `ppml`) with `vce(cluster)`. The Advanced Guide's printed standard errors use it.
    StataMl,
    /// No small-sample correction at all (K and G adjustments off).
    None,
}

impl std::str::FromStr for Ssc {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fixest" => Ok(Ssc::Fixest),
            "pyfixest" => Ok(Ssc::Pyfixest),
            "stata-ml" => Ok(Ssc::StataMl),
            "none" => Ok(Ssc::None),
            _ => Err(Error::invalid(
                format!("`ssc` {s}"),
                "expected one of: fixest, pyfixest, stata-ml, none",
            )),
        }
    }
}

/// What the standard errors need besides the scores.
pub(crate) struct VcovSpec<'a> {
    pub clusters: &'a [&'a Factor],
    pub factors: &'a [Factor],
    pub ssc: Ssc,
}

/// The numbers behind the small-sample correction, for output.
#[derive(Debug, Clone, Serialize)]
pub struct SscDetails {
    /// "hetero" (heteroskedasticity-robust), "cluster", or "none" (no regressor to estimate).
    pub kind: String,
    /// The correction applied, as [`Ssc`] is written in options: `fixest`, `pyfixest`,
    /// `stata-ml` or `none` (with no regressor: the variant's name in lower case).
    pub ssc: String,
    /// Number of parameters K used in (n−1)/(n−K).
    pub k: usize,
    /// Number of clusters per clustering variable.
    pub clusters: Vec<usize>,
    /// Fixed-effect dimensions treated as nested in a cluster variable.
    pub nested: Vec<String>,
    /// The multiplicative factor applied to the raw sandwich.
    pub factor: f64,
}

fn nested_in(f: &Factor, c: &Factor) -> bool {
    let mut owner = vec![u32::MAX; f.nlevels()];
    for (&l, &g) in f.codes.iter().zip(&c.codes) {
        let o = &mut owner[l as usize];
        if *o == u32::MAX {
            *o = g;
        } else if *o != g {
            return false;
        }
    }
    true
}

fn intersect(a: &Factor, b: &Factor) -> Factor {
    let mut map: super::data::FxMap<(u32, u32), u32> = Default::default();
    let codes = a
        .codes
        .iter()
        .zip(&b.codes)
        .map(|(&p, &q)| {
            let next = map.len() as u32;
            *map.entry((p, q)).or_insert(next)
        })
        .collect();
    Factor {
        name: format!("{}^{}", a.name, b.name),
        codes,
        labels: (0..map.len()).map(|l| l.to_string()).collect(),
    }
}

/// The scores `s_ia = x̃_ia w_i e_i` of the demeaned regressors `x_dm`, weights `w` and
/// working residuals `e`, formed where they are used (no vector of N scores per regressor).
#[derive(Clone, Copy)]
struct Scores<'a> {
    x_dm: &'a [Vec<f64>],
    w: &'a [f64],
    e: &'a [f64],
}

impl Scores<'_> {
    /// The scores of regressor `a`, row after row.
    fn of(&self, a: usize) -> impl Iterator<Item = f64> + '_ {
        self.x_dm[a]
            .iter()
            .zip(self.w)
            .zip(self.e)
            .map(|((x, w), e)| x * w * e)
    }
}

/// The meat of the sandwich: `Σ_i s_i s_i'` without clusters, `Σ_g S_g S_g'` with the scores
/// summed by cluster (`S_g = Σ_{i∈g} s_i`), every sum in row order.
fn meat(scores: Scores, cluster: Option<&Factor>) -> DMatrix<f64> {
    let k = scores.x_dm.len();
    let mut m = DMatrix::zeros(k, k);
    match cluster {
        None => {
            for a in 0..k {
                for b in a..k {
                    let v: f64 = scores.of(a).zip(scores.of(b)).map(|(p, q)| p * q).sum();
                    m[(a, b)] = v;
                    m[(b, a)] = v;
                }
            }
        }
        Some(c) => {
            let g = c.nlevels();
            let mut sums = vec![vec![0.0; g]; k];
            for (a, sa) in sums.iter_mut().enumerate() {
                for (&l, s) in c.codes.iter().zip(scores.of(a)) {
                    sa[l as usize] += s;
                }
            }
            for a in 0..k {
                for b in a..k {
                    let v: f64 = sums[a].iter().zip(&sums[b]).map(|(p, q)| p * q).sum();
                    m[(a, b)] = v;
                    m[(b, a)] = v;
                }
            }
        }
    }
    m
}

/// Computes the variance matrix, a description of it, and the correction details.
/// `x_dm` are the demeaned regressors (column-major), `w` the IRLS weights, `resid` the working
/// residuals of the last IRLS step.
pub(crate) fn vcov(
    x_dm: &[Vec<f64>],
    w: &[f64],
    resid: &[f64],
    spec: &VcovSpec,
) -> Result<(DMatrix<f64>, String, SscDetails)> {
    let k = x_dm.len();
    let n = w.len();
    if k == 0 {
        let d = SscDetails {
            kind: "none".into(),
            ssc: format!("{:?}", spec.ssc).to_lowercase(),
            k: 0,
            clusters: vec![],
            nested: vec![],
            factor: 1.0,
        };
        return Ok((DMatrix::zeros(0, 0), "no coefficients".into(), d));
    }
    let scores = Scores { x_dm, w, e: resid };
    let bread = super::gram::gram(x_dm, w).try_inverse().ok_or_else(|| {
        Error::invalid(
            "standard errors",
            "X'WX is singular; regressors are collinear",
        )
    })?;

    // Number of parameters.
    let mut nested = Vec::new();
    // The clusters (borrowed, not copied) and, for pyfixest, their intersection.
    let inter = (spec.ssc == Ssc::Pyfixest && spec.clusters.len() == 2)
        .then(|| intersect(spec.clusters[0], spec.clusters[1]));
    let check: Vec<&Factor> = spec
        .clusters
        .iter()
        .copied()
        .chain(inter.as_ref())
        .collect();
    let sizes: Vec<usize> = spec.factors.iter().map(|f| f.nlevels()).collect();
    let nfe = sizes.len();
    let mut kk = k + sizes.iter().sum::<usize>() - nfe.saturating_sub(1);
    if !spec.clusters.is_empty() && nfe > 0 {
        // One pass over the codes per dimension, the dimensions on all cores.
        let is_nested: Vec<bool> = spec
            .factors
            .par_iter()
            .map(|f| check.iter().any(|c| nested_in(f, c)))
            .collect();
        for (g, f) in spec.factors.iter().enumerate() {
            if is_nested[g] {
                nested.push(f.name.clone());
            }
        }
        if is_nested.iter().all(|&b| b) {
            kk = k + 1;
        } else {
            kk -= (0..nfe)
                .filter(|&g| is_nested[g])
                .map(|g| sizes[g] - 1)
                .sum::<usize>();
        }
    }
    if kk >= n {
        return Err(Error::invalid(
            "standard errors",
            format!(
                "{kk} parameters for {n} observations: the small-sample correction is undefined"
            ),
        ));
    }
    let (nf, kf) = (n as f64, kk as f64);
    let no_adj = spec.ssc == Ssc::None;
    let (raw, factor, kind, gs) = if spec.clusters.is_empty() {
        let m = meat(scores, None);
        let f = match spec.ssc {
            Ssc::None => 1.0,
            Ssc::StataMl => nf / (nf - 1.0),
            _ => nf / (nf - kf),
        };
        (&bread * m * &bread, f, "hetero", vec![])
    } else {
        let gs: Vec<usize> = spec.clusters.iter().map(|c| c.nlevels()).collect();
        let gmin = *gs.iter().min().unwrap_or(&1) as f64;
        if gmin < 2.0 {
            return Err(Error::invalid(
                "`cluster`",
                "clustering needs at least two clusters",
            ));
        }
        let mut m = meat(scores, Some(spec.clusters[0]));
        if spec.clusters.len() == 2 {
            m += meat(scores, Some(spec.clusters[1]));
            m -= meat(scores, Some(&intersect(spec.clusters[0], spec.clusters[1])));
        }
        let f = match spec.ssc {
            Ssc::None => 1.0,
            Ssc::StataMl => gmin / (gmin - 1.0),
            _ => gmin / (gmin - 1.0) * (nf - 1.0) / (nf - kf),
        };
        (&bread * m * &bread, f, "cluster", gs)
    };
    let mut v = raw * factor;
    if (0..k).any(|j| v[(j, j)] < 0.0) {
        let eig = v.clone().symmetric_eigen();
        let vals = eig.eigenvalues.map(|l| l.max(0.0));
        v = &eig.eigenvectors * DMatrix::from_diagonal(&vals) * eig.eigenvectors.transpose();
    }
    let ssc_name = match spec.ssc {
        Ssc::Fixest => "fixest",
        Ssc::Pyfixest => "pyfixest",
        Ssc::StataMl => "stata-ml",
        Ssc::None => "none",
    };
    let description = if kind == "hetero" {
        if no_adj {
            "heteroskedasticity-robust, no small-sample correction".to_string()
        } else {
            if spec.ssc == Ssc::StataMl {
                "heteroskedasticity-robust; small-sample correction (stata-ml) n/(n-1)".to_string()
            } else {
                format!("heteroskedasticity-robust; small-sample correction ({ssc_name}) n/(n-K) with K = {kk}")
            }
        }
    } else {
        let names: Vec<&str> = spec.clusters.iter().map(|c| c.name.as_str()).collect();
        let gtxt: Vec<String> = names
            .iter()
            .zip(&gs)
            .map(|(nm, g)| format!("{nm}: {g}"))
            .collect();
        if no_adj {
            format!(
                "clustered by {} ({} clusters), no small-sample correction",
                names.join(" and "),
                gtxt.join(", ")
            )
        } else if spec.ssc == Ssc::StataMl {
            format!(
                "clustered by {} ({} clusters); small-sample correction (stata-ml) G/(G-1) with G = {}",
                names.join(" and "),
                gtxt.join(", "),
                gs.iter().min().unwrap_or(&0)
            )
        } else {
            format!(
                "clustered by {} ({} clusters); small-sample correction ({ssc_name}) G/(G-1)·(n-1)/(n-K) with G = {}, K = {kk}{}",
                names.join(" and "),
                gtxt.join(", "),
                gs.iter().min().unwrap_or(&0),
                if nested.is_empty() { String::new() } else { format!(" (fixed effects nested in the clusters not counted: {})", nested.join(", ")) }
            )
        }
    };
    let details = SscDetails {
        kind: kind.to_string(),
        ssc: ssc_name.to_string(),
        k: kk,
        clusters: gs,
        nested,
        factor,
    };
    Ok((v, description, details))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(codes: Vec<u32>) -> Factor {
        let n = codes.iter().max().map(|&m| m as usize + 1).unwrap_or(0);
        Factor {
            name: "c".into(),
            codes,
            labels: (0..n).map(|l| l.to_string()).collect(),
        }
    }

    /// One regressor, no fixed effects: B = 1/Σ w x², clustered meat = Σ_g (Σ_{i∈g} w e x)².
    /// x = (1, 2, 1, 3), w = 1, e = (1, −1, 2, 1), clusters {0,1}, {2,3}:
    /// Σ w x² = 15; S_0 = 1 − 2 = −1, S_1 = 2 + 3 = 5; meat = 26; raw V = 26/225.
    /// Correction: G/(G−1)·(n−1)/(n−K) = 2 · 3/3 = 2 → V = 52/225.
    #[test]
    fn clustered_by_hand() {
        let x = vec![vec![1.0, 2.0, 1.0, 3.0]];
        let w = vec![1.0; 4];
        let e = vec![1.0, -1.0, 2.0, 1.0];
        let cl = [&factor(vec![0, 0, 1, 1])];
        let spec = VcovSpec {
            clusters: &cl,
            factors: &[],
            ssc: Ssc::Fixest,
        };
        let (v, d, det) = vcov(&x, &w, &e, &spec).unwrap();
        assert!((v[(0, 0)] - 52.0 / 225.0).abs() < 1e-14, "{}", v[(0, 0)]);
        assert_eq!(det.k, 1);
        assert!(d.contains("clustered"));
        // Hetero: meat = Σ (x e)² = 1 + 4 + 4 + 9 = 18; factor n/(n−K) = 4/3.
        let spec = VcovSpec {
            clusters: &[],
            factors: &[],
            ssc: Ssc::Fixest,
        };
        let (v, _, _) = vcov(&x, &w, &e, &spec).unwrap();
        assert!((v[(0, 0)] - 18.0 / 225.0 * 4.0 / 3.0).abs() < 1e-14);
    }

    /// A fixed effect nested in the cluster variable is not counted in K.
    #[test]
    fn nested_fixed_effect_not_counted() {
        let x = vec![vec![1.0, 2.0, 1.0, 3.0, 0.5, 1.5]];
        let w = vec![1.0; 6];
        let e = vec![1.0, -1.0, 2.0, 1.0, 0.3, -0.2];
        let cl = [&factor(vec![0, 0, 1, 1, 2, 2])];
        let fe = [
            factor(vec![0, 0, 1, 1, 2, 2]),
            factor(vec![0, 1, 0, 1, 0, 1]),
        ];
        let spec = VcovSpec {
            clusters: &cl,
            factors: &fe,
            ssc: Ssc::Fixest,
        };
        let (_, _, det) = vcov(&x, &w, &e, &spec).unwrap();
        // k=1, sizes 3+2-1 = 4 → K = 5; first FE nested → minus (3-1) → K = 3.
        assert_eq!(det.k, 3);
        assert_eq!(det.nested, vec!["c"]);
    }
}
