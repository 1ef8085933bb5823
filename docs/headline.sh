#!/usr/bin/env bash
# The headline scenarios on the built-in world: real income change (%) in each scenario's last
# year against what the scenario is compared with (`compared_with`: the reference path's same
# year for the agreements that happened or were negotiated, the solved 2014 baseline for the
# ex-post files), for the economies the policy questions are about.
# Prints a Markdown table (docs/world.md quotes it). Rerun after any change to the scenario
# files or the world:
#
#   bash docs/headline.sh                      # the scenarios and world of this checkout
#   bash docs/headline.sh --theta-scale 0.5    # every sector's θ halved (sensitivity)
#   bash docs/headline.sh --root DIR --tradesim DIR/target/release/tradesim   # another checkout
#
# It runs `tradesim run` on each file into a temporary directory (removed at the end) and
# reads real_income_pct from economies.csv (columns counted from the end: the scenario name,
# the first column, may contain a quoted comma).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$here"
bin=""
scale=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$(cd "$2" && pwd)"; shift 2 ;;
    --tradesim) bin="$2"; shift 2 ;;
    --theta-scale) scale="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$bin" ] || bin="$root/target/release/tradesim"
if [ ! -x "$bin" ]; then
  echo "no tradesim binary at $bin: run 'cargo build --release' in $root first" >&2
  exit 2
fi

economies="JPN VNM MYS BRN MEX CHL PER KOR CHN"
scenarios="tpp12 tpp12-depth cptpp cptpp-depth rcep15 rcep15-depth pacific-alliance pacific-alliance-depth japan-mexico-expost japan-chile-expost japan-peru-expost japan-epas-tpp-agri"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# θ of the world's sectors, scaled: an `elasticities` block for a file that extends each scenario.
elasticities=""
if [ -n "$scale" ]; then
  elasticities=$(awk -F, -v s="$scale" 'NR > 1 { printf "%s\"%s\": Value(%.6f)", (n++ ? ", " : ""), $1, $3 * s }' \
    "$root/data/apac-americas-2014/sectors.csv")
fi

printf '| scenario (last year) |'
for e in $economies; do printf ' %s |' "$e"; done
printf '\n|---|'
for e in $economies; do printf -- '---|'; done
printf '\n'
for s in $scenarios; do
  file="$root/scenarios/$s.ron"
  if [ ! -f "$file" ]; then
    echo "| $s (no such file) |" ; continue
  fi
  run="$file"
  if [ -n "$scale" ]; then
    run="$tmp/$s-theta.ron"
    printf 'Scenario(name: "%s θ×%s", extends: "%s", elasticities: { %s })\n' "$s" "$scale" "$file" "$elasticities" > "$run"
  fi
  out="$tmp/$s"
  if ! "$bin" run "$run" --out "$out" --quiet > "$tmp/$s.log" 2>&1; then
    echo "| $s (failed: $(tail -1 "$tmp/$s.log")) |"
    continue
  fi
  awk -F, -v want="$economies" -v name="$s" '
    NR == 1 {
      for (k = 1; k <= NF; k++) { if ($k == "year") y = NF - k; if ($k == "economy") c = NF - k; if ($k == "real_income_pct") r = NF - k }
      next
    }
    {
      year = $(NF - y); econ = $(NF - c); ri = $(NF - r)
      if (year > last) last = year
      v[year, econ] = ri
    }
    END {
      printf "| %s (%d) |", name, last
      n = split(want, es, " ")
      for (k = 1; k <= n; k++) {
        x = v[last, es[k]]
        if (x == "") printf " – |"; else printf " %+.3f |", x
      }
      printf "\n"
    }' "$out/economies.csv"
done
