#!/usr/bin/env bash
# Migration, in one run on this machine:
# 1. the transfer alone: a 512 MiB state folder sent twice with 5% of it changed between rounds — bytes on the wire vs
#    a plain copy, time vs tar|zstd|unzstd|untar of the same folder;
# 2. through the whole platform (AppHost, Release build, two NodeAgents): a running workload with that folder migrated
#    cold to the other node, then warm back while 5% of its blocks change during the pre-copy — time, downtime, bytes.
# Usage: bench/migration.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build AppHost -c Release -v q -nologo >/dev/null
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
apphost="$PWD/AppHost/bin/Release/net10.0/AppHost.dll"
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll migration "$apphost" 2>&1 | grep -E '^migration'
