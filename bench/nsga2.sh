#!/usr/bin/env bash
# NSGA-II (the Scheduler's engine, Release build) on ZDT1, ZDT2, ZDT3 and DTLZ2, 100 x 250 generations with jMetal's
# settings, seeds 1..31, each final front written as OUT_DIR/<problem>/seed-<k>.csv; then DEAP's NSGA-II (Debian's
# python3-deap) on ZDT1 with the same settings and seeds in the same run, fronts in OUT_DIR/DEAP-ZDT1/, and the ratio
# of the two engines' median times and hypervolumes.
# Usage: bench/nsga2.sh [OUT_DIR]   (default: a new temporary folder; DEAP_SEEDS=n to run DEAP on fewer seeds)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out/DEAP-ZDT1"
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
( cd tests/Platform.Benchmarks/bin/Release/net10.0 && dotnet Platform.Benchmarks.dll nsga2 "$out" ) | tee "$out/nsga2.txt"
/usr/bin/python3 bench/deap_nsga2.py "$out/DEAP-ZDT1" 1 "${DEAP_SEEDS:-31}" > "$out/deap.csv"
sort -t, -k2 -g "$out/deap.csv" | awk -F, '{ t[NR] = $2 } END { printf "deap  ZDT1: %d seeds, median run %.1f ms\n", NR, 1000 * t[int(NR / 2) + 1] }'
sort -t, -k3 -g "$out/deap.csv" | awk -F, '{ h[NR] = $3 } END { printf "deap  ZDT1: median hypervolume %.6f\n", h[int(NR / 2) + 1] }'
ours=$(grep '^nsga2 ZDT1' "$out/nsga2.txt" | sed -E 's/.*median run ([0-9.]+) ms, median hypervolume ([0-9.]+).*/\1 \2/')
deap_ms=$(sort -t, -k2 -g "$out/deap.csv" | awk -F, '{ t[NR] = $2 } END { print 1000 * t[int(NR / 2) + 1] }')
deap_hv=$(sort -t, -k3 -g "$out/deap.csv" | awk -F, '{ h[NR] = $3 } END { print h[int(NR / 2) + 1] }')
echo "$ours $deap_ms $deap_hv" | awk '{ printf "ratio ZDT1: time %.4f of DEAP'"'"'s (goal <= 0.05), hypervolume %.4f of DEAP'"'"'s (goal >= 1)\n", $1 / $3, $2 / $4 }'
echo "fronts in $out"
