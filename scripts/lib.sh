# shellcheck shell=bash
# Helpers shared by scripts/setup, scripts/run, scripts/test and scripts/sandbox.
# Source it (". scripts/lib.sh"); it sets no shell options of its own.
#
# Exports for later scripts (and for the tests crate / Playwright):
#   PORTAL_ROOT        the repository root
#   PORTAL_CACHE       persistent cache outside the clone ($HOME/.cache/concert-portal)
#   CARGO_TARGET_DIR   $PORTAL_CACHE/targets/<folder>-<hash of its path>, unless already set: one
#                      per checkout, so two checkouts never swap each other's wasm or binaries
#                      (cargo does not re-copy a fresh artifact), and a clone at the same path
#                      (CI's) builds incrementally
#   PORTAL_VENV        $PORTAL_CACHE/venv (moto, cfn-lint; made by scripts/setup)
#   PORTAL_PYTHON      $PORTAL_VENV/bin/python
#   CFN_LINT           $PORTAL_VENV/bin/cfn-lint
#   CHECKOV            $PORTAL_VENV/bin/checkov
#   PORTAL_MOTO_LAUNCHER  tools/sandbox/moto_server.py (moto server with the change-set fix)
#   CHROMIUM_PATH      Debian's chromium (command -v chromium), when installed
#   PATH               with node_modules/.bin and cargo's bin dir in front

PORTAL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PORTAL_ROOT

portal_log() { printf '%s\n' "$*" >&2; }
portal_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# (Re)compute the exported environment; call again after scripts/setup installed things.
portal_export_env() {
    export PORTAL_CACHE="${PORTAL_CACHE:-$HOME/.cache/concert-portal}"
    local checkout
    checkout="$(basename "$PORTAL_ROOT")-$(printf '%s' "$PORTAL_ROOT" | sha256sum | cut -c1-10)"
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PORTAL_CACHE/targets/$checkout}"
    # The AWS SDK otherwise probes the EC2 instance metadata address when it finds no
    # configuration; this machine only reaches loopback. Unset it to use an instance role.
    export AWS_EC2_METADATA_DISABLED="${AWS_EC2_METADATA_DISABLED:-true}"
    export PORTAL_VENV="$PORTAL_CACHE/venv"
    export PORTAL_PYTHON="$PORTAL_VENV/bin/python"
    export CFN_LINT="$PORTAL_VENV/bin/cfn-lint"
    export CHECKOV="$PORTAL_VENV/bin/checkov"
    export PORTAL_MOTO_LAUNCHER="$PORTAL_ROOT/tools/sandbox/moto_server.py"
    local cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
    case ":$PATH:" in *":$cargo_bin:"*) ;; *) [ -d "$cargo_bin" ] && PATH="$cargo_bin:$PATH" ;; esac
    case ":$PATH:" in *":$PORTAL_ROOT/node_modules/.bin:"*) ;; *) PATH="$PORTAL_ROOT/node_modules/.bin:$PATH" ;; esac
    export PATH
    CHROMIUM_PATH="$(command -v chromium || true)"
    export CHROMIUM_PATH
}
portal_export_env

# sha256 of a file (just the hex digest).
portal_hash() { sha256sum "$1" | cut -d' ' -f1; }

# A free TCP port on 127.0.0.1 (the kernel picks one; tiny race until the caller binds it).
portal_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True when URL answers HTTP at all (any status code).
portal_http_answers() {
    local code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null)" || true
    [ -n "$code" ] && [ "$code" != "000" ]
}

# True when a moto server answers at ENDPOINT (http://host:port).
portal_moto_answers() {
    curl -sf -o /dev/null -m 2 "$1/moto-api/" 2>/dev/null
}

# portal_wait_http URL SECONDS [PID]: wait until URL answers; fail early when PID has exited.
portal_wait_http() {
    local url="$1" secs="$2" pid="${3:-}" i
    for ((i = 0; i < secs * 5; i++)); do
        portal_http_answers "$url" && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            portal_log "process $pid exited before $url answered"
            return 1
        fi
        sleep 0.2
    done
    portal_log "$url did not answer within ${secs}s"
    return 1
}

# True when AWS credentials are configured (env or shared credentials file).
portal_has_aws_credentials() {
    [ -n "${AWS_ACCESS_KEY_ID:-}" ] || [ -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]
}

# Environment the portal binary needs at run time (cargo-leptos sets the same ones while building;
# values mirror [[workspace.metadata.leptos]] in Cargo.toml). Paths are relative to PORTAL_ROOT.
portal_export_leptos_env() {
    local addr="$1"
    export LEPTOS_OUTPUT_NAME=portal
    export LEPTOS_SITE_ROOT=target/site
    export LEPTOS_SITE_PKG_DIR=pkg
    export LEPTOS_SITE_ADDR="$addr"
    export LEPTOS_ENV=PROD
}

# Point the AWS SDK at a sandbox endpoint with dummy credentials.
portal_export_sandbox_aws() {
    export AWS_ENDPOINT_URL="$1"
    export AWS_ACCESS_KEY_ID=test
    export AWS_SECRET_ACCESS_KEY=test
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    export PORTAL_SANDBOX=1
    unset AWS_PROFILE AWS_SESSION_TOKEN
}
