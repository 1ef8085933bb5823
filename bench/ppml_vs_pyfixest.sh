#!/usr/bin/env bash
# tradesim vs pyfixest, side by side on the same machine: wall time and peak memory
# (/usr/bin/time -v), median of REPS runs (default 5), and the largest coefficient difference.
# CPU time (user+sys) is printed too: on a shared machine it is steadier than wall time.
# Both tools start from the CSV file (parsing included) and use pyfixest-compatible settings
# (--ssc pyfixest; pyfixest with fixef_rm="none" and its default tolerances).
#
#   bench/ppml_vs_pyfixest.sh [REPS]
# Env: PY (python of a venv with pyfixest, default /work/venv-pyfixest/bin/python),
#      DATA (default ../shared/data), SYNTH (synthetic CSV, generated if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-5}
PY=${PY:-/work/venv-pyfixest/bin/python}
DATA=${DATA:-../shared/data}
SYNTH=${SYNTH:-/tmp/tradesim-synth-200x20.csv}
BIN=target/release/tradesim
cargo build --release --quiet
[ -f "$SYNTH" ] || "$PY" bench/gen_synthetic.py "$SYNTH" --economies 200 --years 20
OUT=$(mktemp -d)

measure() { # name tool cmd...
  local name=$1 tool=$2; shift 2
  local walls=() mems=() cpus=()
  for r in $(seq "$REPS"); do
    /usr/bin/time -v -o "$OUT/time" "$@" > "$OUT/$tool.json" 2> "$OUT/err" || { cat "$OUT/err"; exit 1; }
    walls+=("$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/time")")
    mems+=("$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time")")
    cpus+=("$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$OUT/time")")
  done
  local w m c
  c=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  w=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  m=$(printf '%s\n' "${mems[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-34s %-9s median wall %7.2f s  cpu (user+sys) %7.2f s  peak RSS %6.0f MB  (wall runs: %s)\n' \
    "$name" "$tool" "$w" "$c" "$(echo "$m/1024" | bc -l)" "${walls[*]}"
  echo "$w" > "$OUT/$tool.wall"
}

compare() {
  "$PY" - "$OUT/tradesim.json" "$OUT/pyfixest.json" "$OUT/tradesim.wall" "$OUT/pyfixest.wall" <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ta, tb = (float(open(p).read()) for p in sys.argv[3:5])
d = max(abs(a["coefficients"][k]["estimate"] - v["estimate"]) for k, v in b["coefficients"].items())
s = max(abs(a["coefficients"][k]["std_error"] - v["std_error"]) for k, v in b["coefficients"].items())
print(f"  N {a['nobs']} vs {b['nobs']}; max |Δβ| {d:.1e}, max |Δse| {s:.1e}; speed-up {tb/ta:.1f}x")
PYEOF
}

G="$DATA/advanced-guide/agtpa_applications.csv"
if [ -f "$G" ]; then
  F='trade ~ rta | exporter^year + importer^year + exporter^importer'
  measure "Guide three-way (1986..2006 by 4)" tradesim "$BIN" estimate "$G" --formula "$F" \
    --subset 'year in 1986,1990,1994,1998,2002,2006' --cluster exporter^importer --ssc pyfixest --json
  measure "Guide three-way (1986..2006 by 4)" pyfixest "$PY" bench/run_pyfixest.py "$G" "$F" \
    --query 'year in [1986,1990,1994,1998,2002,2006]' --cluster exporter^importer
  compare
else
  echo "skipping the Guide: $G not found"
fi

F='trade ~ rta | exporter^year + importer^year + exporter^importer'
measure "synthetic 200x200x20 three-way" tradesim "$BIN" estimate "$SYNTH" --formula "$F" \
  --cluster exporter^importer --ssc pyfixest --json
measure "synthetic 200x200x20 three-way" pyfixest "$PY" bench/run_pyfixest.py "$SYNTH" "$F" --cluster exporter^importer
compare
rm -rf "$OUT"
