//! Weighted demeaning with respect to several fixed-effect dimensions by alternating projections
//! (Gauss–Seidel sweeps over the dimensions), accelerated by Irons–Tuck extrapolation, for
//! several columns at once.
//!
//! Given columns `x_k`, weights `w > 0` and factors `f_1..f_G`, [`FixedEffects::demean_columns`]
//! finds, for every column, fixed-effect coefficients `α_k` solving (MODEL.md §4)
//!
//! ```text
//! min_α  Σ_i w_i (x_ik − Σ_g α_kg[f_g(i)])²
//! ```
//!
//! and returns the residual `x̃_k = x_k − Dα_k` (the within transform `M_D x` of the
//! Frisch–Waugh–Lovell theorem) together with `α_k`. One sweep replaces each `α_g` by its exact
//! update given the other dimensions: `α_g[l] += Σ_{i: f_g(i)=l} w_i r_i / Σ_{i: f_g(i)=l} w_i`.
//! This is the method of Guimarães & Portugal (2010) and Gaure (2013), used by reghdfe/ppmlhdfe
//! (Correia 2017; Correia, Guimarães & Zylkin 2020) and by fixest (Bergé 2018), which
//! accelerates the fixed point iteration `α ← F(α)` with Irons & Tuck (1969):
//! `α' = F²(α) − (Δ·Δ²)/(Δ²·Δ²) Δ`, with `Δ = F²(α) − F(α)` and `Δ² = F²(α) − 2F(α) + α`
//! (one extrapolation coefficient per column).
//!
//! Working in coefficient space lets the caller warm-start from the previous IRLS iteration's
//! `α` (the ppmlhdfe trick): only the change since the last iteration has to be projected out.
//!
//! Memory layout, chosen for the memory bus: the `K` columns of one call are interleaved
//! (`r[i·K + k]`, `α[l·K + k]`), so one pass over the codes and weights serves every column and
//! a level's `K` coefficients share a cache line. Each pass over the observations is split into
//! fixed blocks of rows solved in parallel; every block accumulates its group sums over the
//! range of levels it touches, and the blocks are added in block order. The block boundaries
//! depend only on the number of observations, so the result does not depend on the number of
//! threads.

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

/// Rows per parallel block. Fixed (not derived from the thread count) so that results are the
/// same on any machine; large enough that the per-block partial sums stay small beside the rows.
const BLOCK_ROWS: usize = 1 << 16;

/// Columns demeaned together in one pass (more are split into groups of this size).
const MAX_FUSED: usize = 4;

/// One block of rows and, per dimension, the half-open range of levels its rows touch.
struct Block {
    lo: usize,
    hi: usize,
    levels: Vec<(usize, usize)>,
}

/// Fixed-effect factors together with the weights of one projection.
pub struct FixedEffects<'a> {
    factors: &'a [Factor],
    w: &'a [f64],
    /// `1 / Σ w` per level, flattened over dimensions.
    inv_wsum: Vec<f64>,
    offsets: Vec<usize>,
    blocks: Vec<Block>,
}

/// Work buffers of one call, reused across sweeps (nothing is allocated inside the loop).
struct Workspace {
    /// Interleaved residuals `r[i·K + k]`.
    r: Vec<f64>,
    /// Group sums, then means, of every dimension: `[(offset_g + l)·K + k]`.
    sums: Vec<f64>,
    /// Partial sums of each block over its level range.
    partial: Vec<Vec<f64>>,
}

/// Adds `w_i r_i` into `acc` for consecutive rows of one level (a running sum, so that data
/// sorted by a fixed effect, e.g. by pair, do not serialise on one memory location), flushing
/// into `partial[(level − lo)·K + k]` when the level changes.
#[inline(always)]
fn run_add<const K: usize>(
    partial: &mut [f64],
    lo: usize,
    cur: &mut usize,
    acc: &mut [f64; K],
    code: usize,
    wr: [f64; K],
) {
    if code != *cur {
        let d = &mut partial[(*cur - lo) * K..(*cur - lo + 1) * K];
        for k in 0..K {
            d[k] += acc[k];
            acc[k] = 0.0;
        }
        *cur = code;
    }
    for k in 0..K {
        acc[k] += wr[k];
    }
}

