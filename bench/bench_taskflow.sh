#!/usr/bin/env bash
# bench/bench_taskflow.sh BUILD_DIR — the CHORUS task flow under contention
# (create + claim + complete by 64 concurrent agents through the SPEC §7
# endpoints) against a fresh `swoosh serve` on a temp data dir.
#
# Environment: TASKFLOW_AGENTS (default 64), TASKFLOW_TASKS (default 4096;
# up to 65536 — the bench raises Policy.MaxTasks to 65536 first).
# Exits non-zero when a task was claimed twice or any check failed.
set -euo pipefail
build=${1:-build}
swoosh="$build/swoosh"
agents=${TASKFLOW_AGENTS:-64}
tasks=${TASKFLOW_TASKS:-4096}

tmp=$(mktemp -d /tmp/swoosh-taskflow-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$swoosh" serve --listen 127.0.0.1:0 --wal-dir "$tmp/wal" \
    --snapshot-dir "$tmp/snapshots" 2>"$tmp/server.log" &
pid=$!
port=
for _ in $(seq 1 400); do
    port=$(sed -n 's/.*event=started.* port=\([0-9]*\).*/\1/p' "$tmp/server.log" | head -n1)
    [ -n "$port" ] && break
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "bench_taskflow: the server did not start" >&2
    cat "$tmp/server.log" >&2
    exit 1
fi
echo "== bench_taskflow (HTTP, SPEC §7 endpoints)"
"$build/bench_taskflow" --url "http://127.0.0.1:$port" --agents "$agents" \
    --tasks "$tasks"
