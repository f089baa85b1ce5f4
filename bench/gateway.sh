#!/usr/bin/env bash
# What the gateway's door costs: a REST read through the gateway (JWT; API token) against the same read made directly
# to Compute, latency and throughput, in one run (AppHost, Release build); then login (Argon2id) and ES256 validation.
# Usage: bench/gateway.sh [requests]   (default 2000 per path and round)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build AppHost -c Release -v q -nologo >/dev/null
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
apphost="$PWD/AppHost/bin/Release/net10.0/AppHost.dll"
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll gateway "$apphost" "${1:-2000}" 2>&1 | grep -E '^gateway'
