"""`python -m gateway up --config MULTI.toml` with two venues and the consolidator, as real processes:
orders entered through each venue's delay line move the NBBO the consolidator builds from the venues'
real market-data feeds; bad multi-venue files are refused with one line before anything starts."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import zmq

from gateway import launcher
from gateway.client import Client
from gateway.orderentry.sbe_codec import ExecType, OrderFlags, TimeInForce
from gateway.reasons import Reason
from gateway.sip.subscriber import SipSubscriber
from gateway.venues import config as mv

EXAMPLE = Path(mv.__file__).with_name("multi_venue.toml")
START_S = 150.0      # two venues (five processes each) and the consolidator on two shared CPUs


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out to connect() and bind(port 0)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768                           # Linux's default range starts there


def _free_base(count: int) -> int:
    """A port_base whose `count` venues' ports and the consolidator's port (one above) are free,
    all below the kernel's ephemeral range: `up` checks its fixed ports, then starts the venues one
    after the other, and a connection made meanwhile (a venue's processes connecting to each other,
    the consolidator's probes, another test run beside) takes its source port from that range. A
    port of a venue not yet started could go that way and fail its bind with EADDRINUSE."""
    span = 10 * count + 1
    low = 10_000
    high = _ephemeral_low() - span              # exclusive: the window ends below the range
    assert high > low, "the ephemeral port range leaves no room for fixed test ports"
    for attempt in range(200):
        base = low + (os.getpid() * 131 + attempt * 97) % (high - low)
        ports = range(base, base + span)
        ok = True
        for p in ports:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


def write_config(tmp_path: Path, venues: int = 2, **edits: str) -> tuple[Path, int]:
    base = _free_base(venues)
    text = EXAMPLE.read_text()
    text = text.replace('name = "nms"', f'name = "mv{uuid.uuid4().hex[:6]}"')
    text = text.replace('dir = "multi-venue-journal"', 'dir = ""')
    text = text.replace('publish = "tcp://127.0.0.1:9590"', f'publish = "tcp://127.0.0.1:{base + 10 * venues}"')
    for i, old in enumerate(("port_base = 9600", "port_base = 9610", "port_base = 9620")):
        text = text.replace(old, f"port_base = {base + 10 * i}")
    if venues == 2:
        text = text[:text.index('[[venues]]\nid = "DARK"')] + text[text.index("[[firms]]"):]
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "multi.toml"
    path.write_text(text)
    return path, base


def wait_nbbo(sub: SipSubscriber, inst: int, pred, what: str):
    end = time.monotonic() + 30
    while time.monotonic() < end:
        sub.poll(0.1)
        upd = sub.latest.get(inst)
        if upd is not None and pred(upd):
            return upd
    raise AssertionError(f"no NBBO update where {what}; last {sub.latest.get(inst)}")


def test_two_venues_and_the_consolidator_from_one_file(tmp_path):
    cfg, base = write_config(tmp_path)
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mv", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        assert set(info["venues"]) == {"LITA", "LITB"}
        assert "2 venues, 15 processes (2 engines) on" in v.log("up") and "share the CPUs" in v.log("up")
        # each venue's banner sends the operator to the deployment's file, not to its derived copy
        assert f"session keys: [[sessions]] key in {cfg.resolve()} (and " in v.log("up")
        assert "LITA.toml (and " not in v.log("up") and "users: [[users]] in " + str(cfg.resolve()) in v.log("up")
        assert info["discovery"].startswith("tcp://127.0.0.1:") and \
            f"price discovery (information shares across lit venues, topic analytics): {info['discovery']}" in v.log("up")
        discovery = _subscriber(info["discovery"])
        sub = SipSubscriber(info["sip"])
        clients = []
        try:
            for vid, sess, firm, key, acct in (("LITA", 101, 1, "alpha-key-101", 1), ("LITB", 201, 2, "beta-key-201", 3)):
                host, _, port = info["venues"][vid]["order_entry"].rpartition(":")
                clients.append((Client.connect(host, int(port), session_id=sess, firm_id=firm, key=key), acct))
            (a, acct_a), (b, acct_b) = clients
            a.wait_report(a.buy(1, 100, "99.50", account_id=acct_a))
            b.wait_report(b.sell(1, 300, "100.10", account_id=acct_b))
            upd = wait_nbbo(sub, 1, lambda u: u.nbbo.bid is not None and u.nbbo.ask is not None, "two-sided")
            assert (upd.nbbo.bid, upd.nbbo.bid_venues, upd.nbbo.ask, upd.nbbo.ask_venues) == \
                (995_000, ["LITA"], 1_001_000, ["LITB"])
            # a better bid on LITB takes the NBBO bid there; LITA's bid stays its protected quote
            b.wait_report(b.buy(1, 50, "99.60", account_id=acct_b))
            upd = wait_nbbo(sub, 1, lambda u: u.nbbo.bid == 996_000, "LITB's 99.60 bid is the NBBO bid")
            assert upd.nbbo.bid_venues == ["LITB"] and upd.nbbo.bid_size == 50 and upd.nbbo.state == "normal"
            assert {q.venue: (q.bid, q.ask) for q in upd.protected} == \
                {"LITA": (995_000, None), "LITB": (996_000, 1_001_000)}
            # an equal ask on LITA joins the NBBO ask: sizes add up, both venues listed
            a.wait_report(a.sell(1, 40, "100.10", account_id=acct_a))
            upd = wait_nbbo(sub, 1, lambda u: u.nbbo.ask_size == 340, "both venues at 100.10")
            assert upd.nbbo.ask_venues == ["LITA", "LITB"]
            assert sub.lost == 0
            _rule_611_on_lita(a, acct_a)
            _rule_612_on_lita(a, tmp_path)
            stats = None
            end = time.monotonic() + 10
            while stats is None or stats.latency_count == 0:
                assert time.monotonic() < end, "no consolidator stats with a latency"
                sub.poll(0.2)
                stats = sub.stats
            assert stats.latency_p50_ns > 0 and stats.packets["LITA"] > 0
            body = _discovery_body(discovery)
            assert body["venues"] == ["LITA", "LITB"] and body["symbol"] == "ACME" and body["status"]
            _a_token_rotated_in_the_file_reaches_every_venue(cfg, info, v)
        finally:
            for c, _ in clients:
                c.terminate()
            sub.close()
            discovery.close()
        assert v.stop("up") == 0
        log = v.log("up")
    assert "up: 2 venues stopped" in log and '"sip_stats"' in log and '"delay_line"' in log


def _a_token_rotated_in_the_file_reaches_every_venue(cfg: Path, info: dict[str, Any], v: launcher.Venue) -> None:
    """The viewer's token changed in the multi-venue file: every venue's control plane takes the
    new one, and `up` names the [sip] edit beside it as not applied (before, an edit of the file
    changed nothing and said nothing)."""
    from gateway.control.client import ControlClient, ControlError
    from gateway.security import credentials
    text = cfg.read_text()
    start = text.index('name = "watch"')
    end = text.index("\n", text.index("token_hash", start))
    new_hash = credentials.hash_token("rotated-viewer-token", n=1 << 10).encode()
    edited = text[:start] + f'name = "watch"\nrole = "viewer"\ntoken_hash = "{new_hash}"' + text[end:]
    assert "[sip]\npublish" in edited
    cfg.write_text(edited.replace("[sip]\n", "[sip]\ncpu = 0\n", 1))
    for vid in ("LITA", "LITB"):
        client = ControlClient(info["venues"][vid]["command"], "watch", "rotated-viewer-token", timeout_s=10.0)
        # the rotation passes three polling processes (up, the venue's up, its control plane): at
        # load 18 that outlived a 30 s deadline once, so the wait has the start-up's
        end_t = time.monotonic() + START_S
        while True:
            client._keys = None
            try:
                assert client.call("whoami")["user"] == "watch"
                break
            except ControlError:
                assert time.monotonic() < end_t, f"{vid} never took the rotated token"
                time.sleep(0.3)
        client.close()
    log = v.log("up")
    assert "changed: each venue's config is derived again" in log and "[[users]] rotated" in log
    assert "[sip]: read at start only, NOT applied to the running deployment" in log


def _subscriber(endpoint: str) -> zmq.Socket[bytes]:
    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"analytics")
    sock.connect(endpoint)
    return sock


def _discovery_body(sock: zmq.Socket[bytes]) -> dict[str, Any]:
    """The price-discovery process's next publication about instrument 1 (it publishes every
    instrument it has seen quotes of once a second)."""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if sock.poll(200):
            _, body = sock.recv_multipart()
            msg: dict[str, Any] = msgspec.msgpack.decode(body)
            if msg.get("source") == "discovery" and msg.get("instrument") == 1:
                return msg
    raise AssertionError("no price-discovery publication in 30 s")


def _protection_active(a: Client, account: int) -> None:
    """Waits until LITA's engine holds LITB's 99.60 bid as its protected away bid: a post-only
    offer at 99.60 on LITA (its own best bid is 99.50, so it takes nothing) then locks the away
    bid and is refused with 603; before the consolidator's NBBO command arrives it rests, and is
    cancelled before the next try."""
    end = time.monotonic() + 30
    while True:
        cl = a.sell(1, 10, "99.60", account_id=account, flags=OrderFlags.POST_ONLY)
        report = a.wait_report(cl)
        if report.exec_type == ExecType.REJECTED:
            assert report.reason_code == Reason.ENG_REJ_REGNMS_LOCK_CROSS, a.describe(report)
            return
        a.cancel_order(cl)
        a.wait_report(cl, "CANCELED")
        assert time.monotonic() < end, "LITA never received its away quote from the consolidator"


def _rule_611_on_lita(a: Client, account: int) -> None:
    """LITA offers 40 @ 100.10 and 100 @ 100.20; LITB's 100.10 offer is the protected away offer.
    A buy of 100 up to 100.20 would take 60 at 100.20, through it: rejected whole (reject mode).
    The same order as an intermarket sweep order trades both levels."""
    a.wait_report(a.sell(1, 100, "100.20", account_id=account))
    _protection_active(a, 2)
    rejected = a.wait_report(a.buy(1, 100, "100.20", account_id=2, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL))
    assert rejected.exec_type == ExecType.REJECTED and \
        rejected.reason_code == Reason.ENG_REJ_REGNMS_TRADE_THROUGH, a.describe(rejected)
    iso = a.buy(1, 100, "100.20", account_id=2, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL, flags=OrderFlags.INTERMARKET_SWEEP)
    fills = [a.wait_report(iso, "TRADE") for _ in range(2)]
    assert [(f.last_px, f.last_qty) for f in fills] == [(1_001_000, 40), (1_002_000, 60)]


def _rule_612_on_lita(a: Client, tmp_path: Path) -> None:
    """A bid at $100.005 (a price at or above $1.00 off the penny grid) is refused as sub-penny
    (601, Rule 612: the consolidator gave LITA's engine the grid), not as off-tick (102); a bid at
    100.01 on the same session is accepted. LITA's control plane writes an audit line for each Reg
    NMS refusal its engine decided: the trade-through (Rule 611) and the sub-penny price."""
    from gateway.control.audit import read_audit
    rejected = a.wait_report(a.buy(1, 10, "100.005", account_id=2))
    assert rejected.exec_type == ExecType.REJECTED and \
        rejected.reason_code == Reason.ENG_REJ_REGNMS_SUB_PENNY, a.describe(rejected)
    ok = a.wait_report(a.buy(1, 10, "99.01", account_id=2))
    assert ok.exec_type == ExecType.NEW, a.describe(ok)
    end = time.monotonic() + 15
    while True:
        logs = list(tmp_path.rglob("multi-venue-audit-LITA.jsonl"))
        entries = [e for log in logs for e in read_audit(log) if e["command"].startswith("regnms.")]
        if {e["command"] for e in entries} >= {"regnms.611", "regnms.612"}:
            break
        assert time.monotonic() < end, f"no Reg NMS audit lines in {logs}: {entries}"
        time.sleep(0.2)
    sub_penny = next(e for e in entries if e["command"] == "regnms.612")
    assert sub_penny["outcome"] == "refused" and sub_penny["code"] == "engine_reject"
    assert sub_penny["args"]["reason"] == 601 and "ENG_REJ_REGNMS_SUB_PENNY" in sub_penny["message"]


def _up_refuses(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(launcher.gateway_command("up", "--config", str(path)), capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_bad_multi_venue_files_are_refused_before_anything_starts(tmp_path):
    cfg, _ = write_config(tmp_path, **{"taker_fee = 10.0": "taker_fee = 30.0"})
    r = _up_refuses(cfg, tmp_path)
    assert r.returncode == 2 and "venues[0].fees: ENG_REJ_REGNMS_FEE_CAP (602)" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    cfg, base = write_config(tmp_path)
    with socket.create_server(("127.0.0.1", base + 1)):        # LITA's order-entry port is taken
        r = _up_refuses(cfg, tmp_path)
    assert r.returncode == 1 and f"LITA: order entry 127.0.0.1:{base + 1}" in r.stderr


def test_the_dark_venue_trades_at_the_midpoint_of_the_lit_nbbo(tmp_path):
    """Two lit venues and the dark pool: the consolidator sends the dark venue's engine the lit NBBO
    as its sequenced NBBO command, and two midpoint pegs entered there (through a producer slot of
    the real engine process) trade at exactly its midpoint, 99.80 for 99.50 / 100.10."""
    from native.dark import midpoint_peg
    from native.messages import CancelledEvent, Side, Tif, TradeEvent
    from shm.client import EngineClient, EventStream

    cfg, _ = write_config(tmp_path, venues=3)
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mv", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        assert info["venues"]["DARK"]["type"] == "dark"
        clients = []
        for vid, sess, firm, key in (("LITA", 101, 1, "alpha-key-101"), ("LITB", 201, 2, "beta-key-201")):
            host, _, port = info["venues"][vid]["order_entry"].rpartition(":")
            clients.append(Client.connect(host, int(port), session_id=sess, firm_id=firm, key=key))
        a, b = clients
        dark_engine = info["venues"]["DARK"]["engine"]
        producer, events = EngineClient(dark_engine), EventStream(dark_engine)
        try:
            a.wait_report(a.buy(1, 100, "99.50", account_id=1))
            b.wait_report(b.sell(1, 100, "100.10", account_id=3))
            producer.submit(midpoint_peg(1, 900_000_001, side=Side.SELL, qty=100, account_id=3))
            trades = []
            end = time.monotonic() + 30
            next_id = 900_000_002
            while not trades:
                assert time.monotonic() < end, "the dark venue never traded at the midpoint"
                producer.submit(midpoint_peg(1, next_id, side=Side.BUY, qty=40, account_id=1, tif=Tif.IOC))
                next_id += 1
                decoded, _ = events.poll_decoded()
                trades = [e for e in decoded if isinstance(e, TradeEvent)]
                # before the NBBO arrives an IOC peg is cancelled for the quote it lacks (none yet,
                # or one side only; stale if the consolidator was held up): try again
                assert all(e.reason in (Reason.ENG_CXL_NBBO_NONE, Reason.ENG_CXL_NBBO_STALE)
                           for e in decoded if isinstance(e, CancelledEvent)), decoded
            assert [(t.price, t.qty) for t in trades] == [(998_000, 40)]
        finally:
            producer.close()
            events.close()
            for c in clients:
                c.terminate()
        assert v.stop("up") == 0
