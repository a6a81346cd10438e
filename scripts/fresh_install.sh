#!/usr/bin/env bash
# The package alone (no extras) in a fresh virtualenv, as README's quick start installs it:
# `personae serve` must answer /healthz, then stop on SIGTERM with its database.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet .
port=$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/venv/bin/personae" serve --port "$port" --data-dir "$work/data" >"$work/serve.log" 2>&1 &
server=$!
"$work/venv/bin/python" - "$port" "$server" <<'PY'
import json, os, sys, time, urllib.request

port, server = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            print("fresh install serves:", json.load(answer))
            sys.exit(0)
    except OSError:
        try:
            os.kill(server, 0)
        except ProcessLookupError:
            sys.exit("personae serve exited")
        time.sleep(0.5)
sys.exit("no answer from /healthz within 90 s")
PY
status=0
kill -TERM "$server"
wait "$server" || status=$?
if [ "$status" -ne 0 ] || [ -e "$work/data/pg/postmaster.pid" ]; then
    cat "$work/serve.log"
    echo "personae serve did not stop cleanly on SIGTERM (exit $status)" >&2
    exit 1
fi
echo "fresh install stopped cleanly"
