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
//! The sweeps work in coefficient space, as fixest does: with `b_g[l] = Σ_{i∈l} w_i x_i`
//! computed once per call, a dimension's update is `α_g[l] = (b_g[l] − Σ_{i∈l} w_i Σ_{h≠g}
//! α_h[f_h(i)]) / Σ_{i∈l} w_i`, so a pass reads only the codes and the weights (no residual
//! vector is read or written during the sweeps; `x − Dα` is formed once at the end). This is
//! the same Gauss–Seidel iteration as updating a stored residual, at well under half the
//! memory traffic per pass.
//!
//! Memory layout, chosen for the memory bus: the `K` columns of one call are interleaved in
//! coefficient space (`α[l·K + k]`), so one pass over the codes and weights serves every column
//! and a level's `K` coefficients share a cache line. Each pass over the observations is split
//! into fixed blocks of rows solved in parallel; every block accumulates its group sums over the
//! range of levels it touches, and the blocks are added in block order. The block boundaries
//! depend only on the number of observations, so the result does not depend on the number of
//! threads. Callers that demean repeatedly (the IRLS loop) keep a [`DemeanScratch`] and their
//! output vectors, so nothing of size N is allocated after the first call.

use super::data::{cut, Factor};
use crate::error::{Error, Result, Solver};
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

/// What the projections need to know about the factors alone, whatever the weights: where each
/// dimension's coefficients start, the blocks of rows with the levels they touch, and which
/// dimensions come in runs. Built once per fit (three passes over the codes) and carried from
/// one IRLS step to the next with [`FixedEffects::with_layout`] / [`FixedEffects::into_layout`].
pub(crate) struct Layout {
    /// Number of observations the layout was built for.
    n: usize,
    offsets: Vec<usize>,
    blocks: Vec<Block>,
    /// Per dimension: whether its codes come in runs (on average at least two equal codes in a
    /// row), so that group sums are better kept in a register along a run.
    runs: Vec<bool>,
    /// Per dimension whose rows come grouped (every level's rows one after the other, every
    /// level present, as a panel sorted by pair has its pair effect): its [`Runs`]. Every pass
    /// then sums each run in its block and each level takes its run's sum ([`Runs::sum`]: the
    /// sweep's [`FixedEffects::other_sums_grouped`] and [`update_levels`], the right-hand
    /// sides, [`FixedEffects::accumulate`]) instead of going through partial sums that span a
    /// block's whole level range (with many levels not in sorted order, each block's range is
    /// nearly every level).
    grouped: Vec<Option<Runs>>,
}

/// The runs of a dimension whose every level has one run of rows, as the fixed blocks cut
/// them.
struct Runs {
    /// The level of each run of each block, in order.
    levels: Vec<Vec<u32>>,
    /// Where each run of each block ends (the row after its last, counted from the block's
    /// first row): the passes walk a block's runs by these, without reading the codes.
    ends: Vec<Vec<u32>>,
    /// Where each level's run begins, `(block, run within the block)`: a run cut by block
    /// ends goes on as the first run of the next blocks, and belongs to the block where it
    /// began.
    first: Vec<(u32, u32)>,
}

impl Runs {
    /// The runs of a dimension of `nlevels` levels, with each block's run `levels` and their
    /// `ends` (see [`Runs::levels`], [`Runs::ends`]). A run goes on from the block before when
    /// the same level ends the last block with runs and begins this one.
    fn new(levels: Vec<Vec<u32>>, ends: Vec<Vec<u32>>, nlevels: usize) -> Runs {
        let mut first = vec![(0, 0); nlevels];
        let mut last: Option<u32> = None;
        for (b, block) in levels.iter().enumerate() {
            for (j, &l) in block.iter().enumerate() {
                if !(j == 0 && last == Some(l)) {
                    first[l as usize] = (b as u32, j as u32);
                }
            }
            if let Some(&l) = block.last() {
                last = Some(l);
            }
        }
        Runs {
            levels,
            ends,
            first,
        }
    }

    /// The sum of level `l`'s run from the blocks' run sums (`part(b)` for block b: `0 + Σ`
    /// over each run, one entry of K per run): the piece where it begins, then each piece
    /// continued in the next blocks, added in block order (as [`FixedEffects::reduce`] adds
    /// the blocks).
    #[inline(always)]
    fn sum<'p, const K: usize>(&self, part: &impl Fn(usize) -> &'p [f64], l: usize) -> [f64; K] {
        let runs = &self.levels;
        let (mut b, j) = (self.first[l].0 as usize, self.first[l].1 as usize);
        let mut v = part(b).as_chunks::<K>().0[j];
        let mut at_end = j + 1 == runs[b].len();
        while at_end && b + 1 < runs.len() && runs[b + 1].first() == Some(&(l as u32)) {
            b += 1;
            let p = &part(b).as_chunks::<K>().0[0];
            for k in 0..K {
                v[k] += p[k]; // the run goes on from the block before
            }
            at_end = runs[b].len() == 1;
        }
        v
    }

    /// Every level's [`Runs::sum`] into `sums[l·K + k]`, the levels on all cores. Every level
    /// has exactly one run, so every level is written.
    fn place<'p, const K: usize>(
        &self,
        part: impl Fn(usize) -> &'p [f64] + Sync,
        sums: &mut [f64],
    ) {
        sums.as_chunks_mut::<K>()
            .0
            .par_iter_mut()
            .zip(0..self.first.len())
            .for_each(|(d, l)| *d = self.sum::<K>(&part, l));
    }

    /// Whether block `b`'s first run began in an earlier block.
    fn continued(&self, b: usize) -> bool {
        self.levels[b]
            .first()
            .is_some_and(|&l| self.first[l as usize].0 as usize != b)
    }
}

impl Layout {
    /// The partial sums dimension `g` needs in block `b`: one per run when its rows come
    /// grouped, else one per level of the block's level range.
    fn width(&self, g: usize, b: usize) -> usize {
        match &self.grouped[g] {
            Some(runs) => runs.levels[b].len(),
            None => {
                let (lo, hi) = self.blocks[b].levels[g];
                hi - lo
            }
        }
    }

    /// The layout of `factors` on `n` observations (every factor has `n` codes). `n` is given,
    /// not taken from the factors, so that without any factor the blocks still cover the
    /// observations (the projection is then the identity, and its residuals are the columns).
    pub(crate) fn new(factors: &[Factor], n: usize) -> Layout {
        debug_assert!(factors.iter().all(|f| f.codes.len() == n));
        let mut offsets = Vec::with_capacity(factors.len() + 1);
        let mut total = 0;
        for f in factors {
            offsets.push(total);
            total += f.nlevels();
        }
        offsets.push(total);
        let blocks: Vec<Block> = (0..n.div_ceil(BLOCK_ROWS).max(1))
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
        // Per dimension, how often the code changes from one row to the next.
        let changes: Vec<usize> = factors
            .par_iter()
            .map(|f| f.codes.windows(2).filter(|p| p[0] != p[1]).count())
            .collect();
        let runs = changes.iter().map(|&c| c * 2 < n).collect();
        let grouped = factors
            .par_iter()
            .zip(&changes)
            .map(|(f, &changes)| {
                if n == 0 || changes + 1 != f.nlevels() {
                    return None;
                }
                // As many runs as levels: grouped if every level is present.
                let mut seen = vec![false; f.nlevels()];
                f.codes.iter().for_each(|&c| seen[c as usize] = true);
                if !seen.iter().all(|&s| s) {
                    return None;
                }
                // Each block's runs: the level of each, and where each ends.
                let runs_of = |b: &Block| {
                    let c = &f.codes[b.lo..b.hi];
                    let mut levels: Vec<u32> = c.first().copied().into_iter().collect();
                    let mut ends = Vec::with_capacity(levels.capacity());
                    for (t, p) in c.windows(2).enumerate() {
                        if p[0] != p[1] {
                            levels.push(p[1]);
                            ends.push(t as u32 + 1);
                        }
                    }
                    if !c.is_empty() {
                        ends.push(c.len() as u32);
                    }
                    (levels, ends)
                };
                let (levels, ends) = blocks.iter().map(runs_of).unzip();
                Some(Runs::new(levels, ends, f.nlevels()))
            })
            .collect();
        Layout {
            n,
            offsets,
            blocks,
            runs,
            grouped,
        }
    }
}

