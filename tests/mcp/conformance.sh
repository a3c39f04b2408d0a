#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# package.json) against /mcp of `switchboard serve` in sandbox mode, once per protocol
# revision we serve: the frozen 2025-11-25 requirement set (initialize handshake, sessions,
# ping) and the 2026-07-28 one (stateless, server/discover), each at its own wire.
#
#   cargo build --bin switchboard && tests/mcp/conformance.sh              # both revisions
#   tests/mcp/conformance.sh 2026-07-28                                    # one of them
#
# Exits non-zero on any failure that expected-failures.yaml does not list, and on an entry
# there that now passes (a stale baseline). Two fixture-free scenarios the requirement sets
# run without scoring them (server-session-lifecycle, http-header-validation) are run again
# on their own, so that they must pass too.
# Results (checks.json per scenario) go to target/mcp-conformance/<revision>/.
#
# The suite cannot send request headers, so a Node preload (inject-auth.mjs) adds the
# gateway's bearer token to its requests for our URL; the server is not relaxed for it.
# Needs npm on the first run (the tools are installed into target/mcp-tools, see lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ $# -gt 0 ]; then REVISIONS=("$@"); else REVISIONS=(2025-11-25 2026-07-28); fi
# Those scenarios, each with the revision it runs at. (http-custom-header-server-validation
# stays in the reported, unscored run only: it needs a tool with x-mcp-header parameters,
# and none of ours has one.)
UNSCORED=(server-session-lifecycle:2025-11-25 http-header-validation:2026-07-28)

install_tools
start_server
PACKAGE="$TOOLS/node_modules/@modelcontextprotocol/conformance"
OUT="$REPO/target/mcp-conformance"
rm -rf "$OUT"

suite() {
  MCP_SERVER_URL="$MCP_URL" MCP_BEARER_TOKEN="$ADMIN_TOKEN" CONFORMANCE_PACKAGE="$PACKAGE/package.json" \
    "$NODE" --import "$HERE/inject-auth.mjs" "$PACKAGE/dist/index.js" server --url "$MCP_URL" \
    --expected-failures "$HERE/expected-failures.yaml" "$@"
}

status=0
for revision in "${REVISIONS[@]}"; do
  echo "==> conformance, requirements $revision"
  suite --requirements "$revision" -o "$OUT/$revision" || status=1
  for entry in "${UNSCORED[@]}"; do
    [ "${entry#*:}" = "$revision" ] || continue
    echo "==> conformance, unscored scenario ${entry%%:*} at $revision"
    suite --scenario "${entry%%:*}" --spec-version "$revision" -o "$OUT/$revision" || status=1
  done
done
exit $status
