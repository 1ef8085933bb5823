//! Weighted demeaning with respect to several fixed-effect dimensions by alternating projections
//! (Gauss–Seidel sweeps over the dimensions), accelerated by Irons–Tuck extrapolation.
//!
//! Given a column `x`, weights `w > 0` and factors `f_1..f_G`, [`FixedEffects::demean`] finds
//! fixed-effect coefficients `α` solving
//!
//! ```text
//! min_α  Σ_i w_i (x_i − Σ_g α_g[f_g(i)])²
//! ```
//!
//! and returns the residual `x̃ = x − Dα` (the within transform `M_D x` of the Frisch–Waugh–Lovell
//! theorem) together with `α`. One sweep replaces each `α_g` by its exact update given the other
//! dimensions: `α_g[l] += Σ_{i: f_g(i)=l} w_i r_i / Σ_{i: f_g(i)=l} w_i`. This is the method
//! of Guimarães & Portugal (2010) and Gaure (2013), used by reghdfe/ppmlhdfe (Correia 2017;
//! Correia, Guimarães & Zylkin 2020) and by fixest (Bergé 2018), which accelerates the fixed
//! point iteration `α ← F(α)` with Irons & Tuck (1969):
//! `α' = F²(α) − (Δ·Δ²)/(Δ²·Δ²) Δ`, with `Δ = F²(α) − F(α)` and `Δ² = F²(α) − 2F(α) + α`.
//!
//! Working in coefficient space lets the caller warm-start from the previous IRLS iteration's
//! `α` (the ppmlhdfe trick): only the change since the last iteration has to be projected out.

use super::data::Factor;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// Convergence settings for the alternating projections.
#[derive(Debug, Clone, Copy)]
pub struct DemeanOptions {
    /// Stop when every coefficient changes by less than `tol` in one sweep, absolutely or
    /// relative to `0.1 + |α|` (fixest's criterion).
    pub tol: f64,
    /// Maximum number of sweeps.
    pub max_iter: usize,
}

impl Default for DemeanOptions {
    fn default() -> Self {
        DemeanOptions {
            tol: 1e-10,
            max_iter: 100_000,
        }
    }
}

/// Scatter-add that keeps a running sum while consecutive observations share a level, so that
/// data sorted by a fixed effect (e.g. by pair) do not serialise on one memory location.
#[derive(Default)]
struct RunSum {
    code: u32,
    acc: f64,
}

impl RunSum {
    #[inline(always)]
    fn add(&mut self, sums: &mut [f64], code: u32, v: f64) {
        if code != self.code {
            sums[self.code as usize] += self.acc;
            self.code = code;
            self.acc = 0.0;
        }
        self.acc += v;
    }
    #[inline(always)]
    fn flush(&mut self, sums: &mut [f64]) {
        sums[self.code as usize] += self.acc;
        self.acc = 0.0;
    }
}

/// Fixed-effect factors together with the weights of one projection.
pub struct FixedEffects<'a> {
    factors: &'a [Factor],
    w: &'a [f64],
    /// `1 / Σ w` per level, flattened over dimensions.
    inv_wsum: Vec<f64>,
    offsets: Vec<usize>,
}

impl<'a> FixedEffects<'a> {
    /// Prepares the projection for weights `w` (all positive, one per observation).
    pub fn new(factors: &'a [Factor], w: &'a [f64]) -> Self {
        let mut offsets = Vec::with_capacity(factors.len() + 1);
        let mut total = 0;
        for f in factors {
            offsets.push(total);
            total += f.nlevels();
        }
        offsets.push(total);
        let wsum: Vec<f64> = factors
            .par_iter()
            .map(|f| {
                let mut s = vec![0.0; f.nlevels()];
                for (&c, &wi) in f.codes.iter().zip(w) {
                    s[c as usize] += wi;
                }
                s
            })
            .flatten()
            .collect();
        let inv_wsum = wsum
            .iter()
            .map(|&s| if s > 0.0 { 1.0 / s } else { 0.0 })
            .collect();
        FixedEffects {
            factors,
            w,
            inv_wsum,
            offsets,
        }
    }

    /// Total number of coefficients (levels over all dimensions).
    pub fn ncoef(&self) -> usize {
        *self.offsets.last().unwrap_or(&0)
    }

    /// Offsets of each dimension in the flattened coefficient vector.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// `r = x − Dα`.
    fn residual(&self, x: &[f64], alpha: &[f64], r: &mut [f64]) {
        r.copy_from_slice(x);
        for (g, f) in self.factors.iter().enumerate() {
            let a = &alpha[self.offsets[g]..self.offsets[g + 1]];
            for (ri, &c) in r.iter_mut().zip(&f.codes) {
                *ri -= a[c as usize];
            }
        }
    }