/// Fixed-effect factors together with the weights of one projection.
pub(crate) struct FixedEffects<'a> {
    factors: &'a [Factor],
    w: &'a [f64],
    /// `1 / Σ w` per level, flattened over dimensions.
    inv_wsum: Vec<f64>,
    layout: Layout,
}

/// Work buffers of the projections, kept by a caller that demeans again and again (the IRLS
/// loop) so that no sweep and no call allocates: the coefficient vectors of the Irons–Tuck
/// step and the per-block partial sums. All of size `ncoef × K` or smaller, never `N`.
#[derive(Default)]
pub(crate) struct DemeanScratch {
    /// `Σ_{i∈l} w_i x_ik` per level of every dimension, interleaved `[(offset_g + l)·K + k]`.
    wx: Vec<f64>,
    /// Interleaved coefficients `α[l·K + k]` and the two previous iterates.
    alpha: Vec<f64>,
    x0: Vec<f64>,
    gx: Vec<f64>,
    /// Group sums of one dimension.
    sums: Vec<f64>,
    /// Partial sums of each block over its level range.
    partial: Vec<Vec<f64>>,
    /// Partial sums of each block over its level ranges of every dimension at once (the
    /// right-hand sides `Σ w x`, accumulated for all dimensions in one pass).
    partial_all: Vec<Vec<f64>>,
}

/// Makes `v` `n` long, for a buffer whose every element is written before it is read: cut if
/// longer, grown within its capacity, else replaced by a new one from the allocator's zeroed
/// memory, whose pages are not touched until they are first written (the coefficient vectors
/// of a million-level dimension are written on both cores by [`update_levels`], and the group
/// sums of a grouped dimension not at all).
fn size_for_writing(v: &mut Vec<f64>, n: usize) {
    if n <= v.len() {
        v.truncate(n);
    } else if n <= v.capacity() {
        v.resize(n, 0.0);
    } else {
        *v = vec![0.0; n];
    }
}

/// The most fixed-effect dimensions whose right-hand sides are summed in one pass over the
/// rows ([`FixedEffects::weighted_sums_all`]); more take one pass each.
const MAX_DIMS: usize = 8;

