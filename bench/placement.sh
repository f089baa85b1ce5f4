#!/usr/bin/env bash
# The Scheduler's placement solve (Release build) on 1,000 pending jobs x 100 simulated nodes with the service's own
# settings (1 s budget, population 100), five seeds: the solve's time, and the chosen solution against first-fit and
# best-fit placements of the same batch on every objective (dominates or not; % better per objective).
# Usage: bench/placement.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll placement
