#!/usr/bin/env python3
"""Fit one model with pyfixest's fepois and print the coefficients as JSON (used by
ppml_vs_pyfixest.sh). Times include reading the CSV, as tradesim's do.

    python run_pyfixest.py CSV FORMULA [--query PANDAS_QUERY] [--define-pair] [--cluster VAR]
"""
import argparse
import json
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("formula")
ap.add_argument("--query")
ap.add_argument("--cluster")
a = ap.parse_args()
df = pd.read_csv(a.csv)
if a.query:
    df = df.query(a.query)
cluster = a.cluster
if cluster and "^" in cluster:  # pyfixest clusters by columns only: build the interaction
    parts = cluster.split("^")
    df["_cluster"] = df[parts[0]].astype(str)
    for p in parts[1:]:
        df["_cluster"] = df["_cluster"] + "_" + df[p].astype(str)
    cluster = "_cluster"
vcov = {"CRV1": cluster} if cluster else "hetero"
fit = pf.fepois(a.formula, data=df, vcov=vcov, fixef_rm="none")
print(json.dumps({"coefficients": {k: {"estimate": float(fit.coef()[k]), "std_error": float(fit.se()[k])}
                                   for k in fit.coef().index}, "nobs": int(fit._N)}))
