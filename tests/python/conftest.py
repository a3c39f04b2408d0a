"""Fixtures for black-box tests against the real `switchboard` binary.

The binary is taken from env SWITCHBOARD_BIN (default: target/debug/switchboard under the
repository root; build it with `cargo build --bin switchboard`). It runs `serve` in sandbox
mode (Cal.com simulator + demo tenant, reference: src/sandbox.rs) in a fresh temporary
working directory, so its SQLite database starts empty, on a free loopback port.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from retell.lib.webhook_auth import symmetric

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "pytest-admin-token"
# The sandbox demo tenant (src/sandbox.rs): its number and Retell API key.
DEMO_PHONE = "+493083793369"
DEMO_RETELL_API_KEY = "key_sandbox_0123456789abcdef"
READY_TIMEOUT_S = 30


def _binary() -> Path:
    path = Path(os.environ.get("SWITCHBOARD_BIN", "target/debug/switchboard"))
    path = path if path.is_absolute() else REPO_ROOT / path
    if not path.exists():
        pytest.fail(f"{path} does not exist: run `cargo build --bin switchboard` or set SWITCHBOARD_BIN")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `switchboard serve`: base URL, gateway token, binary and log file."""

    url: str
    token: str
    binary: Path
    log: Path

    def rpc(self, method: str, params: dict) -> dict:
        """Calls a JSON-RPC gateway method; returns `result.data`, fails the test on an error."""
        reply = requests.post(
            f"{self.url}/api/mcp/gateway",
            headers={"Authorization": f"Bearer {self.token}"},
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=10,
        )
        reply.raise_for_status()
        body = reply.json()
        assert "error" not in body, f"{method}: {body['error']}"
        return body["result"]["data"]

    def post_signed(self, path: str, payload: dict, key: str = DEMO_RETELL_API_KEY, timestamp_ms=None):
        """POSTs `payload` as compact UTF-8 JSON signed by retell-sdk over exactly those bytes."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        return requests.post(
            f"{self.url}{path}",
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json", "X-Retell-Signature": symmetric["sign"](body, key, ts)},
            timeout=10,
        )


@contextlib.contextmanager
def serve(workdir: Path, **env_overrides: str):
    """Runs `switchboard serve` in sandbox mode in `workdir` on a free loopback port, with
    `env_overrides` added to its environment (e.g. SWITCHBOARD__CACHE__LOOKUPS_TTL_S="1");
    stops it afterwards, even when a test failed."""
    port = _free_port()
    log = workdir / "server.log"
    env = dict(
        os.environ,
        SWITCHBOARD__SERVER__PORT=str(port),
        SWITCHBOARD__SANDBOX__ADMIN_TOKEN=ADMIN_TOKEN,
        RUST_BACKTRACE="0",
        **env_overrides,
    )
    binary = _binary()
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(binary), "serve"], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(proc, url, log)
        yield Server(url=url, token=ADMIN_TOKEN, binary=binary, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service for one test module."""
    with serve(tmp_path_factory.mktemp("switchboard")) as running:
        yield running


def _wait_ready(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"switchboard exited with {proc.returncode} before it was ready:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"switchboard not ready at {url}/readyz within {READY_TIMEOUT_S} s:\n{log.read_text()}")


def new_call(from_number: str) -> dict:
    """A live inbound Retell call object to the demo number (reference/retell.md §1.3, §3.1)."""
    return {
        "call_id": "call_" + uuid.uuid4().hex[:28],
        "agent_id": "agent_d62e7fe077eaf026eece63417d",
        "agent_version": 1,
        "call_type": "phone_call",
        "call_status": "ongoing",
        "direction": "inbound",
        "from_number": from_number,
        "to_number": DEMO_PHONE,
        "start_timestamp": int(time.time() * 1000),
    }


# The Thames Physio tenant's Retell account in `switchboard sim retell` (examples/tenants/).
THAMES_RETELL_API_KEY = "key_sandbox_thames_7f3a9c2e5b1d4086"


@contextlib.contextmanager
def sim_retell(workdir: Path, *extra_args: str):
    """Runs `switchboard sim retell --port 0` (one account per example tenant, reference:
    src/sim/retell/) with `extra_args` (e.g. fault flags) and yields its base URL, read from
    the line it prints at start; stops it afterwards. Its other output (the logs) is copied
    to sim-retell.log in `workdir`, so the pipe never fills."""
    prefix = "Retell simulator listening on "
    log = open(workdir / "sim-retell.log", "w")
    proc = subprocess.Popen(
        [str(_binary()), "sim", "retell", "--port", "0", *extra_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith(prefix):
                break
            log.write(line)
        else:
            pytest.fail(f"sim retell exited before listening:\n{(workdir / 'sim-retell.log').read_text()}")
        threading.Thread(target=shutil.copyfileobj, args=(proc.stdout, log), daemon=True).start()
        yield line[len(prefix) :].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def retell_sim(tmp_path_factory):
    """`switchboard sim retell` for one test module: its base URL."""
    with sim_retell(tmp_path_factory.mktemp("sim-retell")) as url:
        yield url
