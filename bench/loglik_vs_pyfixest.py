"""Log-likelihood and pseudo-R² of `tradesim estimate` against pyfixest's fepois on the
Advanced Guide data (application 3, three-way; and application 1 on international pairs).

Run with a Python that has pyfixest, outside the repository:
    /work/venv-import/bin/python bench/loglik_vs_pyfixest.py
Fails (exit 1) if a log-likelihood differs by more than 1e-6 relative or a pseudo-R² by 1e-8.
"""
import json, subprocess, sys
import pandas as pd
import pyfixest as pf

DATA = "../shared/data/advanced-guide/agtpa_applications.csv"
df = pd.read_csv(DATA)
df = df[df.year.isin([1986, 1990, 1994, 1998, 2002, 2006])].copy()
df["pair"] = df.pair_id.where(df.exporter != df.importer, 0)
df["ln_dist"] = df.dist.apply(lambda d: __import__("math").log(d))
cases = [
    ("trade ~ rta | exporter^year + importer^year + pair", df, "year in 1986,1990,1994,1998,2002,2006"),
    ("trade ~ ln_dist + cntg + lang + clny | exporter^year + importer^year", df[df.exporter != df.importer],
     "year in 1986,1990,1994,1998,2002,2006 & exporter != importer"),
]
ok = True
for formula, d, subset in cases:
    py = pf.fepois(formula, data=d, vcov={"CRV1": "pair_id"}, fixef_rm="none")
    ts_formula = formula.replace("ln_dist", "log(dist)")
    out = subprocess.run(["./target/release/tradesim", "estimate", DATA, "--formula", ts_formula,
                          "--define", "pair = ifelse(exporter == importer, 0, pair_id)",
                          "--subset", subset, "--cluster", "pair_id", "--json"],
                         capture_output=True, text=True, check=True)
    ts = json.loads(out.stdout)
    ll_py, pr2_py = py._loglik, py._pseudo_r2
    dl = abs(ts["loglik"] / ll_py - 1)
    dr = abs(ts["pseudo_r2"] - pr2_py)
    print(f"{formula}\n  loglik   tradesim {ts['loglik']:.6f}  pyfixest {ll_py:.6f}  rel. diff {dl:.2e}"
          f"\n  pseudo R2 tradesim {ts['pseudo_r2']:.10f}  pyfixest {pr2_py:.10f}  diff {dr:.2e}")
    ok &= dl < 1e-6 and dr < 1e-8
sys.exit(0 if ok else 1)
