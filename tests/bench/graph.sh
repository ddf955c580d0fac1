#!/usr/bin/env bash
# Benchmark: a rollout with its phases one after another against the same rollout along the phase
# graph (each phase as soon as those it imports from are done), on a sandbox that answers each
# AWS call after a delay, as AWS does (far shorter than AWS's minutes, so it is a lower bound of
# the gain).
#
#   tests/bench/graph.sh [runs] [tier] [latency ms]     (defaults: 3, full-production, 100)
#
# One sandbox, two release `portal serve` processes on fresh SQLite databases: one with
# PORTAL_MAX_PARALLEL_PHASES=1 (sequential), one with the default 3. Runs alternate. Reports the
# median wall time of each, and of the graph's critical path (network -> data -> compute -> CDN)
# as the sum of those phases' own durations in the graph runs: the floor a graph rollout can reach.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"
# shellcheck source=tests/bench/requests.sh
. "$here/requests.sh"
cd "$PORTAL_ROOT"

runs="${1:-3}"
tier="${2:-full-production}"
latency="${3:-100}"

echo "bench: cargo build --release -p server"
cargo build --release -p server --bin portal
portal="$CARGO_TARGET_DIR/release/portal"
command -v bc >/dev/null || { echo "bench: installing bc"; apt-get install -y bc >/dev/null; }

tmp="$(mktemp -d)"
moto_port="$(portal_free_port)"
endpoint="$(PORTAL_SANDBOX_LATENCY_MS="$latency" "$PORTAL_ROOT/scripts/sandbox" --port "$moto_port")"
pids=()
# shellcheck disable=SC2064  # expand now
trap "kill \${pids[*]} 2>/dev/null; '$PORTAL_ROOT/scripts/sandbox' --stop $moto_port; rm -rf '$tmp'" EXIT
portal_export_sandbox_aws "$endpoint"

# start_portal NAME MAX_PARALLEL: a portal on its own database; sets base_NAME and tokens_NAME.
declare -A base tokens
start_portal() {
    local name="$1" port db="sqlite://$tmp/$1.db?mode=rwc" t
    port="$(portal_free_port)"
    t="$(DATABASE_URL="$db" "$portal" user add lead --role requester --token --no-password | tail -n 1)"
    t="$t $(DATABASE_URL="$db" "$portal" user add alice --role approver --token --no-password | tail -n 1)"
    t="$t $(DATABASE_URL="$db" "$portal" user add bob --role approver --token --no-password | tail -n 1)"
    tokens[$name]="$t"
    DATABASE_URL="$db" PORTAL_MAX_PARALLEL_PHASES="$2" "$portal" serve --addr "127.0.0.1:$port" >"$tmp/$name.log" 2>&1 &
    pids+=($!)
    portal_wait_http "http://127.0.0.1:$port/readyz" 60 "${pids[-1]}"
    base[$name]="http://127.0.0.1:$port"
}
start_portal sequential 1
start_portal graph 3

: >"$tmp/times.txt"
for i in $(seq "$runs"); do
    for name in sequential graph; do
        env="$name-$i"
        DATABASE_URL="sqlite://$tmp/$name.db?mode=rwc" bench_register "$portal" "$env" "$tier"
        # shellcheck disable=SC2086  # three tokens
        out="$(bench_rollout "${base[$name]}" "$tier" "$env" ${tokens[$name]})" || exit 1
        read -r rollout seconds <<<"$out"
        echo "$name $rollout $seconds" >>"$tmp/times.txt"
        printf 'bench: run %s: %s rollout %s %.2f s\n' "$i" "$name" "$rollout" "$seconds"
    done
done

"$PORTAL_PYTHON" - "$tmp/times.txt" "$tmp/graph.db" <<'PY'
import sqlite3, statistics, sys
times = [l.split() for l in open(sys.argv[1]) if l.strip()]
seq = [float(t) for n, _, t in times if n == "sequential"]
par = [float(t) for n, _, t in times if n == "graph"]
db = sqlite3.connect(sys.argv[2])
critical = []
for _, rollout, _ in (t for t in times if t[0] == "graph"):
    # Phases 1, 2, 3, 5: network, data, compute, CDN (infra::PhaseGraph::critical_path).
    (ms,) = db.execute(
        "SELECT SUM(finished_at - started_at) FROM rollout_phases WHERE rollout_id = ? AND phase IN (1, 2, 3, 5)",
        (int(rollout),)).fetchone()
    critical.append(ms / 1000)
s, g, c = statistics.median(seq), statistics.median(par), statistics.median(critical)
print(f"sequential (1 phase at a time): median {s:.2f} s over {len(seq)} runs")
print(f"graph (up to 3 at once):        median {g:.2f} s over {len(par)} runs ({g / s:.2f} of sequential)")
print(f"critical path network -> data -> compute -> CDN: median {c:.2f} s (graph / critical path: {g / c:.2f})")
PY
