#!/usr/bin/env bash
# Live-event fan-out: N WebSocket clients of /ws/realtime on one topic at 10 events/s — delivery latency p50/p99 and the
# gateway's CPU — against N raw Redis pub/sub subscribers of the same server, in one run (AppHost, Release build).
# Usage: bench/realtime.sh [clients] [seconds]   (default 1000 clients, 30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build AppHost -c Release -v q -nologo >/dev/null
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
apphost="$PWD/AppHost/bin/Release/net10.0/AppHost.dll"
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll realtime "$apphost" "${1:-1000}" "${2:-30}" 2>&1 | grep -E '^realtime'
