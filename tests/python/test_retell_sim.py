"""Fidelity of `switchboard sim retell` with Retell's own Python client (retell-sdk 6.2.13).

Every list, get and update switchboard uses goes through the official SDK pointed at the
simulator (`Retell(api_key=..., base_url=...)`) and must parse into the SDK's models. The SDK
builds its models leniently (missing fields do not raise), so each answer is also validated
strictly with `Model.model_validate` on the JSON the simulator sent, which fails on a missing
required field or a value outside the SDK's enums.
"""

import pytest
import requests
import retell
from conftest import DEMO_PHONE, DEMO_RETELL_API_KEY, THAMES_RETELL_API_KEY, sim_retell
from retell import Retell
from retell.types import AgentResponse, LlmResponse, PhoneCallResponse, PhoneNumberResponse
from retell.types.agent_list_response import AgentListResponse
from retell.types.agent_list_versions_response import AgentListVersionsResponse
from retell.types.call_list_response import CallListResponse
from retell.types.phone_number_list_response import PhoneNumberListResponse

DEMO_AGENT = "agent_demo_salon_berlin"
DEMO_LLM = "llm_demo_salon_berlin"
THAMES_AGENT = "agent_thames_physio_reception"


def client(url: str, key: str = DEMO_RETELL_API_KEY) -> Retell:
    return Retell(api_key=key, base_url=url, max_retries=0)


def strict(model, parsed):
    """Validates what the simulator sent (`parsed`'s raw JSON) strictly against `model`."""
    return model.model_validate(parsed.to_dict(mode="json", exclude_unset=True))


def custom_tool(name: str) -> dict:
    return {
        "type": "custom",
        "name": name,
        "description": "Check free appointment slots.",
        "url": f"https://switchboard.example.com/api/mcp/retell/custom-function/{name}",
        "method": "POST",
        "parameters": {"type": "object", "properties": {"date": {"type": "string"}}, "required": ["date"]},
        "speak_during_execution": True,
        "speak_after_execution": True,
        "timeout_ms": 8000,
    }


def test_list_agents_parses(retell_sim):
    page = client(retell_sim).agent.list()
    strict(AgentListResponse, page)
    assert [a.agent_id for a in page.items] == [DEMO_AGENT]
    assert page.has_more is False


def test_retrieve_agent_parses_with_every_required_field(retell_sim):
    agent = client(retell_sim).agent.retrieve(DEMO_AGENT)
    strict(AgentResponse, agent)
    assert agent.response_engine.type == "retell-llm"
    assert agent.response_engine.llm_id == DEMO_LLM
    assert agent.voice_id and agent.last_modification_timestamp > 0
    published = client(retell_sim).agent.retrieve(DEMO_AGENT, version=0)
    assert published.is_published is True


def test_list_versions_parses(retell_sim):
    versions = client(retell_sim).agent.list_versions(DEMO_AGENT, sort_order="ascending")
    strict(AgentListVersionsResponse, versions)
    assert [(v.version, v.is_published) for v in versions.items][:2] == [(0, True), (1, False)]


def test_update_publish_and_update_again_make_a_new_draft(tmp_path):
    with sim_retell(tmp_path) as url:
        sdk = client(url)
        webhook = "https://switchboard.example.com/api/mcp/retell/webhook"
        updated = sdk.agent.update(DEMO_AGENT, webhook_url=webhook, webhook_events=["call_ended", "call_analyzed"])
        strict(AgentResponse, updated)
        assert (updated.version, updated.webhook_url) == (1, webhook)
        assert sdk.agent.publish(DEMO_AGENT, version=1, version_title="switchboard") is None
        assert sdk.agent.retrieve(DEMO_AGENT, version=1).is_published is True
        draft = sdk.agent.update(DEMO_AGENT, agent_name="Rezeption")
        assert (draft.version, draft.is_published, draft.base_version) == (2, False, 1)
        assert draft.webhook_url == webhook
        assert sdk.agent.retrieve(DEMO_AGENT, version=1).agent_name != "Rezeption"


def test_retrieve_llm_parses_and_update_replaces_the_tools(tmp_path):
    with sim_retell(tmp_path) as url:
        sdk = client(url)
        llm = sdk.llm.retrieve(DEMO_LLM)
        strict(LlmResponse, llm)
        assert [t.type for t in llm.general_tools] == ["custom", "end_call"]
        tools = [custom_tool("check_availability"), custom_tool("collect_appointment_data")]
        updated = sdk.llm.update(DEMO_LLM, general_tools=tools)
        strict(LlmResponse, updated)
        read = sdk.llm.retrieve(DEMO_LLM).to_dict(mode="json", exclude_unset=True)
        assert read["general_tools"] == tools


