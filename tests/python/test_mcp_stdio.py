"""`switchboard mcp` (the stdio ↔ `/mcp` proxy, src/mcp/stdio.rs) driven by the official Python
MCP SDK's stdio transport (mcp 2.x: `mcp.client.stdio.stdio_client` + `ClientSession`, the way
desktop clients start a command), against a running `switchboard serve` (sandbox).

Both protocol eras go through the proxy: the 2025-11-25 handshake (`initialize`, session) and
the stateless 2026-07-28 wire (`server/discover`, `_meta`, `Mcp-*` headers). The bad paths are
driven over raw pipes: no token (exit 2), a refused token (a JSON-RPC error for the request,
never the token), an oversized line (refused, the next message still answered), EOF (exit 0).
"""

import asyncio
import json
import re
import subprocess

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DEMO_SLUG = "demo-salon-berlin"
PROCESS_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def company_token(server) -> str:
    """A read-scope token of the sandbox demo tenant, minted with `auth.createToken`."""
    companies = server.rpc("company.list", {})["companies"]
    company = next(c["id"] for c in companies if c["slug"] == DEMO_SLUG)
    return server.rpc("auth.createToken", {"company_id": company, "scope": "read", "name": "mcp stdio"})["token"]


def params(server, token: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(server.binary),
        args=["mcp", "--url", server.url],
        env={"SWITCHBOARD_TOKEN": token, "RUST_LOG": "warn"},
    )


async def through_proxy(server, token: str, handshake: str) -> dict:
    """Opens a session with `handshake` ("initialize": 2025-11-25, "discover": 2026-07-28), then
    lists the tools and calls `calcom_getEventTypes`."""
    async with stdio_client(params(server, token)) as (read, write):
        async with ClientSession(read, write) as session:
            opened = await getattr(session, handshake)()
            tools = await session.list_tools()
            call = await session.call_tool("calcom_getEventTypes", {})
            return {"opened": opened, "tools": tools, "call": call}


def test_the_python_sdk_initializes_lists_and_calls_a_tool_over_stdio(server, company_token):
    got = asyncio.run(through_proxy(server, company_token, "initialize"))
    assert got["opened"].protocol_version == "2025-11-25"
    assert got["opened"].capabilities.tools is not None
    names = [tool.name for tool in got["tools"].tools]
    assert names, "a read token sees the read tools"
    assert all(TOOL_NAME.match(name) for name in names), names
    assert "calcom_getEventTypes" in names
    assert not any(name.startswith("auth_") for name in names), "a read token sees no admin tools"
    call = got["call"]
    assert call.is_error is not True, call.content
    assert isinstance(call.structured_content["event_types"], list)
    assert call.structured_content["event_types"], "the demo tenant has event types"


def test_the_stateless_era_works_through_the_proxy(server, company_token):
    got = asyncio.run(through_proxy(server, company_token, "discover"))
    assert "2026-07-28" in got["opened"].supported_versions
    assert "calcom_getEventTypes" in [tool.name for tool in got["tools"].tools]
    assert got["call"].is_error is not True, got["call"].content
    assert isinstance(got["call"].structured_content["event_types"], list)


def run_raw(server, lines: list[str], token: str | None, timeout=PROCESS_TIMEOUT_S):
    """Runs `switchboard mcp` with `lines` on stdin (then EOF); (exit code, stdout messages, stderr)."""
    env = {"PATH": "/usr/bin:/bin", "RUST_LOG": "warn"}
    if token is not None:
        env["SWITCHBOARD_TOKEN"] = token
    proc = subprocess.run(
        [str(server.binary), "mcp", "--url", server.url],
        input="".join(line + "\n" for line in lines).encode(),
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    out = proc.stdout.decode()
    messages = [json.loads(line) for line in out.splitlines()]
    return proc.returncode, messages, proc.stderr.decode()


INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }
)
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})


def ping(request_id) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"})


def test_without_a_token_it_exits_2_naming_the_variable_and_writes_nothing(server):
    code, messages, err = run_raw(server, [INITIALIZE], token=None)
    assert code == 2
    assert messages == []
    assert "SWITCHBOARD_TOKEN" in err


def test_a_refused_token_answers_each_request_with_the_http_status_never_the_token(server):
    secret = "not-a-token-s3cret"
    code, messages, err = run_raw(server, [INITIALIZE], token=secret)
    assert code == 0, err
    assert len(messages) == 1, messages
    (answer,) = messages
    assert answer["id"] == 0
    assert answer["error"]["code"] == -32603
    assert "401" in answer["error"]["message"]
    assert answer["error"]["data"]["http_status"] == 401
    assert secret not in json.dumps(answer) and secret not in err


def test_eof_answers_every_request_then_exits_0(server, company_token):
    code, messages, err = run_raw(server, [INITIALIZE, INITIALIZED, ping(1), ping(2)], token=company_token)
    assert code == 0, err
    by_id = {m["id"]: m for m in messages}
    assert set(by_id) == {0, 1, 2}, messages
    assert by_id[0]["result"]["protocolVersion"] == "2025-11-25"
    assert by_id[1]["result"] == {} and by_id[2]["result"] == {}


def test_an_oversized_line_is_refused_and_the_next_message_still_answered(server, company_token):
    huge = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "ping", "params": {"pad": "x" * (1024 * 1024 + 10)}})
    code, messages, err = run_raw(server, [INITIALIZE, INITIALIZED, huge, ping(10)], token=company_token)
    assert code == 0, err
    refusals = [m for m in messages if m.get("id") is None]
    assert len(refusals) == 1, messages
    assert refusals[0]["error"]["code"] == -32600
    assert "1048576 bytes" in refusals[0]["error"]["message"]
    assert {"jsonrpc": "2.0", "id": 10, "result": {}} in messages
    assert not any(m.get("id") == 9 for m in messages), "the oversized request was never sent"


def test_malformed_lines_get_json_rpc_errors_with_id_null(server, company_token):
    batch = json.dumps([json.loads(ping(3))])
    code, messages, err = run_raw(server, ["{not json", batch], token=company_token)
    assert code == 0, err
    assert [m["error"]["code"] for m in messages] == [-32700, -32600]
    assert all(m["id"] is None for m in messages)