#[inline(always)]
fn run_flush<const K: usize>(partial: &mut [f64], lo: usize, cur: usize, acc: &[f64; K]) {
    if cur >= lo && (cur - lo + 1) * K <= partial.len() {
        let d = &mut partial[(cur - lo) * K..(cur - lo + 1) * K];
        for k in 0..K {
            d[k] += acc[k];
        }
    }
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
        let n = w.len();
        let blocks = (0..n.div_ceil(BLOCK_ROWS).max(1))
            .into_par_iter()
            .map(|b| {
                let (lo, hi) = (b * BLOCK_ROWS, ((b + 1) * BLOCK_ROWS).min(n));
                let levels = factors
                    .iter()
                    .map(|f| {
                        let c = &f.codes[lo..hi];
                        match (c.iter().min(), c.iter().max()) {
                            (Some(&a), Some(&b)) => (a as usize, b as usize + 1),
                            _ => (0, 0),
                        }
                    })
                    .collect();
                Block { lo, hi, levels }
            })
            .collect();
        FixedEffects {
            factors,
            w,
            inv_wsum,
            offsets,
            blocks,
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

    fn workspace<const K: usize>(&self) -> Workspace {
        let widest = |b: &Block| b.levels.iter().map(|(lo, hi)| hi - lo).max().unwrap_or(0);
        Workspace {
            r: vec![0.0; self.w.len() * K],
            sums: vec![0.0; self.ncoef() * K],
            partial: self
                .blocks
                .iter()
                .map(|b| vec![0.0; widest(b) * K])
                .collect(),
        }
    }

    /// Adds the blocks' partial sums of dimension `h` into its group sums, block by block.
    fn reduce<const K: usize>(&self, h: usize, sums: &mut [f64], partial: &[Vec<f64>]) {
        let s = &mut sums[self.offsets[h] * K..self.offsets[h + 1] * K];
        s.fill(0.0);
        for (blk, p) in self.blocks.iter().zip(partial) {
            let (lo, hi) = blk.levels[h];
            for (d, v) in s[lo * K..hi * K].iter_mut().zip(&p[..(hi - lo) * K]) {
                *d += v;
            }
        }
    }

    /// Turns the group sums of dimension `g` into weighted means and adds them to `α_g`.
    fn to_means<const K: usize>(&self, g: usize, sums: &mut [f64], alpha: &mut [f64]) {
        let (lo, hi) = (self.offsets[g], self.offsets[g + 1]);
        for ((s, a), &iw) in sums[lo * K..hi * K]
            .chunks_exact_mut(K)
            .zip(alpha[lo * K..hi * K].chunks_exact_mut(K))
            .zip(&self.inv_wsum[lo..hi])
        {
            for k in 0..K {
                s[k] *= iw;
                a[k] += s[k];
            }
        }
    }

    /// One pass accumulating `Σ w r` by the levels of dimension 0; with `fresh = Some((x, α))`
    /// it first recomputes `r = x − Dα` in the same pass.
    fn accumulate_pass<const K: usize>(
        &self,
        ws: &mut Workspace,
        fresh: Option<(&[&[f64]], &[f64])>,
    ) {
        let Workspace { r, sums, partial } = ws;
        let (factors, offsets, w) = (self.factors, &self.offsets, self.w);
        r.par_chunks_mut(BLOCK_ROWS * K)
            .zip(partial.par_iter_mut())
            .zip(self.blocks.par_iter())
            .for_each(|((rb, pb), blk)| {
                let (alo, ahi) = blk.levels[0];
                pb[..(ahi - alo) * K].fill(0.0);
                let c0 = &factors[0].codes[blk.lo..blk.hi];
                let mut cur = alo;
                let mut acc = [0.0; K];
                for (t, ri) in rb.chunks_exact_mut(K).enumerate() {
                    let i = blk.lo + t;
                    if let Some((xs, alpha)) = fresh {
                        for k in 0..K {
                            ri[k] = xs[k][i];
                        }
                        for (f, &off) in factors.iter().zip(offsets.iter()) {
                            let a = &alpha[(off + f.codes[i] as usize) * K..][..K];
                            for k in 0..K {
                                ri[k] -= a[k];
                            }
                        }
                    }
                    let mut wr = [0.0; K];
                    for k in 0..K {
                        wr[k] = w[i] * ri[k];
                    }
                    run_add::<K>(pb, alo, &mut cur, &mut acc, c0[t] as usize, wr);
                }
                run_flush::<K>(pb, alo, cur, &acc);
            });
        self.reduce::<K>(0, sums, partial);
    }

    /// One pass subtracting the means of dimension `g` from `r` and, with `add = Some(h)`,
    /// accumulating `Σ w r` by the levels of dimension `h` (the two share the pass: G + 1
    /// passes per sweep in all).
    fn sub_pass<const K: usize>(&self, ws: &mut Workspace, g: usize, add: Option<usize>) {
        let Workspace { r, sums, partial } = ws;
        let means = &sums[self.offsets[g] * K..self.offsets[g + 1] * K];
        let (factors, w) = (self.factors, self.w);
        r.par_chunks_mut(BLOCK_ROWS * K)
            .zip(partial.par_iter_mut())
            .zip(self.blocks.par_iter())
            .for_each(|((rb, pb), blk)| {
                let cg = &factors[g].codes[blk.lo..blk.hi];
                let wb = &w[blk.lo..blk.hi];
                match add {
                    Some(h) => {
                        let (alo, ahi) = blk.levels[h];
                        pb[..(ahi - alo) * K].fill(0.0);
                        let ch = &factors[h].codes[blk.lo..blk.hi];
                        let mut cur = alo;
                        let mut acc = [0.0; K];
                        for (((ri, &c), &nc), &wi) in rb.chunks_exact_mut(K).zip(cg).zip(ch).zip(wb)
                        {
                            let m = &means[c as usize * K..][..K];
                            let mut wr = [0.0; K];
                            for k in 0..K {
                                ri[k] -= m[k];
                                wr[k] = wi * ri[k];
                            }
                            run_add::<K>(pb, alo, &mut cur, &mut acc, nc as usize, wr);
                        }
                        run_flush::<K>(pb, alo, cur, &acc);
                    }
                    None => {
                        for (ri, &c) in rb.chunks_exact_mut(K).zip(cg) {
                            let m = &means[c as usize * K..][..K];
                            for k in 0..K {
                                ri[k] -= m[k];
                            }
                        }
                    }
                }
            });
        if let Some(h) = add {
            self.reduce::<K>(h, sums, partial);
        }
    }

    /// One Gauss–Seidel sweep over the dimensions. With `fresh = Some(x)`, `r` is first
    /// recomputed as `x − Dα`. `pre`: the sums of the first dimension were already accumulated
    /// by the previous sweep's last pass; `post`: accumulate them for the next sweep in this
    /// sweep's last pass.
    fn sweep<const K: usize>(
        &self,
        ws: &mut Workspace,
        alpha: &mut [f64],
        fresh: Option<&[&[f64]]>,
        pre: bool,
        post: bool,
    ) {
        let nd = self.factors.len();
        match fresh {
            Some(xs) => self.accumulate_pass::<K>(ws, Some((xs, &*alpha))),
            None if !pre => self.accumulate_pass::<K>(ws, None),
            None => {}
        }
        for g in 0..nd {
            self.to_means::<K>(g, &mut ws.sums, alpha);
            let add = if g + 1 < nd {
                Some(g + 1)
            } else if post {
                Some(0)
            } else {
                None
            };
            self.sub_pass::<K>(ws, g, add);
        }
    }

    /// Demeans `x`, starting from (and updating) the coefficients `alpha` (length
    /// [`FixedEffects::ncoef`]; zeros for a cold start). Returns `x − Dα` and the number of
    /// sweeps used.
    pub fn demean(
        &self,
        x: &[f64],
        alpha: &mut Vec<f64>,
        opts: &DemeanOptions,
    ) -> Result<(Vec<f64>, usize)> {
        let (mut out, sweeps) = self.demean_columns(&[x], std::slice::from_mut(alpha), opts)?;
        Ok((out.pop().unwrap_or_default(), sweeps))
    }

    /// Demeans every column of `xs` (each with its coefficients in `alphas`, warm-started and
    /// updated), `MAX_FUSED` columns per pass over the data. Returns the residuals and the most
    /// sweeps any group of columns used.
    pub fn demean_columns(
        &self,
        xs: &[&[f64]],
        alphas: &mut [Vec<f64>],
        opts: &DemeanOptions,
    ) -> Result<(Vec<Vec<f64>>, usize)> {
        let mut out = Vec::with_capacity(xs.len());
        let mut sweeps = 0;
        for (xg, ag) in xs.chunks(MAX_FUSED).zip(alphas.chunks_mut(MAX_FUSED)) {
            let (r, s) = match xg.len() {
                1 => self.demean_fused::<1>(xg, ag, opts)?,
                2 => self.demean_fused::<2>(xg, ag, opts)?,
                3 => self.demean_fused::<3>(xg, ag, opts)?,
                _ => self.demean_fused::<4>(xg, ag, opts)?,
            };
            out.extend(r);
            sweeps = sweeps.max(s);
        }
        Ok((out, sweeps))
    }

    fn demean_fused<const K: usize>(
        &self,
        xs: &[&[f64]],
        alphas: &mut [Vec<f64>],
        opts: &DemeanOptions,
    ) -> Result<(Vec<Vec<f64>>, usize)> {
        let n = self.w.len();
        let nc = self.ncoef();
        if xs.iter().any(|x| x.len() != n) || alphas.iter().any(|a| a.len() != nc) {
            return Err(Error::invalid(
                "demeaning",
                "internal: a column or coefficient vector has the wrong length",
            ));
        }
        // Interleave the coefficients: alpha[l·K + k].
        let mut alpha = vec![0.0; nc * K];
        for (k, a) in alphas.iter().enumerate() {
            for (l, &v) in a.iter().enumerate() {
                alpha[l * K + k] = v;
            }
        }
        let mut ws = self.workspace::<K>();
        let finish = |ws: Workspace, alpha: &[f64], alphas: &mut [Vec<f64>]| {
            for (k, a) in alphas.iter_mut().enumerate() {
                for (l, v) in a.iter_mut().enumerate() {
                    *v = alpha[l * K + k];
                }
            }
            let mut cols = vec![Vec::with_capacity(n); K];
            for row in ws.r.chunks_exact(K) {
                for k in 0..K {
                    cols[k].push(row[k]);
                }
            }
            cols
        };
        if self.factors.is_empty() {
            for (row, i) in ws.r.chunks_exact_mut(K).zip(0..n) {
                for k in 0..K {
                    row[k] = xs[k][i];
                }
            }
            return Ok((finish(ws, &alpha, alphas), 0));
        }
        if self.factors.len() == 1 {
            self.sweep::<K>(&mut ws, &mut alpha, Some(xs), false, false);
            return Ok((finish(ws, &alpha, alphas), 1));
        }
        let converged = |a: &[f64], b: &[f64]| {
            a.iter().zip(b).all(|(&p, &q)| {
                let d = (p - q).abs();
                d <= opts.tol || d / (0.1 + p.abs()) <= opts.tol
            })
        };
        let mut x0 = alpha.clone();
        let mut gx = vec![0.0; alpha.len()];
        let mut sweeps = 0;
        let mut stale = true; // r = x − Dα is computed in the first sweep's first pass
        while sweeps < opts.max_iter {
            // α → F(α)
            x0.copy_from_slice(&alpha);
            self.sweep::<K>(&mut ws, &mut alpha, stale.then_some(xs), false, true);
            stale = false;
            sweeps += 1;
            if converged(&x0, &alpha) {
                return Ok((finish(ws, &alpha, alphas), sweeps));
            }
            gx.copy_from_slice(&alpha);
            // F(α) → F²(α)
            self.sweep::<K>(&mut ws, &mut alpha, None, true, false);
            sweeps += 1;
            if converged(&gx, &alpha) {
                return Ok((finish(ws, &alpha, alphas), sweeps));
            }
            // Irons–Tuck extrapolation, one coefficient per column.
            let (mut vprod, mut ssq) = ([0.0; K], [0.0; K]);
            for ((a0, a1), a2) in x0
                .chunks_exact(K)
                .zip(gx.chunks_exact(K))
                .zip(alpha.chunks_exact(K))
            {
                for k in 0..K {
                    let d1 = a2[k] - a1[k];
                    let d2 = a2[k] - 2.0 * a1[k] + a0[k];
                    vprod[k] += d1 * d2;
                    ssq[k] += d2 * d2;
                }
            }
            let mut coef = [0.0; K];
            let mut any = false;
            for k in 0..K {
                if ssq[k] > 0.0 && vprod[k].is_finite() && ssq[k].is_finite() {
                    coef[k] = vprod[k] / ssq[k];
                    any = true;
                }
            }
            if any {
                for (a2, a1) in alpha.chunks_exact_mut(K).zip(gx.chunks_exact(K)) {
                    for k in 0..K {
                        a2[k] -= coef[k] * (a2[k] - a1[k]);
                    }
                }
                stale = true; // r is recomputed from α in the next sweep's first pass
            }
        }
        Err(Error::NotConverged(format!(
            "demeaning by alternating projections did not converge in {} sweeps (tolerance {:e}); the fixed effects may be poorly connected — try fewer fixed-effect dimensions or a looser inner tolerance (`demean.tol`)",
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

    /// Several columns demeaned in one pass, over several parallel blocks of rows, agree with
    /// each column demeaned alone.
    #[test]
    fn fused_columns_match_single_columns() {
        let n = 3 * BLOCK_ROWS + 17;
        let mut s = 7u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let a: Vec<u32> = (0..n).map(|i| (i / 500) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i % 97) as u32).collect();
        let c: Vec<u32> = (0..n).map(|i| ((i * 31) % 1013) as u32).collect();
        let f = [factor("a", a), factor("b", b), factor("c", c)];
        let w: Vec<f64> = (0..n).map(|_| 0.5 + next()).collect();
        let cols: Vec<Vec<f64>> = (0..5).map(|_| (0..n).map(|_| next()).collect()).collect();
        let fe = FixedEffects::new(&f, &w);
        let opts = DemeanOptions {
            tol: 1e-13,
            ..Default::default()
        };
        let refs: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let mut alphas = vec![vec![0.0; fe.ncoef()]; 5];
        let (fused, _) = fe.demean_columns(&refs, &mut alphas, &opts).unwrap();
        for (k, col) in cols.iter().enumerate() {
            let mut a = vec![0.0; fe.ncoef()];
            let (alone, _) = fe.demean(col, &mut a, &opts).unwrap();
            let worst = alone
                .iter()
                .zip(&fused[k])
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-9, "column {k}: {worst}");
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
