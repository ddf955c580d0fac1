#!/usr/bin/env bash
# Benchmark: a whole six-phase rollout through the portal against the same six stacks deployed in
# sequence with `aws cloudformation deploy`, both on one moto sandbox in one run; and the portal's
# hand-off time between phases (CloudFormation's terminal status -> the next phase's first call).
#
#   tests/bench/rollout.sh [runs] [tier]        (defaults: 5 runs, development)
#
# Needs scripts/setup. Builds `portal` in release, installs the AWS CLI (v1, PyPI) into a venv of
# its own under $PORTAL_CACHE/bench-venv the first time, starts a sandbox and a portal on free
# loopback ports with a fresh SQLite database, and stops them when done. Runs alternate (CLI,
# portal, CLI, ...) on fresh environment names, so neither side benefits from the other's order.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"
cd "$PORTAL_ROOT"

runs="${1:-5}"
tier="${2:-development}"

bench_venv="$PORTAL_CACHE/bench-venv"
if [ ! -x "$bench_venv/bin/aws" ]; then
    echo "bench: installing the AWS CLI into $bench_venv"
    python3 -m venv "$bench_venv"
    "$bench_venv/bin/pip" install -q 'awscli==1.*'
fi
aws="$bench_venv/bin/aws"

echo "bench: cargo build --release -p server"
cargo build --release -p server --bin portal
portal="$CARGO_TARGET_DIR/release/portal"

tmp="$(mktemp -d)"
moto_port="$(portal_free_port)"
endpoint="$("$PORTAL_ROOT/scripts/sandbox" --port "$moto_port")"
port="$(portal_free_port)"
pid=""
# shellcheck disable=SC2064  # expand now
trap "[ -n \"\$pid\" ] && kill \$pid 2>/dev/null; '$PORTAL_ROOT/scripts/sandbox' --stop $moto_port; rm -rf '$tmp'" EXIT

portal_export_sandbox_aws "$endpoint"
export DATABASE_URL="sqlite://$tmp/portal.db?mode=rwc"
lead_token="$("$portal" user add bench-lead --role requester --token --no-password | tail -n 1)"
approver_token="$("$portal" user add bench-approver --role approver --token --no-password | tail -n 1)"
# Full Production needs two distinct approvers.
second_token="$("$portal" user add bench-approver-2 --role approver --token --no-password | tail -n 1)"
"$portal" serve --addr "127.0.0.1:$port" >"$tmp/portal.log" 2>&1 &
pid=$!
portal_wait_http "http://127.0.0.1:$port/api/tiers" 60 "$pid"
base="http://127.0.0.1:$port"

# The portal: request, approve, wait for the rollout to end. Prints the rollout id and wall time.
portal_run() {
    local env="$1" request rollout status start end
    request="$(curl -sf -X POST "$base/api/requests" -H "authorization: Bearer $lead_token" -H 'content-type: application/json' \
        -d "{\"environment\":\"$env\",\"tier\":\"$tier\",\"region\":\"us-east-1\",\"role_arn\":\"arn:aws:iam::123456789012:role/portal-deploy\",\"justification\":\"benchmark run $env\"}" |
        "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    start="$(date +%s.%N)"
    local token
    for token in "$approver_token" "$second_token"; do
        rollout="$(curl -sf "$base/api/requests/$request" -H "authorization: Bearer $lead_token" |
            "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rollout_id"] or "")')"
        [ -n "$rollout" ] && break
        curl -sf -X POST "$base/api/requests/$request/approve" -H "authorization: Bearer $token" \
            -H 'content-type: application/json' -d '{"comment":"bench"}' >/dev/null
    done
    rollout="$(curl -sf "$base/api/requests/$request" -H "authorization: Bearer $lead_token" |
        "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rollout_id"] or "")')"
    [ -n "$rollout" ] || { echo "bench: request $request was not approved" >&2; return 1; }
    local deadline=$((SECONDS + 300))
    while [ "$SECONDS" -lt "$deadline" ]; do
        status="$(curl -sf "$base/api/rollouts/$rollout" -H "authorization: Bearer $lead_token" |
            "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
        case "$status" in succeeded) break ;; failed|cancelled) echo "bench: rollout $rollout $status" >&2; return 1 ;; esac
        sleep 0.02
    done
    [ "$status" = succeeded ] || { echo "bench: rollout $rollout did not end within 300 s" >&2; return 1; }
    end="$(date +%s.%N)"
    echo "$rollout $(echo "$end - $start" | bc -l)"
}