def test_a_bad_tool_is_a_bad_request_in_the_sdk(retell_sim):
    bad = dict(custom_tool("has space"))
    with pytest.raises(retell.BadRequestError):
        client(retell_sim).llm.update(DEMO_LLM, general_tools=[bad])


def test_phone_numbers_parse_and_update_binds_agents(tmp_path):
    with sim_retell(tmp_path) as url:
        sdk = client(url)
        numbers = sdk.phone_number.list()
        strict(PhoneNumberListResponse, numbers)
        assert DEMO_PHONE in [n.phone_number for n in numbers.items]
        assert len(numbers.items) == 2, "the branch number and one Retell number not in the tenant file"
        single = sdk.phone_number.retrieve(DEMO_PHONE)
        strict(PhoneNumberResponse, single)
        updated = sdk.phone_number.update(
            DEMO_PHONE,
            inbound_agents=[{"agent_id": DEMO_AGENT, "agent_version": 0, "weight": 1}],
            inbound_webhook_url="https://switchboard.example.com/api/mcp/retell/inbound",
        )
        strict(PhoneNumberResponse, updated)
        assert [(a.agent_id, a.agent_version, a.weight) for a in updated.inbound_agents] == [(DEMO_AGENT, 0, 1.0)]
        with pytest.raises(retell.BadRequestError):
            sdk.phone_number.update(DEMO_PHONE, inbound_agents=[{"agent_id": DEMO_AGENT, "weight": 0.5}])


def test_list_calls_parses_and_pages_to_the_end(retell_sim):
    sdk = client(retell_sim, THAMES_RETELL_API_KEY)
    seen, key = [], None
    while True:
        page = sdk.call.list(limit=5, **({"pagination_key": key} if key else {}))
        strict(CallListResponse, page)
        for call in page.items:
            assert call.call_type == "phone_call" and call.agent_id == THAMES_AGENT
            assert "transcript" not in call.to_dict(exclude_unset=True)
        seen += [c.call_id for c in page.items]
        if not page.has_more:
            break
        key = page.pagination_key
    assert len(seen) == len(set(seen)) == 12


def test_list_calls_filters_by_agent_and_time(retell_sim):
    sdk = client(retell_sim)
    calls = sdk.call.list().items
    newest = calls[0].start_timestamp
    recent = sdk.call.list(
        filter_criteria={
            "agent": [{"agent_id": DEMO_AGENT}],
            "start_timestamp": {"op": "ge", "type": "number", "value": newest},
        }
    )
    assert [c.call_id for c in recent.items] == [calls[0].call_id]


def test_retrieve_call_parses_with_transcript(retell_sim):
    sdk = client(retell_sim)
    first = sdk.call.list(limit=1).items[0]
    call = sdk.call.retrieve(first.call_id)
    strict(PhoneCallResponse, call)
    assert call.transcript.startswith("Agent: ")
    assert call.transcript_object[0].role == "agent"


def test_a_call_posted_to_the_simulator_is_listed_and_retrieved(tmp_path):
    with sim_retell(tmp_path) as url:
        call = {
            "call_id": "call_pytest_replayed", "agent_id": DEMO_AGENT, "agent_version": 1,
            "call_type": "phone_call", "direction": "inbound", "call_status": "ended",
            "from_number": "+4915123456789", "to_number": DEMO_PHONE,
            "start_timestamp": 4_102_444_800_000, "end_timestamp": 4_102_444_860_000,
        }
        assert requests.post(f"{url}/__sim/calls", json=call, timeout=5).status_code == 201
        sdk = client(url)
        assert sdk.call.list(limit=1).items[0].call_id == "call_pytest_replayed"
        strict(PhoneCallResponse, sdk.call.retrieve("call_pytest_replayed"))


def test_a_wrong_key_is_an_authentication_error(retell_sim):
    with pytest.raises(retell.AuthenticationError) as raised:
        client(retell_sim, "key_wrong").agent.list()
    assert raised.value.body == {"status": "error", "message": "API key is missing or invalid."}


def test_an_unknown_agent_is_unprocessable(retell_sim):
    with pytest.raises(retell.UnprocessableEntityError):
        client(retell_sim).agent.retrieve("agent_unknown")
    with pytest.raises(retell.UnprocessableEntityError):
        client(retell_sim, THAMES_RETELL_API_KEY).agent.retrieve(DEMO_AGENT)


def test_an_injected_429_is_a_rate_limit_error_with_retry_after(tmp_path):
    with sim_retell(tmp_path, "--fault-error-rate", "1", "--fault-error-status", "429") as url:
        with pytest.raises(retell.RateLimitError) as raised:
            client(url).agent.list()
        assert raised.value.response.headers["retry-after"] == "1"