/// Adds `v` into `acc` for consecutive rows of one level (a running sum, so that data sorted
/// by a fixed effect, e.g. by pair, do not serialise on one memory location), flushing into
/// `partial[(level − lo)·K + k]` when the level changes.
#[inline(always)]
fn run_add<const K: usize>(
    partial: &mut [f64],
    lo: usize,
    cur: &mut usize,
    acc: &mut [f64; K],
    code: usize,
    v: [f64; K],
) {
    if code != *cur {
        let d = &mut partial.as_chunks_mut::<K>().0[*cur - lo];
        for k in 0..K {
            d[k] += acc[k];
            acc[k] = 0.0;
        }
        *cur = code;
    }
    for k in 0..K {
        acc[k] += v[k];
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

/// `Σ_{i∈l} w_i` of every level of a grouped dimension (its `runs`) into `out`, the blocks on
/// all cores: each block sums the runs that begin in it, in row order from 0 and on past its
/// end while a run goes on, which is the order of one pass over the rows (`out[f(i)] += w_i`),
/// so the sums have its bits; then each level takes its run's sum.
fn grouped_weight_sums(codes: &[u32], w: &[f64], blocks: &[Block], runs: &Runs, out: &mut [f64]) {
    let n = codes.len();
    let per_block: Vec<Vec<f64>> = blocks
        .par_iter()
        .enumerate()
        .map(|(b, blk)| {
            let levels = &runs.levels[b];
            let mut sums = Vec::with_capacity(levels.len());
            let mut i = blk.lo;
            // A run that began in an earlier block was summed there: its place is kept.
            if runs.continued(b) {
                while i < blk.hi && codes[i] == levels[0] {
                    i += 1;
                }
                sums.push(0.0);
            }
            while i < blk.hi {
                let l = codes[i];
                let mut s = 0.0;
                while i < n && codes[i] == l {
                    s += w[i];
                    i += 1;
                }
                sums.push(s);
            }
            sums
        })
        .collect();
    out.par_iter_mut()
        .zip(&runs.first)
        .for_each(|(o, &(b, j))| *o = per_block[b as usize][j as usize]);
}

/// A coefficient has settled when one more sweep moved it by at most `tol`, absolutely or
/// relative to `0.1 + |α|` (the rule that ends the projections).
#[inline(always)]
fn settled(old: f64, new: f64, tol: f64) -> bool {
    let d = (old - new).abs();
    d <= tol || d / (0.1 + old.abs()) <= tol
}

/// Levels per task when a dimension's coefficients are updated on both cores.
const UPDATE_LEVELS: usize = 8192;

/// The end of one dimension's step of a sweep: `α[l] = (wx[l] − S_l) · iw[l]` for each of its
/// levels `l`, with `S_l = sum(l)` the group sums of the other dimensions' coefficients, the
/// previous coefficients written into `kept` when given (the Irons–Tuck iterates, with no
/// copy of their own). Returns whether every coefficient has [`settled`]. The levels are
/// independent, so many of them are updated on all cores, in stretches of `UPDATE_LEVELS`;
/// each value is the same expression either way.
fn update_levels<const K: usize>(
    alpha: &mut [f64],
    kept: Option<&mut [f64]>,
    wx: &[f64],
    inv_wsum: &[f64],
    tol: f64,
    sum: impl Fn(usize) -> [f64; K] + Sync,
) -> bool {
    let stretch = |first: usize, a: &mut [f64], mut kept: Option<&mut [f64]>| -> bool {
        let mut all = true;
        for (j, a) in a.as_chunks_mut::<K>().0.iter_mut().enumerate() {
            let l = first + j;
            let (s, iw) = (sum(l), inv_wsum[l]);
            let old = *a;
            for k in 0..K {
                a[k] = (wx[l * K + k] - s[k]) * iw;
            }
            // Tested only until one coefficient has not settled (as `all` would stop).
            if all {
                all = (0..K).all(|k| settled(old[k], a[k], tol));
            }
            if let Some(kept) = kept.as_deref_mut() {
                kept[j * K..(j + 1) * K].copy_from_slice(&old);
            }
        }
        all
    };
    if inv_wsum.len() < 2 * UPDATE_LEVELS {
        return stretch(0, alpha, kept);
    }
    let width = UPDATE_LEVELS * K;
    match kept {
        Some(kept) => alpha
            .par_chunks_mut(width)
            .zip(kept.par_chunks_mut(width))
            .enumerate()
            .map(|(c, (a, kp))| stretch(c * UPDATE_LEVELS, a, Some(kp)))
            .reduce(|| true, |x, y| x && y),
        None => alpha
            .par_chunks_mut(width)
            .enumerate()
            .map(|(c, a)| stretch(c * UPDATE_LEVELS, a, None))
            .reduce(|| true, |x, y| x && y),
    }
}

/// Which earlier iterate a sweep keeps: the coefficients before it go into `x0` or `gx` of
/// [`DemeanScratch`], or nowhere.
#[derive(Clone, Copy)]
enum Keep {
    Nothing,
    X0,
    Gx,
}

/// Adds `v`, the value of row `t` of a block, into `acc` along a run of one level of a grouped
/// dimension, storing the run's sum `0 + Σ` at `part[run]` and starting the next run where the
/// run ends (`ends`, the block's [`Runs::ends`]; the last is the block's length, which `t`
/// never reaches).
#[inline(always)]
fn run_add_grouped<const K: usize>(
    part: &mut [f64],
    ends: &[u32],
    run: &mut usize,
    acc: &mut [f64; K],
    t: usize,
    v: [f64; K],
) {
    if t == ends[*run] as usize {
        store_run::<K>(part, *run, acc);
        *acc = [0.0; K];
        *run += 1;
    }
    for k in 0..K {
        acc[k] += v[k];
    }
}

/// Stores a run's sum as `0 + Σ` at `part[run]` (as a run flushed into zeroed partial sums).
#[inline(always)]
fn store_run<const K: usize>(part: &mut [f64], run: usize, acc: &[f64; K]) {
    let d = &mut part.as_chunks_mut::<K>().0[run];
    for k in 0..K {
        d[k] = 0.0 + acc[k];
    }
}

/// One block of a dimension whose rows come grouped by level: the sum of `value(t)` over each
/// run (its rows up to `ends[run]`), stored as `0 + Σ` at `part[run]` in run order (then
/// placed at their levels by [`Runs::sum`]). `t` is the row's place in the block.
#[inline(always)]
fn block_run_sums<const K: usize>(
    part: &mut [f64],
    ends: &[u32],
    mut value: impl FnMut(usize) -> [f64; K],
) {
    let mut t = 0;
    for (run, &end) in ends.iter().enumerate() {
        let mut acc = [0.0; K];
        while t < end as usize {
            let v = value(t);
            for k in 0..K {
                acc[k] += v[k];
            }
            t += 1;
        }
        store_run::<K>(part, run, &acc);
    }
}

/// The codes of one dimension, where its coefficients start in the interleaved `α`, and its
/// runs when its rows come grouped ([`Layout::grouped`]).
#[derive(Clone, Copy)]
struct Other<'c> {
    codes: &'c [u32],
    offset: usize,
    runs: Option<&'c Runs>,
}

/// The `M` other dimensions of a pass in one block of rows, for the sums of their coefficients
/// row after row, `Σ_m α_m[f_m(t)]` in the order of `m`. When `G < M`, other `G` is a dimension
/// whose rows come grouped: its coefficient is looked up once per run, where the run begins
/// ([`Runs::ends`]), instead of once per row through its codes, which are not read (the same
/// numbers added in the same order, with a stream and a lookup less per row).
struct BlockOthers<'a, const K: usize, const M: usize, const G: usize> {
    alpha: &'a [[f64; K]],
    codes: [&'a [u32]; M],
    offset: [usize; M],
    /// Other `G`'s runs in this block: the level and the end of each.
    levels: &'a [u32],
    ends: &'a [u32],
    /// The run of the last row asked for, where it ends, and its coefficients.
    run: usize,
    end: usize,
    hoisted: [f64; K],
}

impl<'a, const K: usize, const M: usize, const G: usize> BlockOthers<'a, K, M, G> {
    /// Block `b` (rows `blk`) of `others`; other `G`, when `G < M`, has its runs.
    fn new(alpha: &'a [[f64; K]], others: &[Other<'a>; M], b: usize, blk: &Block) -> Self {
        let (mut levels, mut ends): (&[u32], &[u32]) = (&[], &[]);
        if G < M {
            debug_assert!(others[G].runs.is_some(), "other {G} is not grouped");
            if let Some(r) = others[G].runs {
                (levels, ends) = (&r.levels[b], &r.ends[b]);
            }
        }
        let offset = std::array::from_fn(|m| others[m].offset);
        let mut me = BlockOthers {
            alpha,
            codes: std::array::from_fn(|m| &others[m].codes[blk.lo..blk.hi]),
            offset,
            levels,
            ends,
            run: 0,
            end: 0,
            hoisted: [0.0; K],
        };
        if let (Some(&l), Some(&e)) = (levels.first(), ends.first()) {
            me.end = e as usize;
            me.hoisted = alpha[offset[G] + l as usize];
        }
        me
    }

    /// `Σ_m α_m[f_m(t)]` for row `t` of the block; rows are asked for in order from 0.
    #[inline(always)]
    fn sum(&mut self, t: usize) -> [f64; K] {
        if G < M && t == self.end {
            // Other G's next run begins.
            self.run += 1;
            if let (Some(&l), Some(&e)) = (self.levels.get(self.run), self.ends.get(self.run)) {
                self.end = e as usize;
                self.hoisted = self.alpha[self.offset[G] + l as usize];
            }
        }
        let mut s = [0.0; K];
        for m in 0..M {
            let a = if m == G {
                &self.hoisted
            } else {
                &self.alpha[self.offset[m] + self.codes[m][t] as usize]
            };
            for k in 0..K {
                s[k] += a[k];
            }
        }
        s
    }
}

/// `Σ_{o ∈ others} α_o[f_o(i)]`, for each of the `K` interleaved columns.
#[inline(always)]
fn others_sum<const K: usize>(others: &[Other], alpha: &[f64], i: usize) -> [f64; K] {
    let mut s = [0.0; K];
    let mut add = |o: &Other| {
        let a = &alpha[(o.offset + o.codes[i] as usize) * K..][..K];
        for k in 0..K {
            s[k] += a[k];
        }
    };
    match others {
        [a] => add(a),
        [a, b] => {
            add(a);
            add(b);
        }
        _ => others.iter().for_each(add),
    }
    s
}

impl<'a> FixedEffects<'a> {
    /// Prepares the projection for weights `w` (all positive, one per observation).
    pub(crate) fn new(factors: &'a [Factor], w: &'a [f64]) -> Self {
        Self::with_layout(factors, w, Layout::new(factors, w.len()))
    }

    /// As [`FixedEffects::new`], reusing the layout of an earlier projection on the same
    /// factors (rebuilt if it was made for another number of observations): only the weight
    /// sums per level are computed, one pass over each dimension's codes.
    pub(crate) fn with_layout(factors: &'a [Factor], w: &'a [f64], layout: Layout) -> Self {
        let layout = if layout.n == w.len() && layout.runs.len() == factors.len() {
            layout
        } else {
            Layout::new(factors, w.len())
        };
        // `1 / Σ_{i∈l} w_i` of every level of every dimension, each dimension into its part.
        let mut inv_wsum = vec![0.0; *layout.offsets.last().unwrap_or(&0)];
        cut(&mut inv_wsum, factors.iter().map(Factor::nlevels))
            .into_par_iter()
            .zip(factors)
            .zip(&layout.grouped)
            .for_each(|((out, f), runs)| {
                match runs {
                    Some(runs) => grouped_weight_sums(&f.codes, w, &layout.blocks, runs, out),
                    None => {
                        // In row order from 0, one level after another as the rows come.
                        for (&c, &wi) in f.codes.iter().zip(w) {
                            out[c as usize] += wi;
                        }
                    }
                }
                out.iter_mut()
                    .for_each(|s| *s = if *s > 0.0 { 1.0 / *s } else { 0.0 });
            });
        FixedEffects {
            factors,
            w,
            inv_wsum,
            layout,
        }
    }

    /// The layout, for the next projection on the same factors with other weights.
    pub(crate) fn into_layout(self) -> Layout {
        self.layout
    }

    /// Total number of coefficients (levels over all dimensions).
    pub(crate) fn ncoef(&self) -> usize {
        *self.layout.offsets.last().unwrap_or(&0)
    }

