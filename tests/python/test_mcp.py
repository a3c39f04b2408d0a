"""Acceptance of issue 14, black-box, with the real Python `mcp` client (2.x) on /mcp.

Each guarantee is tested in the protocol eras where it can differ: `legacy` (the 2025-11-25
initialize handshake and a session), `2026-07-28` (stateless, pinned) and `auto` (the client
probes `server/discover`, then picks). Tokens are the gateway's: the sandbox admin token of no
company, and company tokens made with `auth.createToken`. The sandbox has two companies
(examples/tenants/): demo-salon-berlin, whose tokens we use, and thames-physio, the other
company a demo token must never see.

Resources and prompts are served by src/mcp/resources.rs and prompts.rs; while those list
nothing (the stubs before they are filled in), their tests skip instead of failing.
"""

import contextlib
import datetime as dt
import re
import uuid

import httpx2
import jsonschema
import pytest
import requests
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.anyio

MODES = ["legacy", "2026-07-28", "auto"]
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
DEMO = "demo-salon-berlin"
OTHER = "thames-physio"
SERVICE = "Herrenhaarschnitt"
# Token scope → the `x-scope` values of the methods it may call (actors/src/registry:
# `authorize`); `platform` needs the operators' admin token, of no company.
ALLOWED = {
    "read": {"read"},
    "write": {"read", "write"},
    "admin": {"read", "write", "admin"},
}


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def companies(server) -> dict:
    """Company id by slug."""
    return {c["slug"]: c["id"] for c in server.rpc("company.list", {})["companies"]}


@pytest.fixture(scope="module")
def tokens(server, companies) -> dict:
    """Bearer tokens by name: `platform` (the sandbox admin token, no company) and demo
    company tokens of each scope."""
    made = {"platform": server.token}
    for scope in ("read", "write", "admin"):
        created = server.rpc("auth.createToken", {"company_id": companies[DEMO], "scope": scope, "name": f"mcp-{scope}"})
        made[scope] = created["token"]
    return made


