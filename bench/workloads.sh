#!/usr/bin/env bash
# Create→running latency of the process driver over N workloads through the whole platform (AppHost, Release build),
# against the process driver starting the same process by itself, in one run.
# Usage: bench/workloads.sh [workloads]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build AppHost -c Release -v q -nologo >/dev/null
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
apphost="$PWD/AppHost/bin/Release/net10.0/AppHost.dll"
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll workloads "$apphost" "${1:-100}" 2>&1 | grep -E '^workloads'
