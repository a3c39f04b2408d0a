#!/usr/bin/env python3
"""Memory under hostile load: the figures of issue 10's acceptance.

Starts `switchboard serve` (sandbox, SQLite in a temporary directory, log level warn) from the
binary given, then, as a hostile but correctly authenticated client would:

1. opens N distinct call ids through `retell.function.execute` (gateway, admin token) with
   `collect_appointment_data` — each one stores data and starts a call context;
2. sends M signed webhooks with distinct, long, made-up event names and fresh call ids.

After each phase it prints the service's resident memory (VmRSS, VmHWM from /proc) and the size
of `GET /api/metrics`, and checks the `call_contexts_live` gauge stays at or below
`calls.max_live`. Standard library only, loopback only, bounded loops.

    python3 scripts/hostile_probe.py target/release/switchboard [--calls 100000] [--webhooks 10000]
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time

DEMO_PHONE = "+493083793369"
DEMO_RETELL_API_KEY = "key_sandbox_0123456789abcdef"
ADMIN_TOKEN = "probe-admin-" + secrets.token_hex(8)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, key: str, ts_ms: int) -> str:
    digest = hmac.new(key.encode(), body + str(ts_ms).encode(), hashlib.sha256).hexdigest()
    return f"v={ts_ms},d={digest}"


def rss(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) // 1024
    return fields


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, port):
        self.port = port
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        for attempt in range(3):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                res = conn.getresponse()
                return res.status, res.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run_parallel(total, threads, work):
    """Runs work(i) for i in range(total) on `threads` threads; returns status counts."""
    counts = {}
    lock = threading.Lock()
    next_i = [0]

    def worker():
        while True:
            with lock:
                i = next_i[0]
                if i >= total:
                    return
                next_i[0] += 1
            status = work(i)
            with lock:
                counts[status] = counts.get(status, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return counts


def metrics(client):
    status, body = client.request("GET", "/api/metrics", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    if status != 200:
        raise SystemExit(f"GET /api/metrics answered {status}")
    text = body.decode()
    live = None
    for line in text.splitlines():
        if line.startswith("call_contexts_live"):
            live = float(line.split()[-1])
    return len(body), live


def report(label, pid, client):
    size, live = metrics(client)
    mem = rss(pid)
    print(f"{label:<38} VmRSS {mem['VmRSS']:>5} MiB  VmHWM {mem['VmHWM']:>5} MiB  "
          f"/api/metrics {size / 1024:8.1f} KiB  call_contexts_live {live}", flush=True)
    return live


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--webhooks", type=int, default=10_000)
    ap.add_argument("--event-bytes", type=int, default=4096, help="length of each made-up event name")
    ap.add_argument("--max-live", type=int, default=10_000, help="calls.max_live of the service")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    port = free_port()
    tmp = tempfile.mkdtemp(prefix="switchboard-probe-")
    env = dict(os.environ)
    env.update({
        "SWITCHBOARD__SERVER__PORT": str(port),
        "SWITCHBOARD__SANDBOX__ADMIN_TOKEN": ADMIN_TOKEN,
        "SWITCHBOARD__SANDBOX__CALCOM_PORT": "0",
        "SWITCHBOARD__DATABASE__URL": f"sqlite://{tmp}/probe.db",
        "SWITCHBOARD__LOG__LEVEL": "warn",
        "SWITCHBOARD__CALLS__MAX_LIVE": str(args.max_live),
    })
    for k in ("SWITCHBOARD__REDIS__URL",):
        env.pop(k, None)
    log = open(os.path.join(tmp, "serve.log"), "w")
    proc = subprocess.Popen([os.path.abspath(args.binary), "serve"], env=env, stdout=log, stderr=log, cwd=tmp)
    try:
        client = Client(port)
        for _ in range(300):
            try:
                if client.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit(f"service did not start; see {tmp}/serve.log")

        report("started", proc.pid, client)

        run = secrets.token_hex(4)

        def open_call(i):
            body = json.dumps({
                "jsonrpc": "2.0", "id": i, "method": "retell.function.execute",
                "params": {
                    "name": "collect_appointment_data",
                    "call": {"call_id": f"probe_{run}_{i}", "to_number": DEMO_PHONE,
                             "from_number": "+4915112345678", "call_type": "phone_call",
                             "direction": "inbound"},
                    "args": {"name": "Erika Mustermann"},
                },
            }).encode()
            status, _ = client.request("POST", "/api/mcp/gateway", body, {
                "content-type": "application/json", "authorization": f"Bearer {ADMIN_TOKEN}"})
            return status

        t0 = time.monotonic()
        counts = run_parallel(args.calls, args.threads, open_call)
        elapsed = time.monotonic() - t0
        print(f"{args.calls} distinct call ids via retell.function.execute in {elapsed:.1f} s: {counts}")
        live = report(f"after {args.calls} call ids", proc.pid, client)
        if live is not None and live > args.max_live:
            raise SystemExit(f"call_contexts_live {live} exceeds calls.max_live {args.max_live}")

        def hostile_webhook(i):
            event = "e" + secrets.token_hex(args.event_bytes // 2)
            body = json.dumps({"event": event, "call": {
                "call_id": f"hostile_{run}_{i}", "to_number": DEMO_PHONE,
                "from_number": "+4915112345678", "call_status": "ended",
                "call_type": "phone_call", "direction": "inbound"}}).encode()
            status, _ = client.request("POST", "/api/mcp/retell/webhook", body, {
                "content-type": "application/json",
                "x-retell-signature": sign(body, DEMO_RETELL_API_KEY, int(time.time() * 1000))})
            return status

        t0 = time.monotonic()
        counts = run_parallel(args.webhooks, args.threads, hostile_webhook)
        elapsed = time.monotonic() - t0
        print(f"{args.webhooks} signed webhooks with {args.event_bytes}-byte made-up event names "
              f"in {elapsed:.1f} s: {counts}")
        report(f"after {args.webhooks} hostile webhooks", proc.pid, client)
        if proc.poll() is not None:
            raise SystemExit(f"the service exited with {proc.returncode}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