# The AWS CLI: the same rendered templates and parameters, `aws cloudformation deploy` one by one.
cli_run() {
    local env="$1" dir="$tmp/$1" start end file slug params
    "$portal" templates render --tier "$tier" --environment "$env" --out "$dir" >/dev/null
    start="$(date +%s.%N)"
    for file in "$dir"/[1-6]-*.yaml; do
        slug="$(basename "$file" .yaml)"
        params="$("$PORTAL_PYTHON" -c 'import json,sys; print(" ".join(p["ParameterKey"] + "=" + p["ParameterValue"] for p in json.load(open(sys.argv[1]))))' "$dir/$slug.parameters.json")"
        # shellcheck disable=SC2086  # one word per parameter
        "$aws" cloudformation deploy --endpoint-url "$endpoint" --region us-east-1 --stack-name "$env-${slug#*-}" \
            --template-file "$file" --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
            ${params:+--parameter-overrides $params} >/dev/null || return 1
    done
    end="$(date +%s.%N)"
    # Both sides must have deployed the same thing: six stacks, all complete.
    complete="$("$aws" cloudformation list-stacks --endpoint-url "$endpoint" --region us-east-1 \
        --stack-status-filter CREATE_COMPLETE --query "length(StackSummaries[?starts_with(StackName, '$env-')])" --output text)"
    [ "$complete" = 6 ] || { echo "bench: the CLI left $complete of 6 stacks complete for $env" >&2; return 1; }
    echo "$end - $start" | bc -l
}

command -v bc >/dev/null || { echo "bench: installing bc"; apt-get install -y bc >/dev/null; }
: >"$tmp/cli.txt"
: >"$tmp/portal.txt"
for i in $(seq "$runs"); do
    t="$(cli_run "cli-$i")" || exit 1
    echo "$t" >>"$tmp/cli.txt"
    out="$(portal_run "portal-$i")" || exit 1
    read -r rollout p <<<"$out"
    echo "$rollout $p" >>"$tmp/portal.txt"
    printf 'bench: run %s: aws cloudformation deploy x6 %.2f s, portal rollout %s %.2f s\n' "$i" "$t" "$rollout" "$p"
done

# Hand-off: for phases 2..6, the next phase's start (recorded before its first AWS call) minus the
# time CloudFormation reported the previous stack's terminal event.
"$PORTAL_PYTHON" - "$tmp/portal.db" "$tmp/cli.txt" "$tmp/portal.txt" <<'PY'
import sqlite3, statistics, sys
from datetime import datetime

db = sqlite3.connect(sys.argv[1])
cli = [float(l) for l in open(sys.argv[2]) if l.strip()]
portal = [float(l.split()[1]) for l in open(sys.argv[3]) if l.strip()]
ids = [int(l.split()[0]) for l in open(sys.argv[3]) if l.strip()]

def ms(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000

handoffs = []
for rollout in ids:
    for phase in range(1, 6):
        last = db.execute(
            "SELECT at FROM rollout_events WHERE rollout_id = ? AND phase = ? AND resource_type = 'AWS::CloudFormation::Stack' "
            "AND status LIKE '%_COMPLETE' ORDER BY id DESC LIMIT 1", (rollout, phase)).fetchone()
        nxt = db.execute("SELECT started_at FROM rollout_phases WHERE rollout_id = ? AND phase = ?", (rollout, phase + 1)).fetchone()
        if last and nxt and nxt[0]:
            handoffs.append(nxt[0] - ms(last[0]))

def line(name, xs, unit):
    xs = sorted(xs)
    print(f"{name}: median {statistics.median(xs):.2f} {unit}, min {xs[0]:.2f}, max {xs[-1]:.2f} (n={len(xs)})")

line("aws cloudformation deploy, six stacks in sequence", cli, "s")
line("portal rollout, approval to succeeded", portal, "s")
line("portal hand-off, terminal event -> next phase's first call", handoffs, "ms")
print(f"portal / CLI (medians): {statistics.median(portal) / statistics.median(cli):.2f}")
PY
