"""What the venue's security costs, measured in one run against its own baselines.

1. Authentication per request: checking a SCRAM-style proof (one HMAC-SHA256 and one SHA-256,
   gateway/security/credentials.py) against the plain token comparison it replaced
   (hmac.compare_digest of the token); and the client's one-off key derivation (scrypt N=2^14).
2. Round trip of an API command answered by the API server itself (users.list), client and
   server over real ZeroMQ TCP on this host: plain TCP against CurveZMQ (same run, same process
   layout: the server thread beside the client).
3. Audit records: an accepted action (written, fsync'ed, head rewritten) against a refusal
   (written, fsync'ed lazily), and the refusals the server answers per second under a garbage
   flood (undecodable requests), which is what a hostile neighbour can make it do.

4. Order entry's intrusion checks (native/gateway/gw_security.c), timed in C around the loop's own
   functions (native/bench/gw_sec_bench.c): per application message with all five detectors on
   against no checks (the same loop, security off); per logon, a hashed key's proof (HMAC-SHA256
   and SHA-256) against the plain key's constant-time compare. Best of several rounds (the
   least disturbed by other processes on this host).

5. The engine's pre-trade order-velocity limit (SET_ORDER_VELOCITY, native/matching/eng_risk.c):
   a batch of NEW_ORDER + CANCEL pairs through the C engine (eng_submit) with a limit on every
   account that the flow never reaches (so every order takes the bucket's check and its update)
   against the same batch with no limit; per new order, best of several rounds.

Figures move with the machine's load: the JSON line carries the load average before and after.
Table first, then one JSON line: {"bench": "sec", "machine", "metrics", "baselines", "ratios"}.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import zmq  # noqa: E402

from gateway.control.api import ApiServer  # noqa: E402
from gateway.control.audit import AuditLog  # noqa: E402
from gateway.control.client import ControlClient  # noqa: E402
from gateway.control.config import User  # noqa: E402
from gateway.security import credentials, curve  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

TOKEN = "bench-token-0123456789"


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def auth_costs(n: int) -> dict[str, float]:
    th = credentials.hash_token(TOKEN)
    t0 = time.perf_counter()
    key = credentials.client_key(TOKEN, th.salt, th.n, th.r, th.p)
    derive_ms = (time.perf_counter() - t0) * 1e3
    msgs = [credentials.auth_message(i, "ops", "status", {}, time.time_ns(), f"{i:032x}") for i in range(n)]
    proofs = [credentials.make_proof(key, th.stored_key, m) for m in msgs]
    t0 = time.perf_counter()
    for m, p in zip(msgs, proofs):
        assert credentials.check_proof(th.stored_key, m, p)
    proof_us = (time.perf_counter() - t0) / n * 1e6
    expected = TOKEN.encode()
    t0 = time.perf_counter()
    for _ in range(n):
        hmac.compare_digest(TOKEN.encode(), expected)
    plain_us = (time.perf_counter() - t0) / n * 1e6
    return {"client_key_derivation_ms": derive_ms, "proof_check_us": proof_us, "plain_token_compare_us": plain_us}


class _Server:
    def __init__(self, tmp: Path, keys: tuple[str, str] | None) -> None:
        user = User(name="adm", role="admin", token_hash=credentials.hash_token(TOKEN).encode())
        self.audit = AuditLog(tmp / f"audit-{'curve' if keys else 'plain'}.jsonl")
        self.ctx = zmq.Context()
        self.api = ApiServer([user], self.audit, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", context=self.ctx,
                             curve_secret_key=keys[0] if keys else "", curve_clients=keys[1] if keys else "")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.api.serve(10)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.api.close()
        self.audit.close()
        self.ctx.term()


def round_trips(tmp: Path, n: int, keys: tuple[str, str] | None, client_keys: tuple[str, str] | None) -> list[float]:
    srv = _Server(tmp, keys)
    try:
        ctl = ControlClient(srv.api.command_endpoint, "adm", TOKEN, timeout_s=10.0,
                            server_key=client_keys[0] if client_keys else None,
                            client_key=client_keys[1] if client_keys else None)
        ctl.call("users.list")                  # connect, handshake, derive the key
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            ctl.call("users.list")
            out.append((time.perf_counter() - t0) * 1e6)
        ctl.close()
        return out
    finally:
        srv.close()


def audit_costs(tmp: Path, n: int) -> dict[str, float]:
    log = AuditLog(tmp / "audit-cost.jsonl")
    t0 = time.perf_counter()
    for i in range(n):
        log.record("ops", "operator", "halt", {"instrument": "ACME"}, True, "ok")
    accepted = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for i in range(n * 10):
        log.record("", "", "?", {}, False, "bad_request", "undecodable request")
        log.sync_if_due()
    refused = (time.perf_counter() - t0) / (n * 10) * 1e6
    log.close()
    return {"audit_accepted_us": accepted, "audit_refused_us": refused}


def flood_rate(tmp: Path, seconds: float) -> float:
    srv = _Server(tmp, None)
    try:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(srv.api.command_endpoint)
        before = srv.api.refused
        end = time.monotonic() + seconds
        sent = 0
        while time.monotonic() < end:
            sock.send_multipart([b"", b"\xc1garbage"])
            sent += 1
            while sock.poll(0):
                sock.recv_multipart()
            if sent - (srv.api.refused - before) > 1000:
                time.sleep(0.0005)
        t = seconds
        sock.close(0)
        return (srv.api.refused - before) / t
    finally:
        srv.close()


def gateway_check_costs(n: int, rounds: int = 7) -> dict[str, float]:
    """ns per call of each gw_sec_bench mode, the best of `rounds` runs."""
    from native._venue import lib

    def best(mode: int, calls: int) -> float:
        runs = [lib.gw_sec_bench(mode, calls) for _ in range(rounds)]
        if min(runs) < 0:
            raise RuntimeError(f"gw_sec_bench mode {mode}: a check did not answer as expected")
        return min(runs) / calls
    return {"intrusion_checks_off_ns": best(lib.GW_SEC_BENCH_ENTRY_OFF, n),
            "intrusion_checks_on_ns": best(lib.GW_SEC_BENCH_ENTRY_ON, n),
            "logon_plain_key_ns": best(lib.GW_SEC_BENCH_LOGON_PLAIN, n // 10),
            "logon_hashed_key_proof_ns": best(lib.GW_SEC_BENCH_LOGON_HASHED, n // 100)}


def engine_velocity_costs(pairs: int, rounds: int = 15) -> dict[str, float]:
    """ns per NEW_ORDER (each followed by its CANCEL) through the engine, with and without an
    order-velocity limit on its account; the best of `rounds` runs of the same records."""
    from native.engine import Engine
    from native.messages import AddInstrument, Cancel, NewOrder, SetOrderVelocity, SetPhase
    from native.records import encode_commands
    accounts = 8
    opening = [AddInstrument(instrument_id=1, seq=1, ts_ns=1, tick_size=1, lot_size=1, reference_price=10_000),
               SetPhase(instrument_id=1, seq=2, ts_ns=2, phase=1), SetPhase(instrument_id=1, seq=3, ts_ns=3, phase=2)]
    limits = [SetOrderVelocity(seq=4 + a, ts_ns=4 + a, account_id=a, max_orders=2**32 - 1, window_ns=1_000_000_000)
              for a in range(accounts)]
    flow = []
    for i in range(pairs):
        seq, oid = 100 + 2 * i, i + 1
        flow.append(NewOrder(instrument_id=1, seq=seq, ts_ns=seq * 1000, order_id=oid, side=1, ord_type=1, tif=2,
                             price=9_000 - i % 50, qty=1, account_id=i % accounts))
        flow.append(Cancel(instrument_id=1, seq=seq + 1, ts_ns=seq * 1000 + 500, order_id=oid))
    records = encode_commands(flow)

    def once(preamble: list[Any]) -> int:
        with Engine(max_orders=1 << 16, max_levels=1 << 12, max_instruments=1, max_accounts=accounts) as eng:
            eng.submit(preamble)
            t0 = time.perf_counter_ns()
            out = eng.submit_records(records)
            took = time.perf_counter_ns() - t0
        # ACCEPTED + BOOK_LEVEL, then CANCELLED + BOOK_LEVEL: a reject would be one event
        if len(out) != 4 * pairs:
            raise RuntimeError(f"engine velocity bench: {len(out)} events for {pairs} pairs")
        return took

    once(opening)                   # warm-up (first engine of the process, caches), not counted
    plain, limited = [], []
    for _ in range(rounds):         # interleaved, so that a disturbance hits both alike
        plain.append(once(opening))
        limited.append(once(opening + limits))
    return {"engine_order_no_velocity_limit_ns": min(plain) / pairs,
            "engine_order_velocity_limit_ns": min(limited) / pairs}


def main(argv: list[str]) -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (within a minute)")
    args = ap.parse_args(argv)
    n = 500 if args.quick else 3000
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        spub, ssec = curve.generate(tmp / "server", "server")
        _, csec = curve.generate(tmp / "clients", "client")
        auth = auth_costs(n * 10)
        plain = round_trips(tmp, n, None, None)
        curved = round_trips(tmp, n, (str(ssec), str(tmp / "clients")), (str(spub), str(csec)))
        audit = audit_costs(tmp, 50 if args.quick else 200)
        flood = flood_rate(tmp, 2.0 if args.quick else 5.0)
    gw = gateway_check_costs(200_000 if args.quick else 2_000_000)
    vel = engine_velocity_costs(50_000 if args.quick else 500_000)
    vel_cost = vel["engine_order_velocity_limit_ns"] - vel["engine_order_no_velocity_limit_ns"]
    per_msg = gw["intrusion_checks_on_ns"] - gw["intrusion_checks_off_ns"]
    load_after = os.getloadavg()
    rt = {"plain_p50_us": statistics.median(plain), "plain_p99_us": _pct(plain, 99),
          "curve_p50_us": statistics.median(curved), "curve_p99_us": _pct(curved, 99)}
    print(f"{'what':<48} {'figure':>12}")
    print(f"{'client key derivation (scrypt N=2^14), once':<48} {auth['client_key_derivation_ms']:>9.1f} ms")
    print(f"{'proof check per request':<48} {auth['proof_check_us']:>9.2f} us")
    print(f"{'  baseline: plain token compare':<48} {auth['plain_token_compare_us']:>9.2f} us")
    print(f"{'users.list round trip, plain TCP P50 / P99':<48} {rt['plain_p50_us']:>6.0f} / {rt['plain_p99_us']:.0f} us")
    print(f"{'users.list round trip, CurveZMQ P50 / P99':<48} {rt['curve_p50_us']:>6.0f} / {rt['curve_p99_us']:.0f} us")
    print(f"{'audit record, accepted (fsync + head)':<48} {audit['audit_accepted_us']:>9.0f} us")
    print(f"{'audit record, refused (lazy fsync)':<48} {audit['audit_refused_us']:>9.1f} us")
    print(f"{'garbage requests refused per second':<48} {flood:>12.0f}")
    print(f"{'order entry, per message: intrusion checks on':<48} {gw['intrusion_checks_on_ns']:>9.1f} ns")
    print(f"{'  baseline: checks off (same loop)':<48} {gw['intrusion_checks_off_ns']:>9.1f} ns")
    print(f"{'  cost of the checks per message':<48} {per_msg:>9.1f} ns")
    print(f"{'order entry, per logon: hashed key proof':<48} {gw['logon_hashed_key_proof_ns'] / 1e3:>9.2f} us")
    print(f"{'  baseline: plain key compare':<48} {gw['logon_plain_key_ns']:>9.1f} ns")
    print(f"{'engine, per new order (+ cancel): velocity limit':<48} {vel['engine_order_velocity_limit_ns']:>9.1f} ns")
    print(f"{'  baseline: no limit (same records)':<48} {vel['engine_order_no_velocity_limit_ns']:>9.1f} ns")
    print(f"{'  cost of the velocity check per order':<48} {vel_cost:>9.1f} ns")
    print(f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, {os.cpu_count()} cores")
    metrics: dict[str, Any] = {**auth, **rt, **audit, "garbage_refusals_per_s": flood, **gw,
                               "intrusion_checks_cost_per_message_ns": per_msg, **vel,
                               "engine_velocity_check_cost_per_order_ns": vel_cost}
    out = {"bench": "sec",
           "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_before": load_before, "load_after": load_after, "quick": args.quick},
           "metrics": metrics,
           "baselines": {"plain_token_compare_us": auth["plain_token_compare_us"], "plain_p50_us": rt["plain_p50_us"],
                         "audit_accepted_us": audit["audit_accepted_us"],
                         "intrusion_checks_off_ns": gw["intrusion_checks_off_ns"],
                         "logon_plain_key_ns": gw["logon_plain_key_ns"],
                         "engine_order_no_velocity_limit_ns": vel["engine_order_no_velocity_limit_ns"]},
           "ratios": {"proof_vs_plain_compare": auth["proof_check_us"] / auth["plain_token_compare_us"],
                      "curve_vs_plain_p50": rt["curve_p50_us"] / rt["plain_p50_us"],
                      "curve_vs_plain_p99": rt["curve_p99_us"] / rt["plain_p99_us"],
                      "refused_vs_accepted_audit": audit["audit_refused_us"] / audit["audit_accepted_us"],
                      "intrusion_checks_on_vs_off": gw["intrusion_checks_on_ns"] / gw["intrusion_checks_off_ns"],
                      "hashed_vs_plain_logon": gw["logon_hashed_key_proof_ns"] / gw["logon_plain_key_ns"],
                      "engine_velocity_limit_vs_none": vel["engine_order_velocity_limit_ns"]
                      / vel["engine_order_no_velocity_limit_ns"]}}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
