#!/usr/bin/env bash
# The MCP Inspector CLI (@modelcontextprotocol/inspector --cli, pinned in package.json) against
# /mcp of `switchboard serve` in sandbox mode, in both protocol eras (legacy: the 2025-11-25
# handshake and a session; modern: stateless 2026-07-28):
# - tools/list with --strict (the Inspector's tool-schema portability check: any error, such
#   as a bare `true` where a client expects a schema object, exits 6) lists every method of
#   rpc.discover as a tool with a valid name;
# - tools/call calcom_getEventTypes answers the demo tenant's event types as structured content;
# - tools/call with an argument the method refuses is a tool error (exit 5), not a crash;
# - without the bearer token the Inspector gets no further than asking for OAuth.
#
#   cargo build --bin switchboard && tests/mcp/inspector.sh
#
# Needs npm on the first run (the tools are installed into target/mcp-tools, see lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_tools
start_server
SCRATCH="$WORKDIR"
# The Inspector keeps a catalog, a client config and OAuth state under $HOME: not ours.
export HOME="$SCRATCH"
INSPECTOR="$TOOLS/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"

inspector() {
  "$NODE" "$INSPECTOR" --cli "$MCP_URL" --transport http --format json --quiet "$@"
}

# Runs the Inspector ($2…) expecting exit status $1; its stdout goes to $SCRATCH/out.json.
expect_exit() {
  local want=$1 got=0
  shift
  inspector "$@" >"$SCRATCH/out.json" 2>"$SCRATCH/err.txt" || got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: inspector $* exited $got, expected $want" >&2
    head -c 2000 "$SCRATCH/out.json" >&2
    # --strict explains each finding in a paragraph; the errors are what failed.
    grep -A3 '^Error' "$SCRATCH/err.txt" >&2 || tail -n 20 "$SCRATCH/err.txt" >&2
    exit 1
  fi
}

python3 - "${MCP_URL%/mcp}/api/mcp/gateway" "$ADMIN_TOKEN" >"$SCRATCH/methods.txt" <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(
    sys.argv[1],
    data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}).encode(),
    headers={"Authorization": f"Bearer {sys.argv[2]}", "Content-Type": "application/json"},
)
for method in json.load(urllib.request.urlopen(request, timeout=10))["result"]["methods"]:
    print(method["name"])
PY

AUTH="Authorization: Bearer $ADMIN_TOKEN"
for era in legacy modern; do
  echo "==> inspector, $era: tools/list --strict"
  expect_exit 0 --protocol-era "$era" --header "$AUTH" --method tools/list --strict
  python3 - "$SCRATCH/out.json" "$SCRATCH/methods.txt" <<'PY'
import json, re, sys
tools = json.load(open(sys.argv[1]))["result"]["tools"]
methods = open(sys.argv[2]).read().split()
names = sorted(t["name"] for t in tools)
assert names == sorted(m.replace(".", "_") for m in methods), (names, methods)
bad = [n for n in names if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n)]
assert not bad, bad
print(f"   {len(tools)} tools, one per rpc.discover method, every name valid")
PY

  echo "==> inspector, $era: tools/call calcom_getEventTypes"
  expect_exit 0 --protocol-era "$era" --header "$AUTH" --method tools/call \
    --tool-name calcom_getEventTypes --tool-args-json '{"company_id": 1}'
  python3 - "$SCRATCH/out.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["result"]
assert result.get("isError") is False, result
services = [e["service"] for e in result["structuredContent"]["event_types"]]
assert "Herrenhaarschnitt" in services, services
assert json.loads(result["content"][0]["text"]) == result["structuredContent"], result
print(f"   structured content: {len(services)} event types")
PY

  echo "==> inspector, $era: tools/call with a refused argument is a tool error"
  expect_exit 5 --protocol-era "$era" --header "$AUTH" --method tools/call \
    --tool-name calcom_getEventTypes --tool-args-json '{"company_id": 999999}'
done

# Without a token the 401 sends the Inspector to OAuth (found through the WWW-Authenticate
# resource_metadata), which --stored-auth-only refuses to start: exit 3, auth_required.
echo "==> inspector: no token, no connection"
expect_exit 3 --method tools/list --stored-auth-only
grep -q '"auth_required"' "$SCRATCH/err.txt" || { echo "FAIL: $(cat "$SCRATCH/err.txt")" >&2; exit 1; }
echo "inspector checks passed"
