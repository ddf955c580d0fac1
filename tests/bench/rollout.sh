#!/usr/bin/env bash
# Benchmark: a whole six-phase rollout through the portal against the same six stacks deployed in
# sequence with `aws cloudformation deploy`, both on one moto sandbox in one run; and the portal's
# hand-off time between phases (CloudFormation's terminal status of the last phase a phase imports
# from -> that phase's first call).
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
# shellcheck source=tests/bench/requests.sh
. "$here/requests.sh"
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
    bench_register "$portal" "$1" "$tier"
    bench_rollout "$base" "$tier" "$1" "$lead_token" "$approver_token" "$second_token"
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

# Hand-off: for each phase that imports from others, its start (recorded before its first AWS
# call) minus the time CloudFormation reported the terminal event of the last of those phases
# (the phase graph, from the tier API).
curl -sf "$base/api/tiers/$tier" -H "authorization: Bearer $lead_token" >"$tmp/tier.json"
"$PORTAL_PYTHON" - "$tmp/portal.db" "$tmp/cli.txt" "$tmp/portal.txt" "$tmp/tier.json" <<'PY'
import json, sqlite3, statistics, sys
from datetime import datetime

db = sqlite3.connect(sys.argv[1])
cli = [float(l) for l in open(sys.argv[2]) if l.strip()]
portal = [float(l.split()[1]) for l in open(sys.argv[3]) if l.strip()]
ids = [int(l.split()[0]) for l in open(sys.argv[3]) if l.strip()]
needs = {p["number"]: p["needs"] for p in json.load(open(sys.argv[4]))["phases"]}

def ms(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000

handoffs = []
for rollout in ids:
    for phase, before in needs.items():
        ends = []
        for need in before:
            last = db.execute(
                "SELECT at FROM rollout_events WHERE rollout_id = ? AND phase = ? AND resource_type = 'AWS::CloudFormation::Stack' "
                "AND status LIKE '%_COMPLETE' ORDER BY id DESC LIMIT 1", (rollout, need)).fetchone()
            if last:
                ends.append(ms(last[0]))
        start = db.execute("SELECT started_at FROM rollout_phases WHERE rollout_id = ? AND phase = ?", (rollout, phase)).fetchone()
        if ends and len(ends) == len(before) and start and start[0]:
            handoffs.append(start[0] - max(ends))

def line(name, xs, unit):
    xs = sorted(xs)
    print(f"{name}: median {statistics.median(xs):.2f} {unit}, min {xs[0]:.2f}, max {xs[-1]:.2f} (n={len(xs)})")

line("aws cloudformation deploy, six stacks in sequence", cli, "s")
line("portal rollout, approval to succeeded", portal, "s")
line("portal hand-off, last needed phase's terminal event -> the phase's first call", handoffs, "ms")
print(f"portal / CLI (medians): {statistics.median(portal) / statistics.median(cli):.2f}")
PY
