#!/usr/bin/env python3
"""Synthetic gravity panel: N economies x N x T years (domestic pairs included), three-way structure.

    python3 bench/gen_synthetic.py OUT.csv [--economies 200] [--years 20] [--seed 1]

trade ~ Poisson(exp(0.5 rta - 0.8 log dist + exporter-year + importer-year + pair)), with about
half zeros (47% at the defaults); rta switches on for random pairs in random years. Needs only numpy.
"""
import argparse

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--economies", type=int, default=200)
ap.add_argument("--years", type=int, default=20)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
n, t = a.economies, a.years
e, i, y = np.meshgrid(np.arange(n), np.arange(n), np.arange(t), indexing="ij")
e, i, y = e.ravel(), i.ravel(), y.ravel()
pos = rng.uniform(0, 100, size=(n, 2))
dist = np.sqrt(((pos[e] - pos[i]) ** 2).sum(1)) + 1.0
start = rng.integers(0, 2 * t, size=(n, n))
start = np.minimum(start, start.T)
rta = ((y >= start[e, i]) & (e != i)).astype(float)
ex_y = rng.normal(0, 1, size=(n, t))
im_y = rng.normal(0, 1, size=(n, t))
pair = rng.normal(0, 1, size=(n, n))
eta = 0.5 * rta - 0.8 * np.log(dist) + ex_y[e, y] + im_y[i, y] + pair[e, i] + 2.5
trade = rng.poisson(np.exp(eta))
with open(a.out, "w") as f:
    f.write("exporter,importer,year,trade,rta,dist\n")
    years = 2000 + y
    lines = [f"E{a1},E{b1},{c1},{d1},{int(r1)},{s1:.4f}\n" for a1, b1, c1, d1, r1, s1 in
             zip(e.tolist(), i.tolist(), years.tolist(), trade.tolist(), rta.tolist(), dist.tolist())]
    f.writelines(lines)
print(f"{len(e)} rows, {np.mean(trade == 0):.2f} zeros -> {a.out}")
