#!/usr/bin/env python3
"""Run gegravity's canonical Canada-Japan PTA example and compare it with tradesim.

gegravity is installed from PyPI in a virtual environment outside the repository:

    python3 -m venv /work/venv-gegravity && /work/venv-gegravity/bin/pip install gegravity
    /work/venv-gegravity/bin/python bench/compare_gegravity.py [--data CSV] [--tradesim BIN]
        [--scenario RON] [--out DIR] [--omr-rescale X] [--only-gegravity]

It writes DIR/gegravity_mr.csv (baseline, conditional and "full GE" resistances per economy)
and DIR/gegravity_country.csv (gegravity's country results), runs
`tradesim run SCENARIO --out DIR/tradesim`, and prints both side by side.
The example's settings: sigma = 5, DEU as reference, the README's PPML coefficients
including the constant 16.32434.
"""
import argparse
import csv
import os
import subprocess
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

COEFFS = [  # var, beta, stderr (gegravity README, OneSectorGE example)
    ("lndist", -0.3898623, 0.0729915),
    ("contiguity", 0.891577, 0.1327354),
    ("common_language", 0.0326249, 0.0840702),
    ("pta", 0.4711383, 0.1076578),
    ("international", -3.412584, 0.2151235),
    ("constant", 16.32434, 0.4844137),
]

# src/model/gravity/synthetic.rs COEFFICIENTS
SYNTHETIC = [("lndist", -0.3898623), ("contiguity", 0.891577), ("pta", 0.4711383),
             ("international", -3.412584), ("constant", 16.32434)]


def run_gegravity(data, out, omr_rescale=1.0, pairs=(("CAN", "JPN"),), coeffs=COEFFS,
                  year="2006", reference="DEU", sigma=5, pta="pta"):
    import pandas as pd
    import gegravity as ge

    grav = pd.read_csv(data)
    grav["constant"] = 1
    baseline = ge.BaselineData(grav, imp_var_name="importer", exp_var_name="exporter",
                               year_var_name="year", trade_var_name="trade",
                               expend_var_name="E", output_var_name="Y")
    ests = pd.DataFrame(list(coeffs), columns=["var", "beta", "stderr"])
    cost = ge.CostCoeffs(estimates=ests, identifier_col="var", coeff_col="beta",
                         stderr_col="stderr")
    model = ge.OneSectorGE(baseline=baseline, cost_coeff_values=cost,
                           cost_variables=[c[0] for c in coeffs], year=year,
                           reference_importer=reference, sigma=sigma, quiet=True)
    model.build_baseline(omr_rescale=omr_rescale)
    exp = model.baseline_data.copy()
    for a, b in pairs:
        exp.loc[(exp["importer"] == a) & (exp["exporter"] == b), pta] = 1
        exp.loc[(exp["importer"] == b) & (exp["exporter"] == a), pta] = 1
    model.define_experiment(exp)
    model.simulate()
    os.makedirs(out, exist_ok=True)
    mr = model.country_mr_terms
    mr.to_csv(os.path.join(out, "gegravity_mr.csv"), float_format="%.17g")
    model.country_results.to_csv(os.path.join(out, "gegravity_country.csv"),
                                 float_format="%.17g")
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(
        ROOT, "..", "shared", "data", "gegravity-sample", "sample_data_set.csv"))
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "gegravity-can-jpn.ron"))
    ap.add_argument("--tradesim", default=os.path.join(ROOT, "target", "release", "tradesim"))
    ap.add_argument("--out", default="/tmp/tradesim-vs-gegravity")
    ap.add_argument("--omr-rescale", type=float, default=1.0)
    ap.add_argument("--only-gegravity", action="store_true",
                    help="run gegravity only (for timing)")
    ap.add_argument("--synthetic", action="store_true",
                    help="data from `cargo run --example synthetic_gravity`: its coefficients, "
                         "reference C000, PTA between C000 and C001")
    args = ap.parse_args()

    warnings.simplefilter("ignore")
    if args.synthetic:
        coeffs = [(n, b, 0.1) for n, b in SYNTHETIC]
        model = run_gegravity(args.data, args.out, args.omr_rescale, pairs=(("C000", "C001"),),
                              coeffs=coeffs, reference="C000")
    else:
        model = run_gegravity(args.data, args.out, args.omr_rescale)
    diag = model.solver_diagnostics
    ok = all(getattr(d, "success", True) for d in diag.values())
    print(f"gegravity solvers converged: {ok}")
    if args.only_gegravity:
        return 0 if ok else 1
    tdir = os.path.join(args.out, "tradesim")
    subprocess.run([args.tradesim, "run", args.scenario, "--out", tdir, "--force", "--quiet"], check=True)
    ours = {r["economy"]: r for r in csv.DictReader(open(os.path.join(tdir, "economies.csv")))}
    theirs = model.country_results
    print(f"{'economy':8} {'rGDP% tradesim':>15} {'rGDP% gegravity':>16} "
          f"{'price% tradesim':>16} {'price% gegravity':>17}")
    for c in sorted(ours):
        print(f"{c:8} {float(ours[c]['real_gdp_pct']):15.6f} "
              f"{theirs.loc[c, 'GDP change (percent)']:16.6f} "
              f"{float(ours[c]['price_pct']):16.6f} "
              f"{theirs.loc[c, 'factory gate price change (percent)']:17.6f}")
    # gegravity's counterfactual trade vs its counterfactual output (market clearing)
    bil = model.bilateral_trade_results.reset_index()
    sales = bil.groupby("exporter")["experiment trade"].sum()
    oe = model.outputs_expenditures
    tot_e = oe["experiment expenditure"].sum()
    tot_y = oe["experiment output"].sum()
    miss = (sales / (oe["experiment output"] * tot_e / tot_y) - 1) * 100
    raw = (sales / oe["experiment output"] - 1) * 100
    print(f"gegravity: counterfactual sales miss counterfactual output by "
          f"{raw.abs().min():.2f}% to {raw.abs().max():.2f}% (|min|..|max| over economies; "
          f"{miss.abs().min():.2f}% to {miss.abs().max():.2f}% after scaling output by world E/Y)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
