"""The generated Retell set-up, read back through Retell's own client (retell-sdk 6.2.13).

`switchboard serve` (sandbox) runs against an external `switchboard sim retell`, whose demo
account starts like a hand-made set-up (a stale `check_availability` at another host, an
`end_call` tool). `retell.config.deployCustomFunctions` through the gateway — and then
`switchboard retell deploy`, the command operators run — must leave the demo LLM, read with
`Retell(api_key=..., base_url=<simulator>).llm.retrieve(...)`, with exactly our custom tools,
at our URL, with the schemas `retell.config.getCustomFunctions` declares, plus the kept
`end_call`; deploying again changes nothing.
"""

import os
import subprocess

import pytest
from conftest import DEMO_RETELL_API_KEY, serve, sim_retell
from retell import Retell

DEMO_SLUG = "demo-salon-berlin"
DEMO_LLM = "llm_demo_salon_berlin"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """The service on an external simulator: (server, simulator URL)."""
    with sim_retell(tmp_path_factory.mktemp("sim-retell")) as sim_url:
        with serve(tmp_path_factory.mktemp("switchboard"), SWITCHBOARD__SANDBOX__RETELL_URL=sim_url) as server:
            yield server, sim_url


def demo_company(server) -> int:
    companies = server.rpc("company.list", {})["companies"]
    return next(c["id"] for c in companies if c["slug"] == DEMO_SLUG)


def sdk_tools(sim_url: str) -> list[dict]:
    llm = Retell(api_key=DEMO_RETELL_API_KEY, base_url=sim_url, max_retries=0).llm.retrieve(DEMO_LLM)
    return [tool.to_dict(mode="json") for tool in llm.general_tools or []]


def test_deploy_leaves_exactly_our_tools_as_the_sdk_reads_them(deployed):
    server, sim_url = deployed
    company = demo_company(server)
    dry = server.rpc("retell.config.deployCustomFunctions", {"company_id": company, "dry_run": True})
    assert dry["applied"] is False
    assert {t["type"] for t in sdk_tools(sim_url)} >= {"end_call"}

    report = server.rpc("retell.config.deployCustomFunctions", {"company_id": company})
    assert report["applied"] is True, report

    desired = {f["name"]: f["desired"] for f in server.rpc("retell.config.getCustomFunctions", {"company_id": company})["functions"]}
    tools = sdk_tools(sim_url)
    custom = {t["name"]: t for t in tools if t["type"] == "custom"}
    assert set(custom) == set(desired), "exactly our custom tools, the stale one replaced"
    for name, tool in custom.items():
        assert tool["url"] == f"{server.url}/api/mcp/retell/custom-function"
        assert tool["parameters"] == desired[name]["parameters"], name
        assert tool["parameters"]["type"] == "object"
    assert [t["type"] for t in tools if t["type"] != "custom"] == ["end_call"], "the foreign tool is kept"


def test_switchboard_retell_deploy_twice_changes_nothing_the_second_time(deployed):
    server, sim_url = deployed
    env = dict(os.environ, SWITCHBOARD__SANDBOX__ADMIN_TOKEN=server.token)
    command = [str(server.binary), "retell", "deploy", DEMO_SLUG, "--url", server.url]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    before = sdk_tools(sim_url)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout, second.stdout
    assert not any(line.startswith(("+", "~", "-")) for line in second.stdout.splitlines()), second.stdout
    assert sdk_tools(sim_url) == before


def test_switchboard_retell_deploy_of_an_unknown_tenant_fails(deployed):
    server, _ = deployed
    env = dict(os.environ, SWITCHBOARD__SANDBOX__ADMIN_TOKEN=server.token)
    result = subprocess.run(
        [str(server.binary), "retell", "deploy", "no-such-tenant", "--url", server.url],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "no-such-tenant" in result.stderr
