#!/usr/bin/env bash
# Ingest throughput: agents' gRPC batches committed in PostgreSQL vs raw binary COPY of the same rows, in one run.
# Usage: bench/ingest.sh [samples per path and round]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
# WebApplicationFactory finds each service's content root through the manifest beside the benchmark's binaries.
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll ingest "${1:-1000000}" 2>&1 | grep -E '^(ingest|platform|raw|ratio|rounds)'
