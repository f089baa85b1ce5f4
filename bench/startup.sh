#!/usr/bin/env bash
# Measures the time from `dotnet run --project AppHost` (already built) to every resource healthy, against the time
# the same machine needs to start PostgreSQL alone from the same binaries (the floor no orchestrator can beat).
# Usage: bench/startup.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
dotnet build AppHost -v q -nologo >/dev/null

work=$(mktemp -d /tmp/platform-startup-XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

platform=()
for i in $(seq "$runs"); do
  ready="$work/ready-$i.json"
  start=$(now)
  dotnet run --project AppHost --no-build -- --data-dir "$work/data" --gateway-port 0 --no-web --ready-file "$ready" >"$work/apphost-$i.log" 2>&1 &
  pid=$!
  until [ -f "$ready" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/apphost-$i.log"; exit 1; }
    sleep 0.05
  done
  platform+=("$(awk -v a="$(now)" -v b="$start" 'BEGIN {printf "%.3f", a - b}')")
  kill -TERM "$(pgrep -f "AppHost/bin/.*/AppHost.*$ready")" 2>/dev/null || kill -TERM "$pid"
  wait "$pid" || true
done

# Baseline: PostgreSQL alone, started the same way the AppHost starts it (as the postgres user when root).
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=(); [ "$(id -u)" = 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
pgdata="$work/pg"; mkdir -p "$pgdata"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
"${as_pg[@]}" "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust --no-locale --no-instructions >/dev/null
postgres_only=()
for i in $(seq "$runs"); do
  port=$((20000 + RANDOM % 20000))
  start=$(now)
  "${as_pg[@]}" "$bindir/postgres" -D "$pgdata" -p "$port" -c listen_addresses=127.0.0.1 -c unix_socket_directories= >/dev/null 2>&1 &
  pid=$!
  until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; do sleep 0.05; done
  postgres_only+=("$(awk -v a="$(now)" -v b="$start" 'BEGIN {printf "%.3f", a - b}')")
  kill -INT "$pid"; wait "$pid" || true
done

p=$(printf '%s\n' "${platform[@]}" | median)
b=$(printf '%s\n' "${postgres_only[@]}" | median)
printf 'runs: %d\nplatform to all healthy (median): %.2f s   [%s]\npostgres alone (median):          %.2f s   [%s]\nratio platform/postgres:          %.1fx\n' \
  "$runs" "$p" "${platform[*]}" "$b" "${postgres_only[*]}" "$(awk -v a="$p" -v b="$b" 'BEGIN {print a / b}')"
