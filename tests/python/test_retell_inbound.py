"""Black-box test of the inbound-call webhook (reference/retell.md §1.6), signed by retell-sdk.

Retell signs `call_inbound` like every webhook (`retell.lib.webhook_auth`); the answer names the
tenant's agent and gives string-only dynamic variables the agent's prompt can use.
"""

INBOUND = "/api/mcp/retell/inbound"
DEMO_NUMBER = "+493083793369"


def inbound(from_number: str, to_number: str = DEMO_NUMBER) -> dict:
    return {
        "event": "call_inbound",
        "call_inbound": {"agent_id": "agent_bound", "from_number": from_number, "to_number": to_number},
    }


def test_sdk_signed_inbound_call_gets_the_demo_agent_and_variables(server):
    reply = server.post_signed(INBOUND, inbound("+4917311229988"))
    assert reply.status_code == 200, reply.text
    answer = reply.json()["call_inbound"]
    assert answer["override_agent_id"] == "agent_demo_salon_berlin"
    variables = answer["dynamic_variables"]
    assert all(isinstance(v, str) for v in variables.values()), variables
    assert variables["business_name"] == "Demo Salon Berlin"
    assert variables["branch_name"] == "Mitte"
    assert "Herrenhaarschnitt (30 Minuten)" in variables["services"]
    assert variables["service_count"] == "3"
    assert variables["opening_hours_today"]


def test_inbound_call_signed_with_another_key_is_refused(server):
    reply = server.post_signed(INBOUND, inbound("+4917311229988"), key="key_some_other_account_0000")
    assert reply.status_code == 401, reply.text
    assert "call_inbound" not in reply.json()

