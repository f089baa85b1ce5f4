#!/usr/bin/env bash
# The Tokenomics ledger's throughput (Release build), 16 concurrent clients on one PostgreSQL: transfers one per gRPC
# call and 1,000 per batched call, against one SQL statement per transfer and against pgbench's TPC-B on the same
# server, in one run; the ledger's invariants checked after it.
# Usage: bench/ledger.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll ledger
