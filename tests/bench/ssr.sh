#!/usr/bin/env bash
# Benchmark: server-side rendering and the catalog API, requests per second with wrk (issue 11,
# part 3). A release `portal serve` on a fresh SQLite database, wrk on the same machine over
# loopback (both share its cores, as the issue measured), each URL for a fixed time after a
# warm-up; prints req/s, latency percentiles and the page's size in bytes.
#
#   tests/bench/ssr.sh [seconds-per-url] [connections]
#
# Uses wrk (apt package wrk, installed if missing). Loopback only; stops by itself.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"
cd "$PORTAL_ROOT"

seconds="${1:-10}"
connections="${2:-8}"
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y wrk >/dev/null; }
echo "bench: cargo build --release -p server"
cargo build --release -p server --bin portal
portal="$CARGO_TARGET_DIR/release/portal"

tmp="$(mktemp -d)"
port="$(portal_free_port)"
DATABASE_URL="sqlite://$tmp/bench.db?mode=rwc" "$portal" serve --addr "127.0.0.1:$port" >"$tmp/portal.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
portal_wait_http "http://127.0.0.1:$port/healthz" 60 "$pid"

printf '| URL | bytes | req/s | p50 | p99 |\n|---|---|---|---|---|\n'
for path in / /tiers/full-production /tiers/development /api/tiers/full-production /signin /healthz; do
    url="http://127.0.0.1:$port$path"
    bytes="$(curl -s "$url" | wc -c)"
    wrk -t2 -c"$connections" -d2s "$url" >/dev/null   # warm-up
    out="$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url")"
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    # shellcheck disable=SC2016  # the backticks are Markdown, not a command
    printf '| `%s` | %s | %s | %s | %s |\n' "$path" "$bytes" "$rps" "$p50" "$p99"
done