    /// Sizes the scratch buffers for `K` columns (no allocation once they are large enough).
    ///
    /// Nothing is cleared: every buffer is written before it is read (the coefficients are
    /// interleaved in, `x0` and `gx` written by the sweep that keeps them, each pass zeroes
    /// the partial and group sums it adds into), so a call of the IRLS loop only changes
    /// lengths. The per-block buffers are sized in parallel, so that their first touch (page
    /// faults) is shared by the cores; the others come untouched ([`size_for_writing`]).
    fn prepare<const K: usize>(&self, s: &mut DemeanScratch) {
        let nc = self.ncoef() * K;
        for v in [&mut s.wx, &mut s.alpha, &mut s.x0, &mut s.gx] {
            size_for_writing(v, nc);
        }
        let widest_dim = self.factors.iter().map(|f| f.nlevels()).max().unwrap_or(0);
        size_for_writing(&mut s.sums, widest_dim * K);
        let nd = self.factors.len();
        let layout = &self.layout;
        let widest = |b: usize| (0..nd).map(|g| layout.width(g, b)).max().unwrap_or(0);
        s.partial.resize_with(layout.blocks.len(), Vec::new);
        s.partial
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, p)| p.resize(widest(b) * K, 0.0));
        // The one-pass right-hand sides' partial sums, used up to `MAX_DIMS` dimensions.
        if self.factors.len() > MAX_DIMS {
            s.partial_all.clear();
            return;
        }
        let total = |b: usize| (0..nd).map(|g| layout.width(g, b)).sum::<usize>();
        s.partial_all.resize_with(layout.blocks.len(), Vec::new);
        s.partial_all
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, p)| p.resize(total(b) * K, 0.0));
    }

    /// The right-hand sides `wx[(offset_g + l)·K + k] = Σ_{i∈l} w_i x_ik` of every dimension
    /// `g`, in one pass over the rows for all dimensions (the weights and columns are read
    /// once, not once per dimension). Each dimension's sums are formed exactly as
    /// [`FixedEffects::accumulate`] forms them — a running sum along runs of a level, flushed
    /// into its block's partial sums, the blocks added in block order — so the numbers are the
    /// same to the bit.
    fn weighted_sums_all<const K: usize>(
        &self,
        xs: &[&[f64]],
        partial_all: &mut [Vec<f64>],
        wx: &mut [f64],
    ) {
        let nd = self.factors.len();
        debug_assert!(nd <= MAX_DIMS);
        let (factors, w, layout) = (self.factors, self.w, &self.layout);
        let grouped: Vec<bool> = layout.grouped.iter().map(Option::is_some).collect();
        partial_all
            .par_iter_mut()
            .zip(layout.blocks.par_iter())
            .enumerate()
            .for_each(|(b, (pb, blk))| {
                // Each dimension's partial sums in this block (over its level range, or one
                // per run when grouped), one after the other in `pb`.
                let mut parts = cut(pb, (0..nd).map(|g| layout.width(g, b) * K));
                for (part, &grouped) in parts.iter_mut().zip(&grouped) {
                    if !grouped {
                        part.fill(0.0);
                    }
                }
                let codes: Vec<&[u32]> = factors.iter().map(|f| &f.codes[blk.lo..blk.hi]).collect();
                // A grouped dimension's runs in this block, by where each ends.
                let ends: Vec<&[u32]> = layout
                    .grouped
                    .iter()
                    .map(|r| r.as_ref().map_or(&[][..], |r| &r.ends[b]))
                    .collect();
                let mut cur = [0usize; MAX_DIMS];
                let mut run = [0usize; MAX_DIMS];
                for g in 0..nd {
                    cur[g] = blk.levels[g].0;
                }
                let mut acc = [[0.0; K]; MAX_DIMS];
                for (t, i) in (blk.lo..blk.hi).enumerate() {
                    let mut v = [0.0; K];
                    for k in 0..K {
                        v[k] = w[i] * xs[k][i];
                    }
                    for (g, part) in parts.iter_mut().enumerate() {
                        if grouped[g] {
                            run_add_grouped::<K>(part, ends[g], &mut run[g], &mut acc[g], t, v);
                        } else {
                            let (lo, c) = (blk.levels[g].0, codes[g][t] as usize);
                            run_add::<K>(part, lo, &mut cur[g], &mut acc[g], c, v);
                        }
                    }
                }
                for (g, part) in parts.iter_mut().enumerate() {
                    if grouped[g] {
                        if blk.hi > blk.lo {
                            store_run::<K>(part, run[g], &acc[g]);
                        }
                    } else {
                        run_flush::<K>(part, blk.levels[g].0, cur[g], &acc[g]);
                    }
                }
            });
        for g in 0..nd {
            let (off, nl) = (layout.offsets[g], self.factors[g].nlevels());
            let sums = &mut wx[off * K..(off + nl) * K];
            // Dimension g's partial sums in block b: after those of the dimensions before it.
            fn part<'p, const K: usize>(
                layout: &Layout,
                g: usize,
                b: usize,
                p: &'p [f64],
            ) -> &'p [f64] {
                let before: usize = (0..g).map(|h| layout.width(h, b)).sum();
                &p[before * K..(before + layout.width(g, b)) * K]
            }
            match &layout.grouped[g] {
                Some(runs) => runs.place::<K>(|b| part::<K>(layout, g, b, &partial_all[b]), sums),
                None => {
                    let parts = partial_all
                        .iter()
                        .enumerate()
                        .map(|(b, p)| part::<K>(layout, g, b, p));
                    self.reduce::<K>(g, parts, sums)
                }
            }
        }
    }

    /// The right-hand sides `Σ_{i∈l} w_i x_ik`, one pass over the rows per dimension (for
    /// more dimensions than [`FixedEffects::weighted_sums_all`] takes).
    fn weighted_sums_each<const K: usize>(&self, xs: &[&[f64]], s: &mut DemeanScratch) {
        for g in 0..self.factors.len() {
            let w = self.w;
            let (lo, hi) = (self.layout.offsets[g], self.layout.offsets[g + 1]);
            self.accumulate::<K>(g, &mut s.partial, &mut s.sums, |i| {
                let mut v = [0.0; K];
                for k in 0..K {
                    v[k] = w[i] * xs[k][i];
                }
                v
            });
            s.wx[lo * K..hi * K].copy_from_slice(&s.sums[..(hi - lo) * K]);
        }
    }

    /// Accumulates `value(i)` by the levels of dimension `g`: every block of rows in parallel
    /// into its partial sums, then the blocks added in block order into `sums` (so the result
    /// does not depend on the number of threads).
    fn accumulate<const K: usize>(
        &self,
        g: usize,
        partial: &mut [Vec<f64>],
        sums: &mut [f64],
        value: impl Fn(usize) -> [f64; K] + Sync,
    ) {
        let codes = &self.factors[g].codes;
        if let Some(runs) = &self.layout.grouped[g] {
            partial
                .par_iter_mut()
                .zip(self.layout.blocks.par_iter())
                .zip(&runs.ends)
                .for_each(|((pb, blk), ends)| {
                    block_run_sums::<K>(pb, ends, |t| value(blk.lo + t));
                });
            let partial: &[Vec<f64>] = partial;
            return runs.place::<K>(|b| partial[b].as_slice(), sums);
        }
        partial
            .par_iter_mut()
            .zip(self.layout.blocks.par_iter())
            .for_each(|(pb, blk)| {
                let (lo, hi) = blk.levels[g];
                pb[..(hi - lo) * K].fill(0.0);
                let mut cur = lo;
                let mut acc = [0.0; K];
                for (i, &c) in (blk.lo..blk.hi).zip(&codes[blk.lo..blk.hi]) {
                    run_add::<K>(pb, lo, &mut cur, &mut acc, c as usize, value(i));
                }
                run_flush::<K>(pb, lo, cur, &acc);
            });
        self.reduce::<K>(g, partial.iter().map(|p| p.as_slice()), sums);
    }

    /// Adds the blocks' partial sums of dimension `g` (`parts` yields each block's sums over
    /// its level range) into `sums`, block by block: every level's sum starts from 0 and
    /// takes the blocks in order.
    fn reduce<'p, const K: usize>(
        &self,
        g: usize,
        parts: impl Iterator<Item = &'p [f64]>,
        sums: &mut [f64],
    ) {
        let nl = self.factors[g].nlevels();
        let sums = &mut sums[..nl * K];
        sums.fill(0.0);
        for (blk, p) in self.layout.blocks.iter().zip(parts) {
            let (lo, hi) = blk.levels[g];
            for (d, v) in sums[lo * K..hi * K].iter_mut().zip(&p[..(hi - lo) * K]) {
                *d += v;
            }
        }
    }

    /// The sweep's pass for dimension `g` with `M` other dimensions: group sums, by the levels
    /// of `g`, of `w_i Σ_{h≠g} α_h[f_h(i)]`. The hot loop of the fit, written out for small `M`
    /// so that every stream is a slice walked in step. Levels in runs (data sorted by this
    /// dimension) are summed in a register and stored once per run. A grouped dimension
    /// ([`Layout::grouped`]) leaves its sums in the blocks' run sums `partial`, not in `sums`.
    fn other_sums<const K: usize, const M: usize, const G: usize>(
        &self,
        g: usize,
        others: [Other; M],
        alpha: &[f64],
        partial: &mut [Vec<f64>],
        sums: &mut [f64],
    ) {
        if let Some(runs) = &self.layout.grouped[g] {
            return self.other_sums_grouped::<K, M, G>(runs, others, alpha, partial);
        }
        let runs = self.layout.runs[g];
        let (codes, w) = (&self.factors[g].codes, self.w);
        // A level's K coefficients as one array: one bounds check a lookup.
        let alpha: &[[f64; K]] = alpha.as_chunks::<K>().0;
        partial
            .par_iter_mut()
            .zip(self.layout.blocks.par_iter())
            .enumerate()
            .for_each(|(b, (pb, blk))| {
                let (lo, hi) = blk.levels[g];
                let pb = &mut pb[..(hi - lo) * K];
                pb.fill(0.0);
                let cg = &codes[blk.lo..blk.hi];
                let wb = &w[blk.lo..blk.hi];
                let mut others = BlockOthers::<K, M, G>::new(alpha, &others, b, blk);
                // `w_i Σ_{h≠g} α_h[f_h(i)]` for row t of the block.
                let mut term = |t: usize, wi: f64| {
                    let s = others.sum(t);
                    let mut v = [0.0; K];
                    for k in 0..K {
                        v[k] = wi * s[k];
                    }
                    v
                };
                let mut cur = lo;
                let mut acc = [0.0; K];
                if runs {
                    for (t, (&c, &wi)) in cg.iter().zip(wb).enumerate() {
                        run_add::<K>(pb, lo, &mut cur, &mut acc, c as usize, term(t, wi));
                    }
                } else {
                    let pb: &mut [[f64; K]] = pb.as_chunks_mut::<K>().0;
                    for (t, (&c, &wi)) in cg.iter().zip(wb).enumerate() {
                        let v = term(t, wi);
                        let d = &mut pb[c as usize - lo];
                        for k in 0..K {
                            d[k] += v[k];
                        }
                    }
                }
                if runs {
                    run_flush::<K>(pb, lo, cur, &acc);
                }
            });
        self.reduce::<K>(g, partial.iter().map(|p| p.as_slice()), sums);
    }

    /// [`FixedEffects::other_sums`] for a dimension whose rows come grouped by level, to the
    /// same bits with far less memory traffic when it has many levels: each block sums its runs
    /// in parallel into its partial sums, one entry per run (`0 + Σ` over the run, as a run is
    /// flushed into zeroed partial sums), and the sweep gathers each level's sum from them
    /// ([`Runs::sum`], in [`update_levels`]) instead of placing them in `sums`.
    fn other_sums_grouped<const K: usize, const M: usize, const G: usize>(
        &self,
        runs: &Runs,
        others: [Other; M],
        alpha: &[f64],
        partial: &mut [Vec<f64>],
    ) {
        let w = self.w;
        let alpha: &[[f64; K]] = alpha.as_chunks::<K>().0;
        partial
            .par_iter_mut()
            .zip(self.layout.blocks.par_iter())
            .zip(&runs.ends)
            .enumerate()
            .for_each(|(b, ((pb, blk), ends))| {
                let wb = &w[blk.lo..blk.hi];
                let mut others = BlockOthers::<K, M, G>::new(alpha, &others, b, blk);
                // `w_t Σ_{h≠g} α_h[f_h(t)]` for row t of the block.
                block_run_sums::<K>(pb, ends, |t| {
                    let s = others.sum(t);
                    let mut v = [0.0; K];
                    for k in 0..K {
                        v[k] = wb[t] * s[k];
                    }
                    v
                });
            });
    }

    /// One Gauss–Seidel sweep in coefficient space: for each dimension `g` in turn,
    /// `α_g[l] = (Σ_{i∈l} w_i x_i − Σ_{i∈l} w_i Σ_{h≠g} α_h[f_h(i)]) / Σ_{i∈l} w_i`, the exact
    /// minimiser given the other dimensions. Each dimension costs one pass over the codes and
    /// weights; the residuals `x − Dα` are never stored (fixest's formulation). The
    /// coefficients before the sweep go into the iterate `keep` names; returns whether every
    /// coefficient has [`settled`] at `tol`.
    fn sweep<const K: usize>(&self, s: &mut DemeanScratch, keep: Keep, tol: f64) -> bool {
        let DemeanScratch {
            wx,
            alpha,
            x0,
            gx,
            sums,
            partial,
            ..
        } = s;
        let mut kept: Option<&mut [f64]> = match keep {
            Keep::Nothing => None,
            Keep::X0 => Some(x0),
            Keep::Gx => Some(gx),
        };
        let mut all_settled = true;
        for g in 0..self.factors.len() {
            let in_runs = self.pass::<K>(g, alpha, partial, sums);
            let (lo, hi) = (self.layout.offsets[g], self.layout.offsets[g + 1]);
            let (a, wx, iw) = (
                &mut alpha[lo * K..hi * K],
                &wx[lo * K..hi * K],
                &self.inv_wsum[lo..hi],
            );
            let kept = kept.as_deref_mut().map(|k| &mut k[lo * K..hi * K]);
            all_settled &= match in_runs {
                Some(runs) => {
                    let partial: &[Vec<f64>] = partial;
                    let part = |b: usize| partial[b].as_slice();
                    update_levels::<K>(a, kept, wx, iw, tol, |l| runs.sum::<K>(&part, l))
                }
                None => {
                    let sums: &[f64] = sums;
                    update_levels::<K>(a, kept, wx, iw, tol, |l| sums.as_chunks::<K>().0[l])
                }
            };
        }
        all_settled
    }

    /// Dimension `g`'s pass of a sweep: by its levels, the group sums of
    /// `w_i Σ_{h≠g} α_h[f_h(i)]`. They are left in `sums`, or, for a grouped dimension with at
    /// most three others, as the blocks' run sums in `partial` (`other_sums_grouped`): then
    /// its [`Runs`] are returned, for [`Runs::sum`] to gather them.
    fn pass<const K: usize>(
        &self,
        g: usize,
        alpha: &[f64],
        partial: &mut [Vec<f64>],
        sums: &mut [f64],
    ) -> Option<&Runs> {
        let nd = self.factors.len();
        // The other dimensions, in order; on the stack up to eight (no allocation a pass).
        let mut others = [Other {
            codes: &[],
            offset: 0,
            runs: None,
        }; 8];
        let mut extra: Vec<Other> = Vec::new();
        let mut m = 0;
        for h in (0..nd).filter(|&h| h != g) {
            let o = Other {
                codes: &self.factors[h].codes,
                offset: self.layout.offsets[h],
                runs: self.layout.grouped[h].as_ref(),
            };
            if m < others.len() {
                others[m] = o;
                m += 1;
            } else {
                extra.push(o);
            }
        }
        let os: &[Other] = if extra.is_empty() {
            &others[..m]
        } else {
            extra.splice(0..0, others[..m].iter().copied());
            &extra
        };
        // The first other dimension whose rows come grouped, if any: its coefficients are
        // looked up once per run ([`BlockOthers`]).
        let grouped = os.iter().position(|o| o.runs.is_some());
        let (p, s) = (partial, sums);
        match (os, grouped) {
            (&[a], Some(0)) => self.other_sums::<K, 1, 0>(g, [a], alpha, p, s),
            (&[a], _) => self.other_sums::<K, 1, 1>(g, [a], alpha, p, s),
            (&[a, b], Some(0)) => self.other_sums::<K, 2, 0>(g, [a, b], alpha, p, s),
            (&[a, b], Some(1)) => self.other_sums::<K, 2, 1>(g, [a, b], alpha, p, s),
            (&[a, b], _) => self.other_sums::<K, 2, 2>(g, [a, b], alpha, p, s),
            (&[a, b, c], Some(0)) => self.other_sums::<K, 3, 0>(g, [a, b, c], alpha, p, s),
            (&[a, b, c], Some(1)) => self.other_sums::<K, 3, 1>(g, [a, b, c], alpha, p, s),
            (&[a, b, c], Some(2)) => self.other_sums::<K, 3, 2>(g, [a, b, c], alpha, p, s),
            (&[a, b, c], _) => self.other_sums::<K, 3, 3>(g, [a, b, c], alpha, p, s),
            _ => {
                let w = self.w;
                self.accumulate::<K>(g, p, s, |i| {
                    let s = others_sum::<K>(os, alpha, i);
                    let mut v = [0.0; K];
                    for k in 0..K {
                        v[k] = w[i] * s[k];
                    }
                    v
                });
                return None;
            }
        }
        self.layout.grouped[g].as_ref()
    }

    /// Writes `x_k − Dα_k` into `outs[k]`, one parallel pass over the rows.
    fn residuals<const K: usize>(&self, xs: &[&[f64]], alpha: &[f64], outs: &mut [Vec<f64>]) {
        let n = self.w.len();
        let mut parts: Vec<Vec<&mut [f64]>> = (0..self.layout.blocks.len())
            .map(|_| Vec::with_capacity(K))
            .collect();
        for o in outs.iter_mut() {
            // Every row is written below: a vector of the right length is reused as it is
            // (no zero-fill of N values at every call of the IRLS loop); a new one comes from
            // the allocator's zeroed memory, its pages first touched by the pass below, on
            // all cores.
            size_for_writing(o, n);
            for (b, c) in o.chunks_mut(BLOCK_ROWS).enumerate() {
                parts[b].push(c);
            }
        }
        let (factors, offsets) = (self.factors, &self.layout.offsets);
        let alpha: &[[f64; K]] = alpha.as_chunks::<K>().0;
        parts
            .into_par_iter()
            .zip(self.layout.blocks.par_iter())
            .for_each(|(mut cs, blk)| {
                if cs.len() < K {
                    return; // an empty block
                }
                for (t, i) in (blk.lo..blk.hi).enumerate() {
                    let mut s = [0.0; K];
                    for (f, &off) in factors.iter().zip(offsets.iter()) {
                        let a = &alpha[off + f.codes[i] as usize];
                        for k in 0..K {
                            s[k] += a[k];
                        }
                    }
                    for k in 0..K {
                        cs[k][t] = xs[k][i] - s[k];
                    }
                }
            });
    }

    /// Demeans `x`, starting from (and updating) the coefficients `alpha` (length
    /// [`FixedEffects::ncoef`]; zeros for a cold start). Returns `x − Dα` and the number of
    /// sweeps used.
    pub(crate) fn demean(
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
    pub(crate) fn demean_columns(
        &self,
        xs: &[&[f64]],
        alphas: &mut [Vec<f64>],
        opts: &DemeanOptions,
    ) -> Result<(Vec<Vec<f64>>, usize)> {
        let mut outs = vec![Vec::new(); xs.len()];
        let sweeps =
            self.demean_into(xs, alphas, &mut outs, opts, &mut DemeanScratch::default())?;
        Ok((outs, sweeps))
    }

    /// As [`FixedEffects::demean_columns`], writing the residuals into `outs` (one vector per
    /// column, resized to N; their memory is reused) and keeping every other buffer in
    /// `scratch`: a caller that demeans repeatedly allocates nothing after the first call.
    pub(crate) fn demean_into(
        &self,
        xs: &[&[f64]],
        alphas: &mut [Vec<f64>],
        outs: &mut [Vec<f64>],
        opts: &DemeanOptions,
        scratch: &mut DemeanScratch,
    ) -> Result<usize> {
        let n = self.w.len();
        let nc = self.ncoef();
        if xs.iter().any(|x| x.len() != n)
            || alphas.iter().any(|a| a.len() != nc)
            || alphas.len() != xs.len()
            || outs.len() != xs.len()
        {
            return Err(Error::invalid(
                "demeaning",
                "internal: a column or coefficient vector has the wrong length",
            ));
        }
        let mut sweeps = 0;
        for ((xg, ag), og) in xs
            .chunks(MAX_FUSED)
            .zip(alphas.chunks_mut(MAX_FUSED))
            .zip(outs.chunks_mut(MAX_FUSED))
        {
            let s = match xg.len() {
                1 => self.demean_fused::<1>(xg, ag, og, opts, scratch)?,
                2 => self.demean_fused::<2>(xg, ag, og, opts, scratch)?,
                3 => self.demean_fused::<3>(xg, ag, og, opts, scratch)?,
                _ => self.demean_fused::<4>(xg, ag, og, opts, scratch)?,
            };
            sweeps = sweeps.max(s);
        }
        Ok(sweeps)
    }

    fn demean_fused<const K: usize>(
        &self,
        xs: &[&[f64]],
        alphas: &mut [Vec<f64>],
        outs: &mut [Vec<f64>],
        opts: &DemeanOptions,
        s: &mut DemeanScratch,
    ) -> Result<usize> {
        self.prepare::<K>(s);
        // Interleave the coefficients: alpha[l·K + k].
        for (k, a) in alphas.iter().enumerate() {
            for (l, &v) in a.iter().enumerate() {
                s.alpha[l * K + k] = v;
            }
        }
        let nd = self.factors.len();
        // Σ_{i∈l} w_i x_i for every level of every dimension: fixed during the sweeps.
        if nd <= MAX_DIMS {
            self.weighted_sums_all::<K>(xs, &mut s.partial_all, &mut s.wx);
        } else {
            self.weighted_sums_each::<K>(xs, s);
        }
        let finish = |s: &DemeanScratch, alphas: &mut [Vec<f64>], outs: &mut [Vec<f64>]| {
            for (k, a) in alphas.iter_mut().enumerate() {
                for (l, v) in a.iter_mut().enumerate() {
                    *v = s.alpha[l * K + k];
                }
            }
            self.residuals::<K>(xs, &s.alpha, outs);
        };
        if nd <= 1 {
            self.sweep::<K>(s, Keep::Nothing, opts.tol);
            finish(s, alphas, outs);
            return Ok(nd);
        }
        let mut sweeps = 0;
        while sweeps < opts.max_iter {
            // α → F(α), α kept in x0
            let settled = self.sweep::<K>(s, Keep::X0, opts.tol);
            sweeps += 1;
            if settled {
                finish(s, alphas, outs);
                return Ok(sweeps);
            }
            // F(α) → F²(α), F(α) kept in gx
            let settled = self.sweep::<K>(s, Keep::Gx, opts.tol);
            sweeps += 1;
            if settled {
                finish(s, alphas, outs);
                return Ok(sweeps);
            }
            // Irons–Tuck extrapolation, one coefficient per column.
            let (mut vprod, mut ssq) = ([0.0; K], [0.0; K]);
            for ((a0, a1), a2) in
                s.x0.chunks_exact(K)
                    .zip(s.gx.chunks_exact(K))
                    .zip(s.alpha.chunks_exact(K))
            {
                for k in 0..K {
                    let d1 = a2[k] - a1[k];
                    let d2 = a2[k] - 2.0 * a1[k] + a0[k];
                    vprod[k] += d1 * d2;
                    ssq[k] += d2 * d2;
                }
            }
            let mut coef = [0.0; K];
            for k in 0..K {
                if ssq[k] > 0.0 && vprod[k].is_finite() && ssq[k].is_finite() {
                    coef[k] = vprod[k] / ssq[k];
                }
            }
            for (a2, a1) in s.alpha.chunks_exact_mut(K).zip(s.gx.chunks_exact(K)) {
                for k in 0..K {
                    a2[k] -= coef[k] * (a2[k] - a1[k]);
                }
            }
        }
        // The residual where it stopped: the largest change of one more sweep, by the rule of
        // `settled` (absolute, or relative to 0.1 + |α|).
        self.sweep::<K>(s, Keep::X0, opts.tol);
        let residual =
            s.x0.iter()
                .zip(&s.alpha)
                .map(|(&p, &q)| {
                    let d = (p - q).abs();
                    d.min(d / (0.1 + p.abs()))
                })
                .fold(0.0, f64::max);
        Err(Error::not_converged(
            Solver::Demeaning,
            sweeps,
            residual,
            opts.tol,
            None,
            "the fixed effects may be poorly connected — try fewer fixed-effect dimensions or a looser inner tolerance (`demean.tol`)",
        ))
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

    /// The right-hand sides of all dimensions in one pass are those of one pass per
    /// dimension, bit for bit.
    #[test]
    fn weighted_sums_in_one_pass_are_bitwise_those_per_dimension() {
        let n = 2 * BLOCK_ROWS + 999;
        let a: Vec<u32> = (0..n).map(|i| (i / 300) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i % 89) as u32).collect();
        let c: Vec<u32> = (0..n).map(|i| ((i * 17) % 701) as u32).collect();
        let f = [factor("a", a), factor("b", b), factor("c", c)];
        let w: Vec<f64> = (0..n).map(|i| 0.3 + (i % 13) as f64 / 7.0).collect();
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1009) as f64 / 3.0).collect();
        let y: Vec<f64> = (0..n).map(|i| (i as f64).sqrt()).collect();
        let fe = FixedEffects::new(&f, &w);
        let xs: [&[f64]; 2] = [&x, &y];
        let (mut one, mut each) = (DemeanScratch::default(), DemeanScratch::default());
        fe.prepare::<2>(&mut one);
        fe.prepare::<2>(&mut each);
        fe.weighted_sums_all::<2>(&xs, &mut one.partial_all, &mut one.wx);
        fe.weighted_sums_each::<2>(&xs, &mut each);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one.wx), bits(&each.wx));
    }

    /// More dimensions than one pass takes (`MAX_DIMS`): the right-hand sides come one
    /// dimension a pass, no one-pass buffers are kept, and the residual satisfies every
    /// dimension's normal equations `Σ_{i∈l} w_i r_i = 0`.
    #[test]
    fn more_dimensions_than_one_pass_takes() {
        let n = 5000;
        let f: Vec<Factor> = (0..MAX_DIMS + 1)
            .map(|g| {
                let m = 3 + 2 * g;
                factor(
                    &format!("f{g}"),
                    (0..n).map(|i| ((i * (g + 1) / 7) % m) as u32).collect(),
                )
            })
            .collect();
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 11) as f64 / 5.0).collect();
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1009) as f64 / 10.0).collect();
        let fe = FixedEffects::new(&f, &w);
        let mut alphas = vec![vec![0.0; fe.ncoef()]];
        let mut outs = vec![Vec::new()];
        let mut scratch = DemeanScratch::default();
        let opts = DemeanOptions {
            tol: 1e-12,
            max_iter: 100_000,
        };
        fe.demean_into(&[&x], &mut alphas, &mut outs, &opts, &mut scratch)
            .unwrap();
        assert!(scratch.partial_all.is_empty());
        for fg in &f {
            let mut sums = vec![0.0; fg.nlevels()];
            for ((&c, &wi), &r) in fg.codes.iter().zip(&w).zip(&outs[0]) {
                sums[c as usize] += wi * r;
            }
            let worst = sums.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            assert!(worst < 1e-6, "{}: {worst}", fg.name);
        }
    }

    /// The passes for a dimension whose rows come grouped by level (the sweep's, and the
    /// right-hand sides' in one pass and a pass each), and the sweep's passes of the other
    /// dimensions, which look its coefficients up once per run, give the general passes' sums
    /// bit for bit: levels not in sorted order, a run longer than a block, runs across block
    /// ends, single rows, one and two other dimensions, the grouped one first, in the middle
    /// and last, one and two columns. A dimension with a level that has no rows, or a level in
    /// two runs, is not taken as grouped.
    #[test]
    fn grouped_pass_is_bitwise_the_general_pass() {
        let n = 3 * BLOCK_ROWS + 4321;
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        let mut draw = |m: u64| rng.random_range(0..m);
        // A run of 70,000 rows spans a whole block, then runs of 1-40 rows.
        let mut runs = vec![70_000usize];
        let mut total = 70_000;
        while total < n {
            let run = (1 + draw(40) as usize).min(n - total);
            runs.push(run);
            total += run;
        }
        // Each run its own level, the levels shuffled (not in sorted order).
        let mut ids: Vec<u32> = (0..runs.len() as u32).collect();
        for i in (1..ids.len()).rev() {
            ids.swap(i, draw(i as u64 + 1) as usize);
        }
        let codes: Vec<u32> = runs
            .iter()
            .zip(&ids)
            .flat_map(|(&r, &id)| std::iter::repeat_n(id, r))
            .collect();
        let a = factor("a", codes.clone());
        let b = factor("b", (0..n).map(|_| draw(97) as u32).collect());
        let c = factor("c", (0..n).map(|_| draw(1500) as u32).collect());
        let w: Vec<f64> = (0..n).map(|_| 0.1 + draw(1000) as f64 / 97.0).collect();
        let mut gap = factor("gap", codes.iter().map(|&l| l + 1).collect());
        gap.labels.push("no rows".into());
        let mut twice = codes.clone();
        twice[n - 1] = twice[0];
        for f in [gap, factor("twice", twice)] {
            let fe = FixedEffects::new(std::slice::from_ref(&f), &w);
            assert!(fe.layout.grouped[0].is_none(), "{}", f.name);
        }
        for (dims, ga) in [
            (vec![a.clone(), b.clone()], 0),
            (vec![a.clone(), b.clone(), c.clone()], 0),
            (vec![b.clone(), a.clone(), c.clone()], 1),
            (vec![b.clone(), c.clone(), a.clone()], 2),
        ] {
            let mut fe = FixedEffects::new(&dims, &w);
            let grouped: Vec<bool> = fe.layout.grouped.iter().map(Option::is_some).collect();
            assert_eq!(
                grouped,
                (0..dims.len()).map(|g| g == ga).collect::<Vec<_>>()
            );
            // The grouped dimension's weight sums, block by block, have the bits of one pass.
            let mut wsum = vec![0.0; dims[ga].nlevels()];
            for (&c, &wi) in dims[ga].codes.iter().zip(&w) {
                wsum[c as usize] += wi;
            }
            let inv: Vec<u64> = wsum.iter().map(|&s| (1.0 / s).to_bits()).collect();
            let at = fe.layout.offsets[ga];
            let got: Vec<u64> = fe.inv_wsum[at..at + wsum.len()]
                .iter()
                .map(|x| x.to_bits())
                .collect();
            assert_eq!(got, inv, "{} dimensions: weight sums", dims.len());
            let nc = fe.ncoef();
            let alpha: Vec<f64> = (0..nc * 2)
                .map(|_| draw(2001) as f64 / 100.0 - 10.0)
                .collect();
            // Every dimension's pass of a sweep, its group sums gathered as the sweep gathers
            // them (a grouped pass leaves run sums in the blocks' partial sums).
            let run = |fe: &FixedEffects, k2: bool| {
                let mut s = DemeanScratch::default();
                let k = if k2 { 2 } else { 1 };
                if k2 {
                    fe.prepare::<2>(&mut s);
                } else {
                    fe.prepare::<1>(&mut s);
                }
                let mut bits = Vec::new();
                for g in 0..dims.len() {
                    s.sums.fill(f64::NAN);
                    let (p, sums) = (&mut s.partial, &mut s.sums);
                    let in_runs = if k2 {
                        fe.pass::<2>(g, &alpha, p, sums)
                    } else {
                        fe.pass::<1>(g, &alpha[..nc], p, sums)
                    };
                    let nl = dims[g].nlevels();
                    if let Some(runs) = in_runs {
                        let part = |b: usize| s.partial[b].as_slice();
                        let gather = |l: usize| -> Vec<f64> {
                            if k2 {
                                runs.sum::<2>(&part, l).to_vec()
                            } else {
                                runs.sum::<1>(&part, l).to_vec()
                            }
                        };
                        s.sums[..nl * k]
                            .copy_from_slice(&(0..nl).flat_map(gather).collect::<Vec<_>>());
                    }
                    bits.extend(s.sums[..nl * k].iter().map(|x| x.to_bits()));
                }
                bits
            };
            // The right-hand sides, in one pass for all dimensions and one pass each (the
            // latter through `accumulate`).
            let xs: Vec<Vec<f64>> = (0..2)
                .map(|_| (0..n).map(|_| draw(5000) as f64 / 7.0 - 300.0).collect())
                .collect();
            let rhs = |fe: &FixedEffects, k2: bool, one_pass: bool| {
                let mut s = DemeanScratch::default();
                let cols: Vec<&[f64]> = xs.iter().map(|x| x.as_slice()).collect();
                match (k2, one_pass) {
                    (true, true) => {
                        fe.prepare::<2>(&mut s);
                        fe.weighted_sums_all::<2>(&cols, &mut s.partial_all, &mut s.wx);
                    }
                    (true, false) => {
                        fe.prepare::<2>(&mut s);
                        fe.weighted_sums_each::<2>(&cols, &mut s);
                    }
                    (false, true) => {
                        fe.prepare::<1>(&mut s);
                        fe.weighted_sums_all::<1>(&cols[..1], &mut s.partial_all, &mut s.wx);
                    }
                    (false, false) => {
                        fe.prepare::<1>(&mut s);
                        fe.weighted_sums_each::<1>(&cols[..1], &mut s);
                    }
                }
                s.wx.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            };
            for k2 in [false, true] {
                let fast = run(&fe, k2);
                let fast_rhs = [rhs(&fe, k2, true), rhs(&fe, k2, false)];
                let runs = fe.layout.grouped[ga].take();
                let general = run(&fe, k2);
                let general_rhs = [rhs(&fe, k2, true), rhs(&fe, k2, false)];
                fe.layout.grouped[ga] = runs;
                let what = format!(
                    "{} dimensions, the grouped one at {ga}, K = {}",
                    dims.len(),
                    1 + k2 as usize
                );
                assert_eq!(fast, general, "{what}");
                assert_eq!(fast_rhs[0], general_rhs[0], "{what}: one pass");
                assert_eq!(fast_rhs[1], general_rhs[1], "{what}: a pass each");
                assert_eq!(fast_rhs[0], fast_rhs[1], "{what}: one pass and a pass each");
            }
        }
    }

    /// One dimension's update on both cores gives the bits of the plain loop it replaced
    /// (`α = (wx − S) · iw`, then the copy of the old `α` and the convergence test), for
    /// sizes on both sides of the parallel threshold, with and without keeping the old `α`,
    /// settled and not.
    #[test]
    fn update_levels_is_the_plain_loop() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        for nl in [
            1,
            5,
            2 * UPDATE_LEVELS - 1,
            2 * UPDATE_LEVELS,
            5 * UPDATE_LEVELS + 3,
        ] {
            let mut draw =
                |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-50.0..50.0)).collect() };
            let (alpha, wx, sums) = (draw(2 * nl), draw(2 * nl), draw(2 * nl));
            let iw: Vec<f64> = draw(nl).iter().map(|v| v.abs() / 7.0).collect();
            // The plain loop.
            let mut want = alpha.clone();
            for l in 0..nl {
                for k in 0..2 {
                    want[l * 2 + k] = (wx[l * 2 + k] - sums[l * 2 + k]) * iw[l];
                }
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            // From far off, from the fixed point, and from it with only the last level off.
            let mut last_off = want.clone();
            last_off[2 * nl - 1] += 1.0;
            for (alpha, tol) in [
                (&alpha, 1e-10),
                (&alpha, 1e3),
                (&want, 1e-10),
                (&last_off, 1e-10),
            ] {
                let want_settled = alpha.iter().zip(&want).all(|(&p, &q)| settled(p, q, tol));
                let (mut a, mut kept) = (alpha.clone(), vec![f64::NAN; 2 * nl]);
                let got = update_levels::<2>(&mut a, Some(&mut kept), &wx, &iw, tol, |l| {
                    [sums[l * 2], sums[l * 2 + 1]]
                });
                assert_eq!(bits(&a), bits(&want), "{nl} levels");
                assert_eq!(
                    bits(&kept),
                    bits(alpha),
                    "{nl} levels: the old coefficients"
                );
                assert_eq!(got, want_settled, "{nl} levels, tol {tol}");
                let mut a = alpha.clone();
                let got = update_levels::<2>(&mut a, None, &wx, &iw, tol, |l| {
                    [sums[l * 2], sums[l * 2 + 1]]
                });
                assert_eq!(
                    (bits(&a), got),
                    (bits(&want), want_settled),
                    "{nl} levels, none kept"
                );
            }
        }
    }

    /// Without any fixed effect the projection is the identity: the residuals are the columns,
    /// every row written (the layout covers the observations, not the factors' codes).
    #[test]
    fn no_dimension_leaves_the_columns() {
        let n = BLOCK_ROWS + 5;
        let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
        let x: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let fe = FixedEffects::new(&[], &w);
        let mut outs = vec![vec![f64::NAN; n]];
        let mut alphas = vec![Vec::new()];
        let opts = DemeanOptions::default();
        fe.demean_into(
            &[&x],
            &mut alphas,
            &mut outs,
            &opts,
            &mut DemeanScratch::default(),
        )
        .unwrap();
        assert_eq!(outs[0], x);
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
