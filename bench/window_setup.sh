#!/usr/bin/env bash
# Brings a fresh SWOOSH server to an open execution window (window "w1"), so
# EXECUTION_BEAT proposals are accepted: license, a one-role council through
# READY, an environment through READY, then EXECUTION_WINDOW_OPENED.
# usage: bench/window_setup.sh SWOOSH_BIN URL
set -euo pipefail
bin=$1
url=$2
step() {
    local t=$1 p=$2
    shift 2
    "$bin" submit --quiet --url "$url" --transition "$t" --signer bench \
        --idem-key "setup-$t" --payload "$p" "$@"
}
step LICENSE_GRANTED '{}'
step COUNCIL_PROFILES_LOADED '{"council_id":"c1","roles":[{"role":"lead","required":true}]}'
step COUNCIL_ROLE_CLAIMED '{"council_id":"c1","role":"lead","agent_id":"a1"}'
step COUNCIL_QUORUM_CERT '{"council_id":"c1","cert_hash":"cert1"}'
step COUNCIL_ELECT_COMPLETE '{"council_id":"c1"}'
step COUNCIL_TOOLING_SYNCED '{"council_id":"c1"}'
step ENV_ALLOCATION_REQUESTED '{"resources":{"cpu":"2"}}'
step ENV_ALLOCATED '{}'
step ENV_PROVISIONED '{}'
step ENV_HEALTH_GREEN '{}'
step EXECUTION_WINDOW_OPENED '{"window_id":"w1"}' --window-id w1
