#!/usr/bin/env bash
# `make serve`: the partnership workspace on the demo workspace, on http://127.0.0.1:8000/.
# The first run adds an administrator and prints their one-time password (keep it: it is not shown again).
set -euo pipefail
cd "$(dirname "$0")/.."
WS=${1:-demo-workspace}
CSPKIT=.venv/bin/cspkit
ADMIN=${CSPKIT_ADMIN_EMAIL:-admin@partnership.example}
[ -f "$WS/cspkit.toml" ] || bash scripts/demo.sh "$WS"
if [ ! -f "$WS/.cspkit/web-admin-created" ]; then
  $CSPKIT user add "$ADMIN" --role administrator --workspace "$WS"
  touch "$WS/.cspkit/web-admin-created"
  echo "Sign in at http://127.0.0.1:8000/sign-in as $ADMIN with the password above; add other users on the Users page."
fi
exec $CSPKIT serve --workspace "$WS" --host 127.0.0.1 --port "${PORT:-8000}"
