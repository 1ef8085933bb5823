#!/usr/bin/env bash
# tradesim vs pyfixest, side by side on the same machine: wall time, CPU time (user+sys) and
# peak memory (/usr/bin/time -v), REPS runs (default 5) ALTERNATING the two tools (A B A B ...)
# so that a machine whose speed drifts (other builds) moves both alike; the ratio is the median
# of the per-pair ratios. Also the largest coefficient and standard-error differences.
# Both tools start from the CSV file (parsing included) and use pyfixest-compatible settings
# (--ssc pyfixest --separation fe; pyfixest with fixef_rm="none", its default separation check
# "fe" and its default tolerances).
#
#   bench/ppml_vs_pyfixest.sh [REPS] [CASE...]
# CASE: guide, synth (200x200x20, 0.8M rows), pairs (600x600x3: 1.08M rows, 360,000 pair
# effects), big (1000x1000x10: 10M rows; tradesim only unless BIG_PEER=1). Default: guide synth pairs.
# Env: PY (python of a venv with pyfixest, default /work/venv-pyfixest/bin/python),
#      DATA (default ../shared/data), TMPDIR for the generated panels.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-5}
shift || true
CASES=${*:-guide synth pairs}
PY=${PY:-/work/venv-pyfixest/bin/python}
DATA=${DATA:-../shared/data}
T=${TMPDIR:-/tmp}
BIN=target/release/tradesim
cargo build --release --quiet
OUT=$(mktemp -d)
F='trade ~ rta | exporter^year + importer^year + exporter^importer'

one() { # tool file cmd... -> appends "wall cpu rss_mb" to $OUT/tool.runs
  local tool=$1; shift
  /usr/bin/time -v -o "$OUT/time" "$@" > "$OUT/$tool.json" 2> "$OUT/err" || { cat "$OUT/err"; exit 1; }
  awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; w=s}
              /User time/ {u=$2} /System time/ {y=$2} /Maximum resident/ {m=$2/1024}
              END {printf "%.3f %.3f %.0f\n", w, u+y, m}' "$OUT/time" >> "$OUT/$tool.runs"
}

pair() { # name, then the tradesim command, '--', the pyfixest command (empty: tradesim only)
  local name=$1; shift
  local a=() b=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do a+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  b=("$@")
  rm -f "$OUT"/*.runs
  for r in $(seq "$REPS"); do
    one tradesim "${a[@]}"
    [ ${#b[@]} -gt 0 ] && one pyfixest "${b[@]}"
  done
  "$PY" - "$name" "$OUT" <<'PYEOF'
import json, os, statistics as st, sys
name, out = sys.argv[1:3]
def runs(t):
    p = os.path.join(out, t + ".runs")
    return [tuple(map(float, l.split())) for l in open(p)] if os.path.exists(p) else []
a, b = runs("tradesim"), runs("pyfixest")
med = lambda xs, k: st.median(x[k] for x in xs)
line = f"{name:40} tradesim wall {med(a,0):7.2f} s cpu {med(a,1):7.2f} s {med(a,2):6.0f} MB"
if b:
    line += f" | pyfixest wall {med(b,0):7.2f} s cpu {med(b,1):7.2f} s {med(b,2):6.0f} MB"
    line += f" | ratio wall {st.median(y[0]/x[0] for x, y in zip(a, b)):5.1f}x cpu {st.median(y[1]/x[1] for x, y in zip(a, b)):5.1f}x"
    ja, jb = (json.load(open(os.path.join(out, t + ".json"))) for t in ("tradesim", "pyfixest"))
    rel = lambda x, y: abs(x - y) / max(abs(y), 1e-300)
    db = max(rel(ja["coefficients"][k]["estimate"], v["estimate"]) for k, v in jb["coefficients"].items())
    ds = max(rel(ja["coefficients"][k]["std_error"], v["std_error"]) for k, v in jb["coefficients"].items())
    line += f"\n{'':40} N {ja['nobs']} vs {jb['nobs']}; max rel. diff: coefficients {db:.1e}, standard errors {ds:.1e}"
print(line + f"\n{'':40} wall runs tradesim {[x[0] for x in a]}" + (f" pyfixest {[x[0] for x in b]}" if b else ""))
PYEOF
}

for c in $CASES; do
  case $c in
  guide)
    G="$DATA/advanced-guide/agtpa_applications.csv"
    if [ -f "$G" ]; then
      pair "Guide three-way (1986..2006 by 4)" "$BIN" estimate "$G" --formula "$F" \
        --subset 'year in 1986,1990,1994,1998,2002,2006' --cluster exporter^importer --ssc pyfixest --separation fe --json \
        -- "$PY" bench/run_pyfixest.py "$G" "$F" --query 'year in [1986,1990,1994,1998,2002,2006]' --cluster exporter^importer
    else
      echo "skipping the Guide: $G not found"
    fi ;;
  synth|pairs|big)
    case $c in
      synth) n=200; y=20 ;;
      pairs) n=600; y=3 ;;
      big) n=1000; y=10 ;;
    esac
    S="$T/tradesim-synth-${n}x${y}.csv"
    [ -f "$S" ] || "$PY" bench/gen_synthetic.py "$S" --economies $n --years $y
    peer=(-- "$PY" bench/run_pyfixest.py "$S" "$F" --cluster exporter^importer)
    [ "$c" = big ] && [ "${BIG_PEER:-0}" != 1 ] && peer=()
    pair "synthetic ${n}x${n}x${y} three-way" "$BIN" estimate "$S" --formula "$F" \
      --cluster exporter^importer --ssc pyfixest --separation fe --json "${peer[@]}" ;;
  *) echo "unknown case $c (guide, synth, pairs, big)"; exit 2 ;;
  esac
done
rm -rf "$OUT"
