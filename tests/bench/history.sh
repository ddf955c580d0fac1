#!/usr/bin/env bash
# Benchmark: the history page and GET /api/audit on PostgreSQL holding 100,000 deployment
# requests and 1,000,000 audit entries (issue: target p95 under 50 ms); and the environments page
# and an environment's status with 100 registered environments, each running, with its history
# (about 12 deployments that succeeded and 20 requests each) among those requests.
#
#   tests/bench/history.sh [requests-per-endpoint] [concurrency]
#
# Uses the PostgreSQL on 127.0.0.1:5432 (database portal_bench, recreated), a release build of
# `portal`, and ApacheBench (apt package apache2-utils, installed if missing). Loopback only;
# a bounded number of requests; stops by itself.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/../../scripts/lib.sh"
cd "$PORTAL_ROOT"

n="${1:-2000}"
c="${2:-4}"
pg_admin="postgres://postgres@127.0.0.1:5432/postgres"
db_url="postgres://postgres@127.0.0.1:5432/portal_bench"

command -v ab >/dev/null || { echo "bench: installing apache2-utils (ab)"; apt-get install -y apache2-utils >/dev/null; }
echo "bench: cargo build --release -p server"
cargo build --release -p server --bin portal
portal="$CARGO_TARGET_DIR/release/portal"

psql "$pg_admin" -qc "DROP DATABASE IF EXISTS portal_bench WITH (FORCE)" -c "CREATE DATABASE portal_bench"
export DATABASE_URL="$db_url"
"$portal" migrate >/dev/null
printf 'bench-password-1\n' | "$portal" user add bench-viewer --role viewer >/dev/null
token="$("$portal" user add bench-lead --role requester --role approver --token --no-password | tail -n 1)"
"$portal" user add bench-approver --role approver --no-password >/dev/null

echo "bench: filling 100,000 requests, 50,000 approvals and 1,000,000 audit entries"
t0=$SECONDS
psql "$db_url" -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO deployment_requests (environment, tier, region, account_id, role_arn, justification, options, usage,
    monthly_cents, estimate, catalog_digest, required_approvals, requester_id, status, created_at, expires_at)
SELECT 'env-' || (g % 5000),
       (ARRAY['development','production-lite','full-production'])[1 + g % 3],
       'us-east-1', '123456789012', 'arn:aws:iam::123456789012:role/portal-deploy',
       'benchmark request ' || g, '[]', '{}', 10000 + g % 20000, '{}', 'bench',
       1 + (g % 3 = 2)::int, (SELECT id FROM users WHERE name = 'bench-lead'),
       (ARRAY['approved','rejected','expired','approved','approved'])[1 + g % 5],
       1700000000000 + g * 60000, 1700000000000 + g * 60000 + 259200000
FROM generate_series(1::bigint, 100000) g;
INSERT INTO approvals (request_id, approver_id, decision, comment, created_at)
SELECT id, (SELECT id FROM users WHERE name = 'bench-approver'), 'approve', 'ok', created_at + 1000
FROM deployment_requests WHERE id % 2 = 0;
INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, hash)
SELECT 1700000000000 + g * 6000, 'bench-lead', 'request.created', 'request:' || (g % 100000 + 1), '{}',
       md5('p' || g) || md5('q' || g), md5('h' || g) || md5('i' || g)
FROM generate_series(1::bigint, 1000000) g;
-- 100 registered environments (env-0 … env-99), each with the rollouts of its approved requests.
INSERT INTO environments (name, account_id, region, role_arn, external_id, tiers, requesters, approvers, created_by,
    created_at, updated_at)
SELECT 'env-' || g, '123456789012', 'us-east-1', 'arn:aws:iam::123456789012:role/portal-deploy', md5('x' || g),
       '["development","production-lite","full-production"]', '[]', '[]', 'bench', 1700000000000, 1700000000000
FROM generate_series(0, 99) g;
INSERT INTO rollouts (request_id, status, created_at, kind, environment, account_id, region, started_at, finished_at)
SELECT id, 'succeeded', created_at + 1000, 'deploy', environment, account_id, region, created_at + 2000,
       created_at + 60000
FROM deployment_requests WHERE status = 'approved';
ANALYZE;
SQL
echo "bench: filled in $((SECONDS - t0)) s: $(psql "$db_url" -Atc "SELECT (SELECT count(*) FROM deployment_requests) || ' requests, ' || (SELECT count(*) FROM approvals) || ' approvals, ' || (SELECT count(*) FROM audit_log) || ' audit entries'")"

port="$(portal_free_port)"
# The day-two sweep would check the 100 environments for drift (there is no AWS here): not now.
PORTAL_LIFECYCLE_SECONDS=86400 "$portal" serve --addr "127.0.0.1:$port" >"$PORTAL_CACHE/bench-portal.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
portal_wait_http "http://127.0.0.1:$port/" 60 "$pid"
cookie="$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/rpc/sign_in" -H "Origin: http://127.0.0.1:$port" \
    --data 'name=bench-viewer&password=bench-password-1' | sed -n 's/^[Ss]et-[Cc]ookie: \(portal_session=[0-9a-f]*\).*/\1/p')"
[ -n "$cookie" ] || portal_die "could not sign in as bench-viewer"
# Measure real pages: the newest request must be on the first page.
curl -s -b "$cookie" "http://127.0.0.1:$port/requests" | grep -q '#100000<' ||
    portal_die "the history page does not list the requests; nothing measured"

measure() { # label, path, auth header args...
    local label="$1" path="$2"
    shift 2
    local out
    out="$(ab -q -n "$n" -c "$c" "$@" "http://127.0.0.1:$port$path" 2>&1)"
    local failed p50 p95 p99 rps
    failed="$(awk '/^Failed requests:/ {print $3}' <<<"$out")"
    non2xx="$(awk '/^Non-2xx responses:/ {print $3}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p95="$(awk '$1 == "95%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    rps="$(awk '/^Requests per second:/ {print $4}' <<<"$out")"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$p50" "$p95" "$p99" "$rps" "${failed:-0}/${non2xx:-0}"
}

echo
echo "$n requests each, concurrency $c, PostgreSQL 100,000 requests / 1,000,000 audit entries:"
echo "| endpoint | p50 ms | p95 ms | p99 ms | req/s | failed/non-2xx |"
echo "|---|---|---|---|---|---|"
measure "history page /requests (server-rendered)" "/requests" -C "$cookie"
measure "history page, filtered by environment" "/requests?environment=env-42" -C "$cookie"
measure "history page, filtered by status, older page" "/requests?status=rejected&before=50000" -C "$cookie"
measure "GET /api/requests" "/api/requests" -H "Authorization: Bearer $token"
measure "GET /api/audit (newest 100)" "/api/audit" -H "Authorization: Bearer $token"
measure "GET /api/audit (page at entry 500,000)" "/api/audit?before=500000" -H "Authorization: Bearer $token"
curl -s -b "$cookie" "http://127.0.0.1:$port/environments" | grep -q '>env-99<' ||
    portal_die "the environments page does not list the environments; nothing measured"
measure "environments page /environments (100 running)" "/environments" -C "$cookie"
measure "GET /api/environments/env-42/status" "/api/environments/env-42/status" -H "Authorization: Bearer $token"
