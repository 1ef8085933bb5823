#!/usr/bin/env python3
"""The one-sector structural gravity model of MODEL.md §2 in vectorised numpy: the peer of
`tradesim run` on a `StructuralGravity(...)` file written by `examples/synthetic_gravity`.
The same equations and stopping rules as src/model/gravity (resistances with P_ref = 1,
conditional GE, full-endowment GE in changes with E' = s φ Y'), so the whole-process times
compare like with like. Prints the largest relative difference of the resistances against
tradesim's economies.csv when given.

    python3 bench/gravity_numpy.py DIR/synthetic.ron OUT.csv [--against TRADESIM_OUT/economies.csv]
"""
import csv
import re
import sys

import numpy as np

ron_path, out = sys.argv[1], sys.argv[2]
against = sys.argv[sys.argv.index("--against") + 1] if "--against" in sys.argv else None
ron = open(ron_path).read()
sigma = float(re.search(r"sigma:\s*([0-9.eE+-]+)", ron).group(1))
const = float(re.search(r"constant:\s*([0-9.eE+-]+)", ron).group(1))
coefs = {k: float(v) for k, v in re.findall(r'"(\w+)":\s*([0-9.eE+-]+)', ron)}
ref = re.search(r'reference:\s*"(\w+)"', ron).group(1)
a, b = re.search(r'Between\(\["(\w+)"\],\s*\["(\w+)"\]\)', ron).groups()
data = ron_path.rsplit("/", 1)[0] + "/" + re.search(r'data:\s*"([^"]+)"', ron).group(1)

with open(data) as f:
    head = f.readline().strip().split(",")
    rows = [line.rstrip("\n").split(",") for line in f]
col = {h: k for k, h in enumerate(head)}
names = list(dict.fromkeys(r[0] for r in rows))
n = len(names)
idx = {c: k for k, c in enumerate(names)}
ex = np.array([idx[r[0]] for r in rows])
im = np.array([idx[r[col["importer"]]] for r in rows])
num = lambda c: np.array([float(r[col[c]]) for r in rows])
Y = np.zeros(n); E = np.zeros(n)
Y[ex] = num("Y"); E[im] = num("E")
z = {c: np.zeros((n, n)) for c in coefs}
for c in coefs:
    z[c][ex, im] = num(c)
lin = const + sum(coefs[c] * z[c] for c in coefs)
T = np.exp(lin)                       # t_ij^{1-σ}
pta = z["pta"].copy()
ia, ib = idx[a], idx[b]
pta[ia, ib] = pta[ib, ia] = 1.0
T_cf = np.exp(lin + coefs["pta"] * (pta - z["pta"]))
r = idx[ref]
TOL, MAXIT = 1e-12, 100_000


def resistances(T, Y, E):
    """Π_i^{1-σ} = Σ_j T_ij (E_j/E) / P_j^{1-σ};  P_j^{1-σ} = Σ_i T_ij (Y_i/Y) / Π_i^{1-σ};  P_ref = 1."""
    y, e = Y / Y.sum(), E / E.sum()
    P = np.ones(n)
    for it in range(MAXIT):
        Pi = T @ (e / P)
        P_new = T.T @ (y / Pi)
        P_new /= P_new[r]
        change = np.max(np.abs(P_new / P - 1))
        P = P_new
        if change < TOL:
            return Pi * 1.0, P, it + 1
    raise SystemExit("resistances did not converge")


pi_b, p_b, _ = resistances(T, Y, E)
pi_c, p_c, _ = resistances(T_cf, Y, E)
# Baseline flows X_ij = (Y_i/Y) E_j T_ij / (Π_i P_j)
X = np.outer(Y / Y.sum(), E) * T / np.outer(pi_b, p_b)
sales, purchases = X.sum(1), X.sum(0)
XT = X * T_cf / T
om = 1 - sigma
p = np.ones(n)
for it in range(MAXIT):
    w = p ** om
    phat = (XT * w[:, None]).sum(0) / purchases
    s = (p * sales).sum() / (p * purchases).sum()
    demand = w * (XT * (s * p / phat)[None, :]).sum(1)
    resid = demand / (p * sales) - 1
    if np.max(np.abs(resid)) < 1e-10:
        break
    p *= (demand / (p * sales)) ** (1 / sigma)
    p /= (((XT[:, r] * p ** om).sum() / purchases[r]) ** (1 / om))
else:
    raise SystemExit("full GE did not converge")
imr = lambda v: v ** (1 / om)
with open(out, "w", newline="") as f:
    w_ = csv.writer(f)
    w_.writerow(["economy", "imr_base", "imr_conditional", "omr_base", "omr_conditional", "price_hat"])
    for k, c in enumerate(names):
        w_.writerow([c, imr(p_b[k]), imr(p_c[k]), imr(pi_b[k]), imr(pi_c[k]), p[k]])
if against:
    ours = {row["economy"]: row for row in csv.DictReader(open(against))}
    worst = 0.0
    for k, c in enumerate(names):
        for col_, v in (("imr_base", imr(p_b[k])), ("imr_conditional", imr(p_c[k])),
                        ("omr_base", imr(pi_b[k])), ("omr_conditional", imr(pi_c[k]))):
            worst = max(worst, abs(float(ours[c][col_]) / v - 1))
    print(f"max relative difference of the resistances: {worst:.1e}")
