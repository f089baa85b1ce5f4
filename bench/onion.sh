#!/usr/bin/env bash
# The onion network over loopback (Release build): a 3-hop circuit's throughput and added latency against a direct TCP
# connection to the same server, the per-hop cell crypto against raw AES-256-GCM on the same buffers, and circuit
# build time p50/p95 — in one run.
# Usage: bench/onion.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll onion
