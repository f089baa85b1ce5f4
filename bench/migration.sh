#!/usr/bin/env bash
# A 512 MiB state folder sent twice through the migration transfer with 5% of it changed between rounds: bytes on the
# wire vs a plain copy, time vs tar|zstd|unzstd|untar of the same folder, in one run.
# Usage: bench/migration.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/Platform.Benchmarks -c Release -v q -nologo >/dev/null
cd tests/Platform.Benchmarks/bin/Release/net10.0
dotnet Platform.Benchmarks.dll migration 2>&1 | grep -E '^migration'
