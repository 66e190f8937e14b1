#!/usr/bin/env bash
# Start the server and the builder UI together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
HOST=${PROMPTEUR_HOST:-127.0.0.1}
PORT=${PROMPTEUR_PORT:-8000}
UI_PORT=${PROMPTEUR_UI_PORT:-8501}

"$VENV/bin/prompteur" serve --host "$HOST" --port "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 120); do
  curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { echo "The server did not start; see the messages above." >&2; exit 1; }
  sleep 0.5
done

echo
echo "  Prompteur server:     http://$HOST:$PORT   (API docs: http://$HOST:$PORT/docs)"
echo "  Prompteur builder UI: http://$HOST:$UI_PORT"
echo
# Team use: the builder asks who you are. The first time, sign in with the admin token (the
# first owner's credential), then choose a name and password on the Team page.
HOME_DIR=${PROMPTEUR_HOME:-$HOME/.prompteur}
echo "  First sign-in: choose 'Admin token' on the sign-in page and paste the output of"
echo "      cat $HOME_DIR/admin_token"
echo "  then pick a name and password on the Team page (and add your team there)."
echo
PROMPTEUR_SERVER_URL="http://$HOST:$PORT" "$VENV/bin/streamlit" run streamlit_app.py \
  --server.port "$UI_PORT" --server.address "$HOST" --server.headless true \
  --browser.gatherUsageStats false
