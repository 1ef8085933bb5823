#!/usr/bin/env python3
"""Alternating projections with Irons-Tuck acceleration (tradesim's and fixest's demeaning)
against conjugate gradient preconditioned by a symmetric Gauss-Seidel sweep (reghdfe's
default acceleration, Correia 2017), both in coefficient space, on one synthetic panel with
the weights of a converged PPML fit. Counts passes over the data (one pass = one dimension's
group sums) to reach a given accuracy of the demeaned columns (z and rta), from zero.

    tradesim estimate PANEL.csv --formula 'trade ~ rta | exporter^year + importer^year +
        exporter^importer' --separation fe --fitted-out FITTED.csv
    python demean_acceleration.py PANEL.csv FITTED.csv

Columns of PANEL.csv as bench/gen_synthetic.py writes them (E<k> codes for the economies).
"""
import sys

import numpy as np
import pandas as pd

df = pd.read_csv(sys.argv[1])
mu = pd.read_csv(sys.argv[2]).fitted.values
keep = ~np.isnan(mu)
df, mu = df[keep], mu[keep]
ex = df.exporter.str[1:].astype(int).values
im = df.importer.str[1:].astype(int).values
yr = df.year.values - df.year.min()
ny, ne = yr.max() + 1, max(ex.max(), im.max()) + 1
f = [pd.factorize(ex * ny + yr)[0], pd.factorize(im * ny + yr)[0], pd.factorize(ex * ne + im)[0]]
L = [c.max() + 1 for c in f]
w, y = mu, df.trade.values
X = np.column_stack([np.log(mu) + (y - mu) / mu, df.rta.values.astype(float)])
G, N, K = len(f), len(w), X.shape[1]
wsum = [np.bincount(c, weights=w, minlength=l) for c, l in zip(f, L)]
passes = [0]


def gsum(g, v):
    return np.column_stack([np.bincount(f[g], weights=v[:, k], minlength=L[g]) for k in range(K)])


b = [gsum(g, w[:, None] * X) for g in range(G)]


def d_alpha(a, skip=None):
    s = np.zeros((N, K))
    for g in range(G):
        if g != skip:
            s += a[g][f[g]]
    return s


def flat(a):
    return np.concatenate(a)


def unflat(v):
    out, o = [], 0
    for l in L:
        out.append(v[o:o + l])
        o += l
    return out


def sweep(a):
    a = [x.copy() for x in a]
    for g in range(G):
        passes[0] += 1
        a[g] = (b[g] - gsum(g, w[:, None] * d_alpha(a, skip=g))) / wsum[g][:, None]
    return a


def converged(a0, a1, tol):
    p, q = flat(a0), flat(a1)
    d = np.abs(p - q)
    return np.all((d <= tol) | (d / (0.1 + np.abs(p)) <= tol))


def irons_tuck(a, tol):
    while True:
        x0 = a
        a = sweep(a)
        if converged(x0, a, tol):
            return a
        gx = a
        a = sweep(a)
        if converged(gx, a, tol):
            return a
        X0, GX, A = flat(x0), flat(gx), flat(a)
        d1, d2 = A - GX, A - 2 * GX + X0
        a = unflat(A - (d1 * d2).sum(0) / (d2 * d2).sum(0) * d1)


zero = [np.zeros((l, K)) for l in L]
r_exact = X - d_alpha(irons_tuck(zero, 1e-14))


def error(a):
    r = X - d_alpha(a)
    return np.sqrt((w[:, None] * (r - r_exact) ** 2).sum(0) / (w[:, None] * r_exact ** 2).sum(0)).max()


for tol in [1e-6, 1e-8, 1e-10, 1e-12]:
    passes[0] = 0
    a = irons_tuck(zero, tol)
    print(f"Irons-Tuck, tolerance {tol:.0e}: {passes[0]:3d} passes, error {error(a):.1e}")


def a_mul(p):  # D'WD p: one pass
    passes[0] += 1
    v = w[:, None] * d_alpha(p)
    return [gsum(g, v) for g in range(G)]


def sgs(r):  # symmetric Gauss-Seidel on D'WD s = r from s = 0: 2G - 2 passes
    s = [np.zeros_like(x) for x in r]

    def update(g):
        passes[0] += 1
        s[g] = (r[g] - gsum(g, w[:, None] * d_alpha(s, skip=g))) / wsum[g][:, None]

    s[0] = r[0] / wsum[0][:, None]
    for g in list(range(1, G)) + list(range(G - 2, -1, -1)):
        update(g)
    return s


def dot(u, v):
    return (flat(u) * flat(v)).sum(0)


passes[0] = 0
a = [x.copy() for x in zero]
r = [bb - x for bb, x in zip(b, a_mul(a))]
z = sgs(r)
p, rz = [x.copy() for x in z], dot(r, z)
for k in range(40):
    ap = a_mul(p)
    step = rz / dot(p, ap)
    a = [x + step * y for x, y in zip(a, p)]
    r = [x - step * y for x, y in zip(r, ap)]
    e = error(a)
    if k % 2 == 1 or e < 1e-12:
        print(f"CG + symmetric Gauss-Seidel, iteration {k + 1}: {passes[0]:3d} passes, error {e:.1e}")
    if e < 1e-12:
        break
    z = sgs(r)
    rz2 = dot(r, z)
    p = [x + rz2 / rz * y for x, y in zip(z, p)]
    rz = rz2
