# shellcheck shell=bash
# Shared by the rollout benchmarks: a deployment through the portal's API, timed.

# bench_register PORTAL_BINARY ENVIRONMENT TIER: registers ENVIRONMENT (moto's account) for TIER.
bench_register() {
    "$1" environment add "$2" --account 123456789012 --region us-east-1 \
        --role-arn arn:aws:iam::123456789012:role/portal-deploy --tiers "$3" --if-missing >/dev/null
}

# bench_rollout BASE TIER ENVIRONMENT LEAD_TOKEN APPROVER_TOKEN SECOND_APPROVER_TOKEN
# Requests TIER for ENVIRONMENT (registered: bench_register), approves it
# (twice where the tier needs two), polls every 20 ms until the rollout succeeds. Prints
# "<rollout id> <seconds from the first approval to succeeded>"; fails when it does not succeed.
bench_rollout() {
    local base="$1" tier="$2" env="$3" lead="$4" request rollout status start end token
    shift 4
    request="$(curl -sf -X POST "$base/api/requests" -H "authorization: Bearer $lead" -H 'content-type: application/json' \
        -d "{\"environment\":\"$env\",\"tier\":\"$tier\",\"region\":\"us-east-1\",\"role_arn\":\"arn:aws:iam::123456789012:role/portal-deploy\",\"justification\":\"benchmark run $env\"}" |
        "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    start="$(date +%s.%N)"
    for token in "$@"; do
        rollout="$(curl -sf "$base/api/requests/$request" -H "authorization: Bearer $lead" |
            "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rollout_id"] or "")')"
        [ -n "$rollout" ] && break
        curl -sf -X POST "$base/api/requests/$request/approve" -H "authorization: Bearer $token" \
            -H 'content-type: application/json' -d '{"comment":"bench"}' >/dev/null
    done
    rollout="$(curl -sf "$base/api/requests/$request" -H "authorization: Bearer $lead" |
        "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["rollout_id"] or "")')"
    [ -n "$rollout" ] || { echo "bench: request $request was not approved" >&2; return 1; }
    local deadline=$((SECONDS + 300))
    while [ "$SECONDS" -lt "$deadline" ]; do
        status="$(curl -sf "$base/api/rollouts/$rollout" -H "authorization: Bearer $lead" |
            "$PORTAL_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
        case "$status" in succeeded) break ;; failed|cancelled) echo "bench: rollout $rollout $status" >&2; return 1 ;; esac
        sleep 0.02
    done
    [ "$status" = succeeded ] || { echo "bench: rollout $rollout did not end within 300 s" >&2; return 1; }
    end="$(date +%s.%N)"
    echo "$rollout $(echo "$end - $start" | bc -l)"
}