    /// One Gauss–Seidel sweep: for each dimension, add the weighted group means of `r` to `α`
    /// and remove them from `r`. The removal for dimension `g` and the accumulation for
    /// dimension `g + 1` share one pass over the observations (G + 1 passes in all).
    /// With `fresh = Some(x)`, `r` is first recomputed as `x − Dα` within the same pass.
    ///
    /// `pre`: the sums of the first dimension were already accumulated by the previous sweep's
    /// last pass; `post`: accumulate them for the next sweep in this sweep's last pass.
    fn sweep(
        &self,
        r: &mut [f64],
        alpha: &mut [f64],
        sums: &mut [f64],
        fresh: Option<&[f64]>,
        pre: bool,
        post: bool,
    ) {
        let nd = self.factors.len();
        let (lo0, hi0) = (self.offsets[0], self.offsets[1]);
        let s0 = &mut sums[lo0..hi0];
        if !pre {
            s0.fill(0.0);
        }
        match fresh {
            _ if pre => {}
            None => {
                let mut acc = RunSum::default();
                for ((&c, &wi), &ri) in self.factors[0].codes.iter().zip(self.w).zip(r.iter()) {
                    acc.add(s0, c, wi * ri);
                }
                acc.flush(s0);
            }
            Some(x) => {
                let mut acc = RunSum::default();
                let a: Vec<&[f64]> = (0..nd)
                    .map(|g| &alpha[self.offsets[g]..self.offsets[g + 1]])
                    .collect();
                let c: Vec<&[u32]> = self.factors.iter().map(|f| f.codes.as_slice()).collect();
                match nd {
                    2 => {
                        for (i, ((ri, &xi), &wi)) in r.iter_mut().zip(x).zip(self.w).enumerate() {
                            let (c0, c1) = (c[0][i], c[1][i]);
                            let v = xi - a[0][c0 as usize] - a[1][c1 as usize];
                            *ri = v;
                            acc.add(s0, c0, wi * v);
                        }
                    }
                    3 => {
                        for (i, ((ri, &xi), &wi)) in r.iter_mut().zip(x).zip(self.w).enumerate() {
                            let (c0, c1, c2) = (c[0][i], c[1][i], c[2][i]);
                            let v = xi - a[0][c0 as usize] - a[1][c1 as usize] - a[2][c2 as usize];
                            *ri = v;
                            acc.add(s0, c0, wi * v);
                        }
                    }
                    _ => {
                        for (i, ((ri, &xi), &wi)) in r.iter_mut().zip(x).zip(self.w).enumerate() {
                            let mut v = xi;
                            for (ag, cg) in a.iter().zip(&c) {
                                v -= ag[cg[i] as usize];
                            }
                            *ri = v;
                            acc.add(s0, c[0][i], wi * v);
                        }
                    }
                }
                acc.flush(s0);
            }
        }
        for g in 0..nd {
            let (lo, hi) = (self.offsets[g], self.offsets[g + 1]);
            for ((sl, &iw), al) in sums[lo..hi]
                .iter_mut()
                .zip(&self.inv_wsum[lo..hi])
                .zip(&mut alpha[lo..hi])
            {
                *sl *= iw;
                *al += *sl;
            }
            let (done, rest) = sums.split_at_mut(hi);
            let mean = &done[lo..hi];
            let codes = &self.factors[g].codes;
            if g + 1 < nd {
                let next = &mut rest[..self.offsets[g + 2] - hi];
                next.fill(0.0);
                let ncodes = &self.factors[g + 1].codes;
                let mut acc = RunSum::default();
                for (((ri, &c), &nc), &wi) in r.iter_mut().zip(codes).zip(ncodes).zip(self.w) {
                    *ri -= mean[c as usize];
                    acc.add(next, nc, wi * *ri);
                }
                acc.flush(next);
            } else if post {
                let (first, last) = sums.split_at_mut(lo);
                let mean = &last[..hi - lo];
                let next = &mut first[lo0..hi0];
                next.fill(0.0);
                let ncodes = &self.factors[0].codes;
                let mut acc = RunSum::default();
                for (((ri, &c), &nc), &wi) in r.iter_mut().zip(codes).zip(ncodes).zip(self.w) {
                    *ri -= mean[c as usize];
                    acc.add(next, nc, wi * *ri);
                }
                acc.flush(next);
            } else {
                for (ri, &c) in r.iter_mut().zip(codes) {
                    *ri -= mean[c as usize];
                }
            }
        }
    }