@pytest.fixture(scope="module")
def methods(server) -> list:
    """`rpc.discover`'s methods (the registry every tool is generated from)."""
    reply = requests.post(
        f"{server.url}/api/mcp/gateway",
        headers={"Authorization": f"Bearer {server.token}"},
        json={"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()["result"]["methods"]


@contextlib.asynccontextmanager
async def connect(server, token: str, mode: str):
    """An MCP client session on /mcp with `Authorization: Bearer <token>`."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        transport = streamable_http_client(f"{server.url}/mcp", http_client=http)
        async with Client(transport, mode=mode, raise_exceptions=True) as client:
            yield client


def leaves(error: BaseException) -> list:
    """The exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def tool_schema(client, name: str) -> dict:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    return tools[name].output_schema


def weekday_ahead(days: int) -> dt.date:
    """The first Monday–Friday at least `days` days after today."""
    day = dt.date.today() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


# --- connecting -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_connects_with_a_gateway_token(server, tokens, mode):
    async with connect(server, tokens["read"], mode) as client:
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
        if mode == "2026-07-28":
            # A pinned client adopts a synthesized discover result: ask the server.
            found = await client.session.send_discover("2026-07-28")
            assert found["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "switchboard", found
            assert "tools" in found["capabilities"], found
        else:
            assert client.server_info.name == "switchboard"
            assert client.server_capabilities.tools is not None


def test_without_a_token_mcp_answers_401_naming_the_protected_resource_metadata(server):
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer not-a-token"}):
        reply = requests.post(f"{server.url}/mcp", json=initialize, headers=headers | auth, timeout=10)
        assert reply.status_code == 401, reply.text
        challenge = reply.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer ") and "resource_metadata=" in challenge, challenge
    metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge).group(1)
    metadata = requests.get(requests.compat.urljoin(server.url, metadata_url), timeout=10)
    assert metadata.status_code == 200, metadata.text
    assert metadata.json()["resource"].endswith("/mcp"), metadata.json()


async def test_the_client_refuses_to_connect_without_a_token(server):
    with pytest.raises(Exception) as refused:
        async with Client(f"{server.url}/mcp", mode="legacy", raise_exceptions=True):
            pass
    # The 401's body is the gateway's JSON-RPC error, which the client raises (in task groups).
    codes = [e.code for e in leaves(refused.value) if isinstance(e, MCPError)]
    assert codes == [-32001], refused.value


# --- tools/list -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("token", ["platform", "read", "write", "admin"])
async def test_tools_are_one_per_method_the_token_may_call_with_valid_names(server, tokens, methods, token, mode):
    if token == "platform":
        allowed = [m["name"] for m in methods]
    else:
        allowed = [m["name"] for m in methods if m["x-scope"] in ALLOWED[token]]
    async with connect(server, tokens[token], mode) as client:
        tools = (await client.list_tools()).tools
    assert sorted(t.name for t in tools) == sorted(name.replace(".", "_") for name in allowed)
    assert [t.name for t in tools if not TOOL_NAME.fullmatch(t.name)] == []
    assert {t.name: t.title for t in tools} == {name.replace(".", "_"): name for name in allowed}


@pytest.mark.parametrize("mode", MODES)
async def test_each_tool_takes_its_methods_params_schema_and_is_annotated_by_its_kind(server, tokens, methods, mode):
    async with connect(server, tokens["platform"], mode) as client:
        tools = {t.title: t for t in (await client.list_tools()).tools}
    hints = {
        "read": (True, False),
        "write": (False, False),
        "destructive": (False, True),
    }
    for method in methods:
        tool = tools[method["name"]]
        params = method["params"][0]["schema"]
        assert tool.input_schema == params | {"type": "object"}, method["name"]
        read_only, destructive = hints[method["x-kind"]]
        assert (tool.annotations.read_only_hint, tool.annotations.destructive_hint) == (read_only, destructive), method["name"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_company_token_lists_no_platform_tools(server, tokens, methods, mode):
    platform = {m["name"].replace(".", "_") for m in methods if m["x-scope"] == "platform"}
    assert platform, "the registry has platform methods (company.create, …)"
    async with connect(server, tokens["admin"], mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert names.isdisjoint(platform), names & platform


# --- tools/call -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_get_bookings_answers_structured_content_valid_against_its_output_schema(server, tokens, mode):
    async with connect(server, tokens["read"], mode) as client:
        schema = await tool_schema(client, "calcom_getBookings")
        result = await client.call_tool("calcom_getBookings", {"take": 5})
    assert result.is_error is not True, text_of(result)
    assert result.structured_content is not None
    jsonschema.validate(result.structured_content, schema, cls=jsonschema.Draft202012Validator)
    assert "bookings" in result.structured_content


@pytest.mark.parametrize("mode", MODES)
async def test_every_read_tool_needing_no_arguments_answers_content_valid_against_its_output_schema(server, tokens, mode):
    async with connect(server, tokens["admin"], mode) as client:
        tools = [
            t
            for t in (await client.list_tools()).tools
            if t.annotations.read_only_hint and not t.input_schema.get("required")
        ]
        assert len(tools) >= 20, [t.name for t in tools]
        for tool in tools:
            result = await client.call_tool(tool.name, {})
            assert result.is_error is not True, (tool.name, text_of(result))
            jsonschema.validate(result.structured_content, tool.output_schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("mode", MODES)
async def test_a_booking_made_with_a_write_tool_is_seen_by_another_tool_and_cancelled_by_a_third(server, tokens, mode):
    day = weekday_ahead(14 + MODES.index(mode))
    async with connect(server, tokens["write"], mode) as client:
        free = await client.call_tool("calcom_checkAvailability", {"service": SERVICE, "date": day.isoformat()})
        assert free.is_error is not True, text_of(free)
        start = free.structured_content["slots"][0]["start"]
        booked = await client.call_tool(
            "calcom_createBooking",
            {
                "service": SERVICE,
                "start": start,
                "name": "Mia Client",
                "phone": "+4917612345670",
                "idempotency_key": f"mcp-{uuid.uuid4()}",
            },
        )
        assert booked.is_error is not True, text_of(booked)
        uid = booked.structured_content["booking"]["uid"]

        listed = await client.call_tool("calcom_getBookings", {"take": 250})
        assert uid in {b["uid"] for b in listed.structured_content["bookings"]}
        again = await client.call_tool("calcom_checkAvailability", {"service": SERVICE, "date": day.isoformat()})
        assert start not in {s["start"] for s in again.structured_content["slots"]}

        cancelled = await client.call_tool("calcom_cancelBooking", {"booking_uid": uid, "reason": "mcp test"})
        assert cancelled.is_error is not True, text_of(cancelled)
        listed = await client.call_tool("calcom_getBookings", {"take": 250, "status": "cancelled"})
        assert uid in {b["uid"] for b in listed.structured_content["bookings"]}


@pytest.mark.parametrize("mode", MODES)
async def test_bad_arguments_are_a_tool_error_an_llm_can_act_on_and_book_nothing(server, tokens, mode):
    async with connect(server, tokens["write"], mode) as client:
        before = (await client.call_tool("calcom_getBookings", {"take": 250})).structured_content["bookings"]
        result = await client.call_tool(
            "calcom_createBooking",
            {"service": SERVICE, "start": "next tuesday-ish", "name": "Mia Client", "phone": "+4917612345670"},
        )
        after = (await client.call_tool("calcom_getBookings", {"take": 250})).structured_content["bookings"]
    assert result.is_error is True
    text = text_of(result)
    assert "-32602" in text and "Fix the arguments" in text, text
    assert result.meta["dev.switchboard/error"]["code"] == -32602, result.meta
    assert after == before


@pytest.mark.parametrize("mode", MODES)
async def test_an_unknown_tool_is_a_protocol_error(server, tokens, mode):
    async with connect(server, tokens["write"], mode) as client:
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("calcom_noSuchTool", {})
    assert unknown.value.code == -32602, unknown.value
    assert "Unknown tool" in unknown.value.message


@pytest.mark.parametrize("mode", MODES)
async def test_a_tool_the_token_may_not_call_is_as_unknown_as_a_missing_one(server, tokens, mode):
    async with connect(server, tokens["read"], mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("calcom_createBooking", {"service": SERVICE, "date": "2030-01-07", "time": "10:00", "name": "X", "phone": "+4917612345670"})
    assert refused.value.code == -32602, refused.value


# --- tenancy --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_a_company_token_cannot_read_another_companys_bookings(server, tokens, companies, mode):
    async with connect(server, tokens["admin"], mode) as client:
        result = await client.call_tool("calcom_getBookings", {"company_id": companies[OTHER]})
    assert result.is_error is True
    assert result.structured_content is None
    assert result.meta["dev.switchboard/error"]["code"] == -32002, text_of(result)


@pytest.mark.parametrize("mode", MODES)
async def test_a_company_token_cannot_book_for_another_company(server, tokens, companies, mode):
    other_before = server.rpc("calcom.getBookings", {"company_id": companies[OTHER], "take": 250})["bookings"]
    async with connect(server, tokens["write"], mode) as client:
        result = await client.call_tool(
            "calcom_createBooking",
            {
                "company_id": companies[OTHER],
                "service": "Initial assessment",
                "date": weekday_ahead(21).isoformat(),
                "time": "10:00",
                "name": "Mallory",
                "phone": "+447700900123",
            },
        )
    assert result.is_error is True
    assert result.meta["dev.switchboard/error"]["code"] == -32002, text_of(result)
    assert server.rpc("calcom.getBookings", {"company_id": companies[OTHER], "take": 250})["bookings"] == other_before


# --- resources and prompts (src/mcp/resources.rs, prompts.rs) ------------------------------


@pytest.fixture(scope="module")
async def served(server, tokens) -> set:
    """What of resources.rs and prompts.rs serves anything yet: `resources`, `prompts`."""
    async with connect(server, tokens["read"], "legacy") as client:
        templates = (await client.list_resource_templates()).resource_templates
        prompts = (await client.list_prompts()).prompts
    return {name for name, items in (("resources", templates), ("prompts", prompts)) if items}


def require(served: set, part: str) -> None:
    if part not in served:
        pytest.skip(f"src/mcp/{part}.rs serves nothing yet (the stub)")


@pytest.mark.parametrize("mode", MODES)
async def test_the_resource_templates_are_the_fixed_three(server, tokens, served, mode):
    require(served, "resources")
    async with connect(server, tokens["read"], mode) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert templates == {
        "switchboard://companies/{slug}/configuration",
        "switchboard://companies/{slug}/calls/today",
        "switchboard://companies/{slug}/dead-letters",
    }


@pytest.mark.parametrize("mode", MODES)
async def test_a_company_token_reads_its_configuration_resource(server, tokens, served, mode):
    require(served, "resources")
    uri = f"switchboard://companies/{DEMO}/configuration"
    async with connect(server, tokens["read"], mode) as client:
        result = await client.read_resource(uri)
    assert [str(c.uri) for c in result.contents] == [uri]
    assert "Europe/Berlin" in result.contents[0].text


@pytest.mark.parametrize("mode", MODES)
async def test_another_companys_resources_are_as_unknown_as_missing_ones(server, tokens, mode):
    async with connect(server, tokens["admin"], mode) as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        errors = {}
        for slug in (OTHER, "no-such-company"):
            with pytest.raises(MCPError) as refused:
                await client.read_resource(f"switchboard://companies/{slug}/configuration")
            errors[slug] = refused.value.code
    assert not any(OTHER in uri for uri in listed), listed
    assert errors[OTHER] == errors["no-such-company"], errors


@pytest.mark.parametrize("mode", MODES)
async def test_the_daily_booking_report_prompt_renders_for_the_given_date(server, tokens, served, mode):
    require(served, "prompts")
    async with connect(server, tokens["read"], mode) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        prompt = await client.get_prompt("daily_booking_report", {"date": "2030-01-07"})
    assert {"daily_booking_report", "triage_failed_bookings"} <= names, names
    assert prompt.messages, prompt
    text = "\n".join(m.content.text for m in prompt.messages if m.content.type == "text")
    assert "2030-01-07" in text, text


@pytest.mark.parametrize("mode", MODES)
async def test_a_prompt_with_a_malformed_date_is_refused(server, tokens, served, mode):
    require(served, "prompts")
    async with connect(server, tokens["read"], mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("daily_booking_report", {"date": "07.01.2030"})
    assert refused.value.code == -32602, refused.value
