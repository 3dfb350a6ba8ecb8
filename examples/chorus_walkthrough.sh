#!/usr/bin/env bash
# examples/chorus_walkthrough.sh — a CHORUS council formation and task round
# against a running SWOOSH, through the WHOOSH-compatible endpoints (SPEC §7)
# plus POST /transition for the phases they do not cover. docs/CHORUS.md
# walks through the same requests.
#
#   make run                               # in another terminal
#   examples/chorus_walkthrough.sh         # or SWOOSH_URL=http://host:port
#
# Needs bash and curl. Every request carries a fixed Idempotency-Key (or
# idem_key), so running the script again against the same server repeats
# the same answers with "duplicate":true and changes nothing. Exits non-zero
# on the first answer that is not the expected one. SWOOSH_API_TOKEN is sent
# as a bearer token when set.
set -euo pipefail

base=${SWOOSH_URL:-http://127.0.0.1:8080}
auth=()
if [ -n "${SWOOSH_API_TOKEN:-}" ]; then
    auth=(-H "Authorization: Bearer $SWOOSH_API_TOKEN")
fi

fail() {
    echo "chorus_walkthrough: $*" >&2
    exit 1
}

# req METHOD PATH [BODY [IDEMPOTENCY_KEY]] — prints the exchange; sets
# $status and $body.
req() {
    local method=$1 path=$2 data=${3:-} key=${4:-}
    local args=(-sS -X "$method" "${auth[@]}" -w '\n%{http_code}')
    if [ -n "$data" ]; then
        args+=(-H 'Content-Type: application/json' --data "$data")
    fi
    if [ -n "$key" ]; then
        args+=(-H "Idempotency-Key: $key")
    fi
    local out
    out=$(curl "${args[@]}" "$base$path") || fail "$method $path: no answer from $base"
    status=${out##*$'\n'}
    body=${out%$'\n'*}
    echo "\$ $method $path${data:+ $data}"
    echo "$status $body"
    echo
}

# ok METHOD PATH BODY KEY — a state-changing request that must succeed.
ok() {
    req "$@"
    [ "$status" = 200 ] || fail "$1 $2: HTTP $status"
    case $body in
    *'"success":true'*) ;;
    *) fail "$1 $2: not applied" ;;
    esac
}

# transition NAME SIGNER PAYLOAD [WINDOW] — POST /transition, fixed idem_key.
transition() {
    local window=${4:-}
    ok POST /transition "{\"transition\":\"$1\",\"signer\":\"$2\",\"idem_key\":\"walkthrough-$1-$2\",\"payload\":$3${window:+,\"window_id\":\"$window\"}}"
}

# expect BODY_SUBSTRING — the last answer must contain it.
expect() {
    case $body in
    *"$1"*) ;;
    *) fail "expected $1 in: $body" ;;
    esac
}

req GET /health
[ "$status" = 200 ] || fail "GET /health: HTTP $status"

echo "## 1. License the node"
transition LICENSE_GRANTED operator '{"license_id":"lic-demo"}'

echo "## 2. WHOOSH posts a council opportunity; three agents claim roles"
ok POST /api/v1/opportunities/council \
    '{"council_id":"council-demo","roles":[{"role_name":"architect","required":true},{"role_name":"developer","required":true},{"role_name":"reviewer","required":false}]}' \
    walkthrough-opportunity
ok POST /api/v1/councils/council-demo/claims \
    '{"agent_id":"agent-alice","role_name":"architect"}' walkthrough-claim-alice
ok POST /api/v1/councils/council-demo/claims \
    '{"agent_id":"agent-bob","role_name":"developer"}' walkthrough-claim-bob
ok POST /api/v1/councils/council-demo/claims \
    '{"agent_id":"agent-carol","role_name":"reviewer"}' walkthrough-claim-carol

echo "## 3. A claim for another council is refused"
req POST /api/v1/councils/council-other/claims \
    '{"agent_id":"agent-dave","role_name":"architect"}'
[ "$status" = 400 ] || fail "expected 400, got $status"
expect '"code":"COUNCIL_MISMATCH"'

echo "## 4. Quorum certificate, election, tooling; environment; window"
transition COUNCIL_QUORUM_CERT agent-alice '{"council_id":"council-demo","cert_hash":"cert-demo"}'
transition COUNCIL_ELECT_COMPLETE agent-alice '{"council_id":"council-demo"}'
transition COUNCIL_TOOLING_SYNCED agent-alice '{"council_id":"council-demo"}'
transition ENV_ALLOCATION_REQUESTED operator '{"resources":{"cpu":"4","memory":"8Gi"}}'
transition ENV_ALLOCATED operator '{}'
transition ENV_PROVISIONED operator '{}'
transition ENV_HEALTH_GREEN operator '{}'
transition EXECUTION_WINDOW_OPENED agent-alice '{"window_id":"window-demo"}' window-demo

echo "## 5. Tasks: created, claimed, listed"
ok POST /api/v1/tasks '{"task_id":"task-api","title":"Design the API"}' walkthrough-task-api
ok POST /api/v1/tasks '{"task_id":"task-impl","title":"Implement the parser"}' walkthrough-task-impl
ok POST /api/v1/tasks/task-api/claim '{"agent_id":"agent-alice"}' walkthrough-claim-task-api
transition EXECUTION_PLAN_LOCKED agent-alice '{}' window-demo
ok POST /api/v1/tasks/task-impl/claim '{"agent_id":"agent-bob"}' walkthrough-claim-task-impl
req POST /api/v1/tasks/task-impl/claim '{"agent_id":"agent-carol"}'
[ "$status" = 400 ] || fail "expected 400, got $status"
# (on a second run the window is closed already: INVALID_PHASE)
case $body in
*'"code":"TASK_NOT_OPEN"'* | *'"code":"INVALID_PHASE"'*) ;;
*) fail "expected TASK_NOT_OPEN in: $body" ;;
esac
req GET /api/v1/tasks
[ "$status" = 200 ] || fail "GET /api/v1/tasks: HTTP $status"
expect '"id":"task-api"'
expect '"id":"task-impl"'

echo "## 6. Work is completed; the same request again is a duplicate"
ok POST /api/v1/tasks/task-api/complete \
    '{"agent_id":"agent-alice","result":"ucxl://results/task-api"}' walkthrough-complete-task-api
ok POST /api/v1/tasks/task-impl/complete \
    '{"agent_id":"agent-bob","result":"ucxl://results/task-impl"}' walkthrough-complete-task-impl
ok POST /api/v1/tasks/task-impl/complete \
    '{"agent_id":"agent-bob","result":"ucxl://results/task-impl"}' walkthrough-complete-task-impl
expect '"duplicate":true'
req GET '/api/v1/tasks?status=completed'
expect '"Claimant":"agent-bob"'

echo "## 7. Review, approvals, reverb, close"
transition EXECUTION_REVIEW_STARTED agent-alice '{}' window-demo
transition EXECUTION_APPROVAL agent-alice '{}' window-demo
transition EXECUTION_APPROVAL agent-bob '{}' window-demo
transition EXECUTION_REVIEW_PASSED agent-alice '{}' window-demo
transition EXECUTION_WINDOW_CLOSED agent-alice '{}' window-demo

echo "## 8. Final state"
req GET '/state?projection=Council'
expect '"Phase":"READY"'
expect '"AgentID":"agent-carol"'
req GET '/state?projection=Execution'
expect '"Approvals":["agent-alice","agent-bob"]'
expect '"Phase":"IDLE"'
echo "chorus_walkthrough: ok"
