#!/usr/bin/env python3
"""tradesim vs gegravity, side by side: wall time and peak memory (/usr/bin/time -v), median
of N runs (default 5), on gegravity's sample (Canada-Japan PTA) and on a 150-economy
synthetic world, plus the largest relative difference of the baseline and conditional
multilateral resistances (the results both solve identically).

    /work/venv-gegravity/bin/python bench/gravity_vs_gegravity.py [--runs 5] [--n 150]

Needs gegravity in the running Python (see bench/compare_gegravity.py) and builds tradesim
in release mode.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLE = os.path.join(ROOT, "..", "shared", "data", "gegravity-sample", "sample_data_set.csv")


def timed(cmd, runs):
    walls, rss = [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
            r = subprocess.run(["/usr/bin/time", "-v", "-o", t.name] + cmd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                return None, None, r.stderr.strip().splitlines()[-1:]
            for line in open(t.name):
                line = line.strip()
                if line.startswith("Elapsed (wall clock) time"):
                    v = line.rsplit(" ", 1)[1]
                    parts = [float(p) for p in v.split(":")]
                    secs = 0.0
                    for p in parts:
                        secs = secs * 60 + p
                    walls.append(secs)
                elif line.startswith("Maximum resident set size"):
                    rss.append(int(line.rsplit(" ", 1)[1]) / 1024)
    return statistics.median(walls), statistics.median(rss), None


def mr_difference(tradesim_dir, gegravity_dir):
    ours = {r["economy"]: r for r in csv.DictReader(open(os.path.join(tradesim_dir, "economies.csv")))}
    worst = 0.0
    for r in csv.DictReader(open(os.path.join(gegravity_dir, "gegravity_mr.csv"))):
        o = ours[r["country"]]
        for a, b in [("imr_base", "baseline imr"), ("imr_conditional", "conditional imr"),
                     ("omr_base", "baseline omr"), ("omr_conditional", "conditional omr")]:
            worst = max(worst, abs(float(o[a]) / float(r[b]) - 1))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=150)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "tradesim",
                    "--example", "synthetic_gravity"], cwd=ROOT, check=True)
    tradesim = os.path.join(ROOT, "target", "release", "tradesim")
    work = tempfile.mkdtemp(prefix="gravity-bench-")
    syn = os.path.join(work, f"syn{args.n}")
    subprocess.run([os.path.join(ROOT, "target", "release", "examples", "synthetic_gravity"),
                    str(args.n), syn], check=True, stderr=subprocess.DEVNULL)
    compare = [sys.executable, os.path.join(HERE, "compare_gegravity.py"), "--only-gegravity"]
    cases = [
        ("gegravity sample (30, CAN-JPN PTA)",
         [tradesim, "run", os.path.join(ROOT, "scenarios", "gegravity-can-jpn.ron"),
          "--out", os.path.join(work, "t-sample"), "--force", "--quiet"],
         compare + ["--data", SAMPLE, "--out", os.path.join(work, "g-sample")],
         os.path.join(work, "t-sample"), os.path.join(work, "g-sample")),
        (f"synthetic ({args.n}, PTA C000-C001)",
         [tradesim, "run", os.path.join(syn, "synthetic.ron"),
          "--out", os.path.join(work, "t-syn"), "--force", "--quiet"],
         compare + ["--synthetic", "--data", os.path.join(syn, "synthetic.csv"),
                    "--out", os.path.join(work, "g-syn")],
         os.path.join(work, "t-syn"), os.path.join(work, "g-syn")),
    ]
    print(f"median of {args.runs} runs; wall time in seconds, peak RSS in MB")
    print(f"{'case':36} {'tradesim s':>10} {'MB':>7} {'gegravity s':>11} {'MB':>7} "
          f"{'speed-up':>8} {'max rel. diff MRs':>17}")
    for name, tcmd, gcmd, tdir, gdir in cases:
        tw, tm, terr = timed(tcmd, args.runs)
        gw, gm, gerr = timed(gcmd, args.runs)
        if terr:
            print(f"{name:36} tradesim failed: {terr}")
            continue
        if gerr:
            print(f"{name:36} {tw:10.3f} {tm:7.1f}  gegravity failed: {gerr}")
            continue
        diff = mr_difference(tdir, gdir)
        print(f"{name:36} {tw:10.3f} {tm:7.1f} {gw:11.3f} {gm:7.1f} {gw / tw:7.0f}x {diff:17.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