    /// Demeans `x`, starting from (and updating) the coefficients `alpha` (length
    /// [`FixedEffects::ncoef`]; zeros for a cold start). Returns `x − Dα` and the number of
    /// sweeps used.
    pub fn demean(
        &self,
        x: &[f64],
        alpha: &mut [f64],
        opts: &DemeanOptions,
    ) -> Result<(Vec<f64>, usize)> {
        let n = x.len();
        let mut r = vec![0.0; n];
        let mut sums = vec![0.0; self.ncoef()];
        if self.factors.len() < 2 {
            self.residual(x, alpha, &mut r);
            if self.factors.is_empty() {
                return Ok((r, 0));
            }
            self.sweep(&mut r, alpha, &mut sums, None, false, false);
            return Ok((r, 1));
        }
        let converged = |a: &[f64], b: &[f64]| {
            a.iter().zip(b).all(|(&p, &q)| {
                let d = (p - q).abs();
                d <= opts.tol || d / (0.1 + p.abs()) <= opts.tol
            })
        };
        let mut x0 = alpha.to_vec();
        let mut gx = vec![0.0; alpha.len()];
        let mut sweeps = 0;
        let mut stale = true; // r = x − Dα is computed in the first sweep's first pass
        while sweeps < opts.max_iter {
            // α → F(α)
            x0.copy_from_slice(alpha);
            self.sweep(
                &mut r,
                alpha,
                &mut sums,
                if stale { Some(x) } else { None },
                false,
                true,
            );
            stale = false;
            sweeps += 1;
            if converged(&x0, alpha) {
                return Ok((r, sweeps));
            }
            gx.copy_from_slice(alpha);
            // F(α) → F²(α)
            self.sweep(&mut r, alpha, &mut sums, None, true, false);
            sweeps += 1;
            if converged(&gx, alpha) {
                return Ok((r, sweeps));
            }
            // Irons–Tuck extrapolation.
            let (mut vprod, mut ssq) = (0.0, 0.0);
            for ((&a0, &a1), &a2) in x0.iter().zip(&gx).zip(alpha.iter()) {
                let d1 = a2 - a1;
                let d2 = a2 - 2.0 * a1 + a0;
                vprod += d1 * d2;
                ssq += d2 * d2;
            }
            if ssq > 0.0 && vprod.is_finite() && ssq.is_finite() {
                let coef = vprod / ssq;
                for (a2, &a1) in alpha.iter_mut().zip(&gx) {
                    *a2 -= coef * (*a2 - a1);
                }
                stale = true; // r is recomputed from α in the next sweep's first pass
            }
        }
        Err(Error::NotConverged(format!(
            "demeaning by alternating projections did not converge in {} sweeps (tolerance {:e}); the fixed effects may be poorly connected — try fewer fixed-effect dimensions or a looser --inner-tol",
            opts.max_iter, opts.tol
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(name: &str, codes: Vec<u32>) -> Factor {
        let n = codes.iter().max().map(|&m| m as usize + 1).unwrap_or(0);
        Factor {
            name: name.into(),
            codes,
            labels: (0..n).map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn one_way_is_group_mean() {
        let f = [factor("g", vec![0, 0, 1, 1])];
        let w = [1.0, 3.0, 1.0, 1.0];
        let fe = FixedEffects::new(&f, &w);
        let mut a = vec![0.0; 2];
        let (r, _) = fe
            .demean(&[1.0, 5.0, 2.0, 4.0], &mut a, &DemeanOptions::default())
            .unwrap();
        // weighted mean of group 0: (1 + 15)/4 = 4; group 1: 3
        assert_eq!(a, vec![4.0, 3.0]);
        assert_eq!(r, vec![-3.0, 1.0, -1.0, 1.0]);
    }

    /// Balanced two-way panel, unit weights: the closed form is
    /// x̃_it = x_it − x̄_i· − x̄_·t + x̄_··.
    #[test]
    fn two_way_balanced_closed_form() {
        let (ni, nt) = (4usize, 3usize);
        let mut ci = vec![];
        let mut ct = vec![];
        let mut x = vec![];
        for i in 0..ni {
            for t in 0..nt {
                ci.push(i as u32);
                ct.push(t as u32);
                x.push(((i * 7 + t * 3) % 5) as f64 + 0.1 * (i * t) as f64);
            }
        }
        let f = [factor("i", ci), factor("t", ct)];
        let w = vec![1.0; x.len()];
        let fe = FixedEffects::new(&f, &w);
        let mut a = vec![0.0; fe.ncoef()];
        let (r, _) = fe.demean(&x, &mut a, &DemeanOptions::default()).unwrap();
        let xbar: f64 = x.iter().sum::<f64>() / x.len() as f64;
        for i in 0..ni {
            for t in 0..nt {
                let xi: f64 = (0..nt).map(|s| x[i * nt + s]).sum::<f64>() / nt as f64;
                let xt: f64 = (0..ni).map(|j| x[j * nt + t]).sum::<f64>() / ni as f64;
                let want = x[i * nt + t] - xi - xt + xbar;
                assert!(
                    (r[i * nt + t] - want).abs() < 1e-9,
                    "{} vs {}",
                    r[i * nt + t],
                    want
                );
            }
        }
    }
}
