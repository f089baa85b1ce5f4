#!/usr/bin/env bash
# Range-query latency over 1,000 series × 24 h at 10 s: REST API vs the same query's SQL, in one run.
# Usage: bench/query.sh [runs per query]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll query "${1:-20}" 2>&1 | grep -E '^(query|1-minute|5-minute|1-hour)'
