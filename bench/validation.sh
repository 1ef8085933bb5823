#!/usr/bin/env bash
# The tradesim columns of docs/validation.md: real income effects (percent) of the headline
# scenarios, tariffs only and with non-tariff depth, each against the reference path
# (scenarios/reference.ron) in the same year, for the economies the published studies report.
#
#   bash bench/validation.sh            # years 2030 and 2035
#   bash bench/validation.sh 2030       # one year
#
# Prints a Markdown table (and the world it ran on) to stdout; needs only a Rust toolchain.
# MODEL-GENERATED numbers: rerun after the built-in world changes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=target/release/tradesim
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
YEARS="${*:-2030 2035}"
ECONOMIES="JPN MEX CHL PER VNM MYS BRN KOR CHN"
SCENARIOS="tpp12 tpp12-depth cptpp cptpp-depth rcep15 rcep15-depth pacific-alliance pacific-alliance-depth"

for s in $SCENARIOS; do
    "$BIN" run "scenarios/$s.ron" --out "$OUT/$s" --quiet
done

world=data/apac-americas-2014
echo "World: \`$world\` (flows.csv sha256 $(sha256sum "$world/flows.csv" | cut -c1-12)$( [ -f "$world/product_groups.csv" ] && echo ", product_groups.csv sha256 $(sha256sum "$world/product_groups.csv" | cut -c1-12)")), tradesim $(git rev-parse --short HEAD 2>/dev/null || echo '(no git)'), run $(date -u +%Y-%m-%d)."
echo
printf '| scenario | year |'
for e in $ECONOMIES; do printf ' %s |' "$e"; done
printf '\n|---|---|'
for e in $ECONOMIES; do printf -- '---:|'; done
printf '\n'
for s in $SCENARIOS; do
    for y in $YEARS; do
        awk -F, -v year="$y" -v econ="$ECONOMIES" -v scen="$s" '
            NR == 1 { for (k = 1; k <= NF; k++) col[$k] = k; next }
            $col["year"] == year && $col["draw"] == 0 { v[$col["economy"]] = $col["real_income_pct"]; cw = $col["compared_with"] }
            END {
                n = split(econ, es, " ")
                printf "| `%s` (%s) | %s |", scen, cw, year
                for (k = 1; k <= n; k++) {
                    if (es[k] in v) printf " %+.3f |", v[es[k]]; else printf " n/a |"
                }
                printf "\n"
            }' "$OUT/$s/economies.csv"
    done
done
