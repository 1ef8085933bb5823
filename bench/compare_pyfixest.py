#!/usr/bin/env python3
"""Compare `tradesim estimate` with pyfixest's `fepois` on the same formulas.

Run with a pyfixest installed OUTSIDE the repository, e.g.
    python3 -m venv /work/venv-pyfixest && /work/venv-pyfixest/bin/pip install pyfixest
    cargo build --release
    /work/venv-pyfixest/bin/python bench/compare_pyfixest.py [--data ../shared/data] [--bin target/release/tradesim]

For every case it prints the largest absolute difference in estimates and in standard errors
(tradesim under `--ssc pyfixest`, pyfixest with its default ssc()) and exits non-zero when a
difference exceeds --tol (default 1e-6). pyfixest is run with fixef_rm="none" (fixest's and
tradesim's default: no singleton removal) and a tight demeaning tolerance (fixef_tol=1e-12, its
default 1e-6 leaves pyfixest itself off by more than 1e-6); pass --pyfixest-defaults to use its
defaults for those two instead. Both tools, in either mode, stop their IRLS at the same relative
change of the deviance, `--irls-tol` (default 1e-12): at the usual 1e-8 the standard errors of
the 900-row gegravity sample still move by about 1e-5 (relative) from one IRLS step to the next
in either tool, so the two would differ by where each stopped, not by how they compute.

Besides estimates and standard errors, each case must agree on the number of observations and
on the regressors dropped as collinear. Eighteen cases: the Advanced Guide's data (twelve
specifications, one with a regressor collinear with the pair effect, one with a regressor that
separates five zero flows, one on a copy with missing values written as R and Stata write them,
which both tools leave out), gegravity's sample (three),
fixest's Eurostat panel (fixest's own example, and a subset with singletons dropped by both),
and a synthetic 100 x 100 x 10 panel (10^5 rows) that bench/gen_synthetic.py writes to a
temporary directory.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

YEARS = "1986,1990,1994,1998,2002,2006"


def cases(data: Path, tmp: Path):
    guide = data / "advanced-guide" / "agtpa_applications.csv"
    gge = data / "gegravity-sample" / "sample_data_set.csv"
    euro = data / "eurostat-products" / "trade.csv"
    synth = tmp / "synthetic-100x100x10.csv"
    guide_na = tmp / "agtpa-with-missing.csv"
    if guide.exists():
        write_with_missing(guide, guide_na)
    gen = Path(__file__).resolve().parent / "gen_synthetic.py"
    subprocess.run([sys.executable, str(gen), str(synth), "--economies", "100", "--years", "10"],
                   check=True, capture_output=True)
    years = [int(y) for y in YEARS.split(",")]

    def guide_years(df):
        return df[df.year.isin(years)].copy()

    def guide_app3(df):
        df = guide_years(df)
        df["pair"] = np.where(df.exporter == df.importer, 0, df.pair_id)
        return df

    return [
        dict(name="guide-app1 (international, ex-yr + im-yr, cluster pair_id)", csv=guide,
             formula="trade ~ log(dist) + cntg + lang + clny | exporter^year + importer^year",
             subset=f"year in {YEARS} & exporter != importer", define=[], cluster="pair_id",
             prep=lambda df: guide_years(df)[lambda d: d.exporter != d.importer]),
        dict(name="guide-app3 (pair + shared domestic, cluster pair_id)", csv=guide,
             formula="trade ~ rta | exporter^year + importer^year + pair",
             subset=f"year in {YEARS}", define=["pair = ifelse(exporter == importer, 0, pair_id)"],
             cluster="pair_id", prep=guide_app3),
        dict(name="guide three-way (ex-yr + im-yr + ex^im, hetero)", csv=guide,
             formula="trade ~ rta + rta_lag4 | exporter^year + importer^year + exporter^importer",
             subset=f"year in {YEARS}", define=[], cluster=None, prep=guide_years),
        dict(name="guide three-way, two-way cluster exporter + importer", csv=guide,
             formula="trade ~ rta | exporter^year + importer^year + exporter^importer",
             subset=f"year in {YEARS}", define=[], cluster="exporter+importer", prep=guide_years),
        dict(name="guide three-way with a product term log(dist):rta, cluster pair", csv=guide,
             formula="trade ~ rta + log(dist):rta | exporter^year + importer^year + exporter^importer",
             subset=f"year in {YEARS}", define=[], cluster="pair_id", prep=guide_years),
        dict(name="guide-app1 with R's product rta*log(dist) (rta + log(dist) + rta:log(dist)), hetero",
             csv=guide, formula="trade ~ rta*log(dist) | exporter^year + importer^year",
             subset=f"year in {YEARS} & exporter != importer", define=[], cluster=None,
             prep=lambda df: guide_years(df)[lambda d: d.exporter != d.importer]),
        dict(name="guide three-way with fixest's i(year, rta, ref = 1986), cluster pair", csv=guide,
             formula="trade ~ i(year, rta, ref = 1986) | exporter^year + importer^year + exporter^importer",
             subset=f"year in {YEARS}", define=[], cluster="pair_id", prep=guide_years),
        dict(name="guide, six fixed-effect dimensions (three redundant), cluster pair", csv=guide,
             formula="trade ~ rta | exporter + importer + year + exporter^year + importer^year + exporter^importer",
             subset=f"year in {YEARS}", define=[], cluster="pair_id", prep=guide_years),
        dict(name="guide three-way with log(dist), collinear with the pair effect, cluster pair",
             csv=guide,
             formula="trade ~ rta + log(dist) | exporter^year + importer^year + exporter^importer",
             subset=f"year in {YEARS}", define=[], cluster="pair_id", prep=guide_years),
        dict(name="guide-app1 with a regressor separating 5 zeros (tradesim's default rectifier, pyfixest's 'ir')",
             csv=guide, formula="trade ~ rta + sepx | exporter^year + importer^year",
             subset=f"year in {YEARS} & exporter != importer",
             define=["sepx = ifelse(trade == 0 & exporter == 'ARG', 1, 0)"], cluster="pair_id",
             relu=True,
             prep=lambda df: guide_years(df)[lambda d: d.exporter != d.importer].assign(
                 sepx=lambda d: ((d.trade == 0) & (d.exporter == "ARG")).astype(float))),
        dict(name="guide, one fixed effect (exporter), hetero", csv=guide,
             formula="trade ~ rta + log(dist) | exporter",
             subset=f"year in {YEARS}", define=[], cluster=None, prep=guide_years),
        dict(name="guide-app1 with missing values as R and Stata write them (NA, empty, '.'), cluster pair_id",
             csv=guide_na, formula="trade ~ log(dist) + cntg + rta | exporter^year + importer^year",
             subset=f"year in {YEARS} & exporter != importer", define=[], cluster="pair_id",
             read=dict(na_values=["."]),
             # fixest drops rows with a missing cluster; pyfixest refuses them: dropped here.
             prep=lambda df: df[(df.year.isin(years) | df.year.isna()) & (df.exporter != df.importer)]
             .dropna(subset=["pair_id"])),
        dict(name="gegravity sample (exporter + importer, hetero)", csv=gge,
             formula="trade ~ pta + contiguity + common_language + lndist + international | exporter + importer",
             subset=None, define=[], cluster=None, prep=lambda df: df),
        dict(name="gegravity sample, cluster exporter", csv=gge,
             formula="trade ~ pta + contiguity + common_language + lndist + international | exporter + importer",
             subset=None, define=[], cluster="exporter", prep=lambda df: df),
        dict(name="gegravity sample, no fixed effects, offset log(E)", csv=gge,
             formula="trade ~ pta + contiguity + lndist + log(Y)", offset="log(E)",
             subset=None, define=[], cluster=None, prep=lambda df: df.assign(logE=np.log(df.E))),
        dict(name="eurostat, fixest's example (four fixed effects, cluster Origin)", csv=euro,
             formula="Euros ~ log(dist_km) | Origin + Destination + Product + Year",
             subset=None, define=[], cluster="Origin", prep=lambda df: df),
        dict(name="eurostat, Euros > 1e8, singletons dropped (19), cluster Origin", csv=euro,
             formula="Euros ~ log(dist_km) | Origin^Product + Destination^Year",
             subset="Euros > 1e8", define=[], cluster="Origin", singletons=True,
             prep=lambda df: df[df.Euros > 1e8].copy()),
        dict(name="synthetic 100 x 100 x 10 (10^5 rows), three-way, cluster pair", csv=synth,
             formula="trade ~ rta | exporter^year + importer^year + exporter^importer",
             subset=None, define=[], cluster="exporter^importer", pf_cluster="pair",
             prep=lambda df: df.assign(pair=df.exporter + "_" + df.importer)),
    ]


def write_with_missing(src: Path, dst: Path):
    """`src` with missing values written as R (`NA`, an empty cell) and Stata (`.`) write them,
    in columns the model uses (the outcome, regressors, fixed effects, the cluster) and one it
    does not (`lang`), on rows picked by their position; the other cells copied as they are."""
    marks = [("trade", 97, 3, "NA"), ("dist", 89, 5, ""), ("rta", 83, 7, "."),
             ("exporter", 101, 11, "NA"), ("pair_id", 107, 13, ""), ("year", 211, 17, "."),
             ("lang", 7, 1, "NA")]
    with open(src) as f, open(dst, "w") as g:
        header = f.readline()
        g.write(header)
        cols = header.strip().split(",")
        for k, line in enumerate(f):
            cells = line.rstrip("\n").split(",")
            for col, mod, rem, mark in marks:
                if k % mod == rem:
                    cells[cols.index(col)] = mark
            g.write(",".join(cells) + "\n")


def tradesim_name(name):
    # pyfixest spells i()'s numeric levels as floats (`year::1990.0:rta`); fixest, and
    # tradesim, as written (`year::1990:rta`).
    name = re.sub(r"::(-?\d+)\.0(?=:|$)", r"::\1", name)
    return "(Intercept)" if name == "Intercept" else name.replace("np.log", "log")


def run_tradesim(binary, c, irls_tol):
    cmd = [binary, "estimate", str(c["csv"]), "--formula", c["formula"], "--json", "--ssc", "pyfixest",
           "--tol", str(irls_tol)]
    if c.get("subset"):
        cmd += ["--subset", c["subset"]]
    for d in c["define"]:
        cmd += ["--define", d]
    if c["cluster"]:
        cmd += ["--cluster", c["cluster"]]
    if c.get("offset"):
        cmd += ["--offset", c["offset"]]
    if c.get("singletons"):
        cmd += ["--drop-singletons"]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"tradesim failed on {c['name']}: {out.stderr}")
    return json.loads(out.stdout), dt


def run_pyfixest(c, defaults, irls_tol):
    df = c["prep"](pd.read_csv(c["csv"], **c.get("read", {})))
    # pyfixest clusters by columns: an interaction is a column made in `prep` (`pf_cluster`).
    vcov = "hetero" if not c["cluster"] else {"CRV1": c.get("pf_cluster", c["cluster"])}
    # The IRLS tolerance is the same for both tools in either mode.
    kw = dict(iwls_tol=irls_tol)
    if not defaults:
        kw.update(fixef_rm="none", fixef_tol=1e-12)
    if c.get("singletons"):
        kw["fixef_rm"] = "singleton"
    if c.get("relu"):
        # tradesim's default: the fixed-effect rule, then the iterative rectifier.
        kw["separation_check"] = ["fe", "ir"]
    if c.get("offset"):
        kw["offset"] = "logE"
    t = time.perf_counter()
    fit = pf.fepois(c["formula"], data=df, vcov=vcov, **kw)
    dt = time.perf_counter() - t
    return fit, dt


def main():
    ap = argparse.ArgumentParser()
    root = Path(__file__).resolve().parent.parent
    ap.add_argument("--data", default=str(root.parent / "shared" / "data"))
    ap.add_argument("--bin", default=str(root / "target" / "release" / "tradesim"))
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--pyfixest-defaults", action="store_true")
    ap.add_argument("--irls-tol", type=float, default=1e-12,
                    help="IRLS tolerance of both tools (tradesim --tol, pyfixest iwls_tol)")
    a = ap.parse_args()
    print(f"pyfixest {pf.__version__}; tradesim {a.bin}")
    worst = 0.0
    bad = []
    tmp = tempfile.TemporaryDirectory(prefix="compare-pyfixest-")
    for c in cases(Path(a.data), Path(tmp.name)):
        if not Path(c["csv"]).exists():
            print(f"SKIP {c['name']}: {c['csv']} not found")
            continue
        ts, t_ts = run_tradesim(a.bin, c, a.irls_tol)
        pf_fit, t_pf = run_pyfixest(c, a.pyfixest_defaults, a.irls_tol)
        coef = pf_fit.coef()
        se = pf_fit.se()
        d_b = d_se = 0.0
        for name in coef.index:
            key = tradesim_name(name)
            if key not in ts["coefficients"]:
                raise SystemExit(f"{c['name']}: tradesim has no coefficient {key}")
            d_b = max(d_b, abs(ts["coefficients"][key]["estimate"] - coef[name]))
            d_se = max(d_se, abs(ts["coefficients"][key]["std_error"] - se[name]))
        worst = max(worst, d_b, d_se)
        # The same observations, and the same regressors dropped as collinear.
        collin_pf = sorted(tradesim_name(v) for v in getattr(pf_fit, "_collin_vars", []) or [])
        collin_ts = sorted(ts.get("collinear", []))
        same = ts["nobs"] == pf_fit._N and collin_ts == collin_pf
        if not same:
            bad.append(c["name"])
        ok = "OK " if max(d_b, d_se) <= a.tol and same else "BAD"
        print(f"{ok} {c['name']}: N {ts['nobs']} vs {pf_fit._N}; max|Δβ| {d_b:.2e}; max|Δse| {d_se:.2e}; "
              f"tradesim {t_ts:.2f}s, pyfixest {t_pf:.2f}s"
              + (f"; collinear {collin_ts} vs {collin_pf}" if collin_ts or collin_pf else ""))
        for name in coef.index:
            key = tradesim_name(name)
            print(f"      {key:>20} {ts['coefficients'][key]['estimate']: .9f} {coef[name]: .9f}"
                  f"   se {ts['coefficients'][key]['std_error']:.9f} {se[name]:.9f}")
    print(f"worst difference {worst:.2e} (tolerance {a.tol:g})")
    if bad:
        print(f"observations or collinear regressors differ in: {'; '.join(bad)}")
    tmp.cleanup()
    sys.exit(0 if worst <= a.tol and not bad else 1)


if __name__ == "__main__":
    main()
