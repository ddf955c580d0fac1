#!/usr/bin/env bash
# Benchmark: N browsers watching one running rollout (server-sent events).
#
#   tests/bench/live.sh [watchers] [sqlite|postgres] [tier]   (defaults: 1000, sqlite, full-production)
#
# sqlite: one portal process. postgres: two portal processes on one fresh PostgreSQL database
# (127.0.0.1:5432), half the watchers on each; one of them runs the rollout, the other learns of
# it through NOTIFY only. The sandbox answers each AWS call after BENCH_LATENCY_MS (100) ms, so a rollout lasts long
# enough to watch. Reports, over the time all N streams are open: the portal
# processes' CPU (cores, from /proc), their peak RSS, and the delay from an event's commit
# (`recorded_at`) to its arrival on each stream (p50, p95, max; events recorded after all streams
# opened). The watchers run in one Python process (tests/bench/live_watchers.py) on the same
# machine. Needs scripts/setup; builds `portal` in release.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"
cd "$PORTAL_ROOT"

watchers="${1:-1000}"
mode="${2:-sqlite}"
tier="${3:-full-production}"
case "$mode" in sqlite | postgres) ;; *) portal_die "mode must be sqlite or postgres, got $mode" ;; esac

echo "bench: cargo build --release -p server"
cargo build --release -p server --bin portal
portal="$CARGO_TARGET_DIR/release/portal"

tmp="$(mktemp -d)"
moto_port="$(portal_free_port)"
endpoint="$(PORTAL_SANDBOX_LATENCY_MS="${BENCH_LATENCY_MS:-100}" "$PORTAL_ROOT/scripts/sandbox" --port "$moto_port")"
pids=()
pg_db=""
cleanup() {
    [ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    "$PORTAL_ROOT/scripts/sandbox" --stop "$moto_port"
    [ -n "$pg_db" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

portal_export_sandbox_aws "$endpoint"
if [ "$mode" = postgres ]; then
    pg_db="bench_live_$$"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_db"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db"
    processes=2
else
    export DATABASE_URL="sqlite://$tmp/portal.db?mode=rwc"
    processes=1
fi
export PORTAL_LIVE_STREAMS_PER_USER="$watchers" PORTAL_LIVE_STREAMS_TOTAL="$((watchers * 2))"
lead="$("$portal" user add bench-lead --role requester --token --no-password | tail -n 1)"
approver="$("$portal" user add bench-approver --role approver --token --no-password | tail -n 1)"
approver2="$("$portal" user add bench-approver-2 --role approver --token --no-password | tail -n 1)"
viewer="$("$portal" user add bench-viewer --role viewer --token --no-password | tail -n 1)"
"$portal" environment add crowd --account 123456789012 --region us-east-1 \
    --role-arn arn:aws:iam::123456789012:role/portal-deploy --tiers "$tier" >/dev/null
bases=()
for i in $(seq "$processes"); do
    port="$(portal_free_port)"
    "$portal" serve --addr "127.0.0.1:$port" >"$tmp/portal-$i.log" 2>&1 &
    pids+=($!)
    portal_wait_http "http://127.0.0.1:$port/readyz" 60 "${pids[-1]}"
    bases+=("http://127.0.0.1:$port")
done

json() { "$PORTAL_PYTHON" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
request="$(curl -sf -X POST "${bases[0]}/api/requests" -H "authorization: Bearer $lead" -H 'content-type: application/json' \
    -d "{\"environment\":\"crowd\",\"tier\":\"$tier\",\"region\":\"us-east-1\",\"role_arn\":\"arn:aws:iam::123456789012:role/portal-deploy\",\"justification\":\"live benchmark\"}" |
    json '["id"]')"
# (Full Production needs two approvers; a second approval of an approved request is refused.)
for token in "$approver" "$approver2"; do
    curl -s -X POST "${bases[0]}/api/requests/$request/approve" -H "authorization: Bearer $token" \
        -H 'content-type: application/json' -d '{"comment":"bench"}' >/dev/null
done
rollout="$(curl -sf "${bases[0]}/api/requests/$request" -H "authorization: Bearer $lead" | json '["rollout_id"]')"

# CPU ticks (user + system) of every portal process, summed.
ticks() {
    local total=0 pid stat
    for pid in "${pids[@]}"; do
        stat="$(cut -d' ' -f14,15 "/proc/$pid/stat")"
        total=$((total + ${stat% *} + ${stat#* }))
    done
    echo "$total"
}
echo "bench: rollout $rollout, $watchers watchers over $processes process(es) ($mode)"
"$PORTAL_PYTHON" "$here/live_watchers.py" "$tmp/received.json" "$viewer" "$rollout" "$watchers" "${bases[@]}" &
client=$!
# The window: from all streams open (the client's file says when) to the rollout's end. Sampled
# here by waiting for the client, whose streams end with the rollout.
start_ticks="$(ticks)"
start_ms="$(date +%s%3N)"
wait "$client"
end_ticks="$(ticks)"
end_ms="$(date +%s%3N)"
peak_kb=0
for pid in "${pids[@]}"; do
    kb="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"
    peak_kb=$((peak_kb + kb))
done

if [ "$mode" = postgres ]; then
    psql -At -F ' ' -h 127.0.0.1 -U postgres -d "$pg_db" \
        -c "SELECT id, recorded_at FROM rollout_events WHERE rollout_id = $rollout" >"$tmp/recorded.txt"
else
    "$PORTAL_PYTHON" -c 'import sqlite3,sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute("SELECT id, recorded_at FROM rollout_events WHERE rollout_id = ?", (int(sys.argv[2]),))]' \
        "$tmp/portal.db" "$rollout" >"$tmp/recorded.txt"
fi
"$PORTAL_PYTHON" - "$tmp/received.json" "$tmp/recorded.txt" "$watchers" "$((end_ticks - start_ticks))" \
    "$(getconf CLK_TCK)" "$start_ms" "$end_ms" "$peak_kb" <<'PY'
import json, sys
received = json.load(open(sys.argv[1]))
recorded = {int(i): int(at) for i, at in (l.split() for l in open(sys.argv[2]) if l.strip())}
watchers, ticks, hz, start, end, peak_kb = (int(x) for x in sys.argv[3:9])
after = received["connected_ms"]
delays = sorted(t - recorded[int(i)] for i, ts in received["received"].items() if recorded.get(int(i), 0) >= after for t in ts)
complete = sum(1 for i, ts in received["received"].items() if len(ts) == watchers)
print(f"streams that saw the end: {received['ended']} of {watchers}; errors: {received['errors']}")
print(f"events: {len(recorded)} recorded, {complete} reached every stream; {len(delays)} arrivals after all streams opened")
if delays:
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"event delay after commit: p50 {pick(0.5):.0f} ms, p95 {pick(0.95):.0f} ms, max {delays[-1]:.0f} ms")
window = (end - start) / 1000
print(f"portal CPU: {ticks / hz:.2f} s over {window:.1f} s = {ticks / hz / window:.2f} cores; peak RSS {peak_kb / 1024:.0f} MB (all processes)")
PY
