#!/usr/bin/env bash
# How far a world's bilateral goods totals are from the observed 2014 flows, by source:
# median, 90th percentile and largest |world / observed − 1| over the observed pairs of COW4
# (bilateral_2014.csv), of TRADHIST (bilateral_2014_tradhist.csv) and of the 128 TRADHIST
# pairs of the 16 economies COW4 lacks. Prints a Markdown table (docs/world.md quotes it).
#
#   bash docs/deviation.sh [WORLD_DIR] [FACTS_DIR]
#   (defaults: data/apac-americas-2014 and ../shared/facts of this checkout)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
world="${1:-$here/data/apac-americas-2014}"
facts="${2:-$here/../shared/facts}"
for f in "$world/flows.csv" "$facts/bilateral_2014.csv" "$facts/bilateral_2014_tradhist.csv"; do
  [ -f "$f" ] || { echo "missing $f" >&2; exit 2; }
done

printf '| source | pairs | median |dev| | 90th pct | max |\n|---|---|---|---|---|\n'
stats() { # label, then "dev" lines on stdin
  sort -g | awk -v label="$1" '
    # type-7 percentile (linear interpolation between order statistics), as report::summary
    function q(p,   h, f) { h = (NR - 1) * p + 1; f = int(h); return (f >= NR) ? d[NR] : d[f] + (h - f) * (d[f + 1] - d[f]) }
    { d[NR] = $1 }
    END {
      if (NR == 0) { printf "| %s | 0 | – | – | – |\n", label; exit }
      m = q(0.5); p = q(0.9)
      printf "| %s | %d | %.1f%% | %.1f%% | %.1f%% |\n", label, NR, 100 * m, 100 * p, 100 * d[NR]
    }'
}
devs() { # observed file, and an optional filter: "new16" keeps pairs of economies without COW4 flows
  awk -F, -v filter="${2:-}" '
    FNR == 1 { file++; next }
    file == 1 { if ($1 != $2 && $1 != "SRV" && $4 != "") t[$2 "," $3] += $4; next }  # flows.csv: sector,exporter,importer,value
    file == 2 { cow[$1] = 1; cow[$2] = 1; next }                                      # bilateral_2014.csv economies
    file == 3 {
      v = $3 + 0
      if (v <= 0) next
      if (filter == "new16" && cow[$1] && cow[$2]) next
      k = $1 "," $2
      d = t[k] / v - 1; if (d < 0) d = -d
      print d
    }' "$world/flows.csv" "$facts/bilateral_2014.csv" "$1"
}
devs "$facts/bilateral_2014.csv" | stats "COW4 (bilateral_2014.csv)"
devs "$facts/bilateral_2014_tradhist.csv" | stats "TRADHIST, all"
devs "$facts/bilateral_2014_tradhist.csv" new16 | stats "TRADHIST, the 16 economies without COW4 flows"
