"""Live over TCP: the TouchQuoter that runs in replay and in-process quotes as an external
participant against ``python -m gateway up`` (its orders through gateway.client, its book from
``python -m gateway md``'s feed), gets a fill from another firm's session, and its position and
fills equal what the venue's journal holds for its account; and its on_trade is called once per
trade, in feed order, with what the in-process runner (live.py) gets from the event log. Real
processes throughout."""
from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from gateway import launcher
from gateway.client import Client, OrderFlags, Side
from gateway.control.history import JournalHistory
from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import ZmqReceiver
from native.messages import TradeEvent
from tests.control.cp_venue import SESSIONS, START_DEADLINE_S, write_config
from trading.strategy.api import BUY, SELL, PublicTrade, Strategy
from trading.strategy.context import Context
from trading.strategy.examples import TouchQuoter
from trading.strategy.live import LiveRunner
from trading.strategy.tcp import TcpRunner

FEED_SESSION = "VENUE"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(runner: TcpRunner, cond, what: str, deadline_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while not cond():
        runner.step()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")


def _connect(host: str, port: int, session_id: int) -> Client:
    firm, key = SESSIONS[session_id]
    return Client.connect(host, port, session_id, firm, key, keepalive_ms=20_000)


def test_touch_quoter_over_tcp_is_filled_and_matches_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    with launcher.Venue(prefix="tcp", log_dir=tmp_path, stop_deadline_s=40) as venue:
        host, port, subscribe = _up(venue, tmp_path, journal=str(journal))
        other = _connect(host, port, 201)          # another firm: accounts 3 and 4
        other.new_order(1, Side.BUY, 100, 3, price=9_990)
        other.new_order(1, Side.SELL, 100, 3, price=10_010)
        other.recv_n(2, timeout_s=20)
        sub = subscribe()
        runner = TcpRunner(_connect(host, int(port), 101), sub, TouchQuoter(interval_ms=5, size=100, max_position=500),
                           instrument_id=1, account_id=1)
        runner.start()
        _until(runner, lambda: sorted((o.side, o.price, o.status) for o in runner.ctx.orders.values()) ==
               [(BUY, 9_990, "live"), (SELL, 10_010, "live")], "two live quotes at the touch")
        # the other firm sells 200 at 9990: its own bid is ahead (time priority), then ours
        other.new_order(1, Side.SELL, 200, 4, price=9_990)
        _until(runner, lambda: runner.ctx.position == 100, "the strategy's bid filled")
        assert runner.ctx.ledger.position == 100 and runner.ctx.fill_count == 1 and runner.error is None
        runner.stop(timeout_s=30.0)
        assert not runner.ctx.orders, f"orders left after the stop: {runner.ctx.orders}, held {runner.held}"
        runner.client.terminate()
        other.terminate()
        # the venue's journal: account 1's trades add up to the strategy's position
        _wait_journal(journal, lambda pos: pos == 100)
        position, prices = _journal_position(journal, 1)
        assert position == runner.ctx.position == 100
        assert prices == [9_990]
        # its orders are their own parents for TCA: no client_order_id with the high 32 bits set
        # (those name an execution algorithm's parent: trading/execution/parent_ids.py)
        news = [c for c in JournalHistory(str(journal)).commands_through(1 << 62)
                if type(c).__name__ == "NewOrder" and c.account_id == 1]
        assert news and all(c.client_order_id >> 32 == 0 for c in news), \
            [hex(c.client_order_id) for c in news]


class TradeLog(Strategy):
    """Keeps every on_trade call."""

    def __init__(self) -> None:
        super().__init__()
        self.trades: list[PublicTrade] = []

    def on_trade(self, ctx: Context, trade: PublicTrade) -> None:
        self.trades.append(trade)


def _up(venue: launcher.Venue, tmp_path: Path, **config: str) -> tuple[str, int, Callable[[], Subscriber]]:
    """`gateway up` (write_config's options: e.g. journal=PATH) and `gateway md publish` of the
    venue: the gateway's host and port, and a call that subscribes to the feed (its snapshot
    taken then, so a test may rest orders first)."""
    cfg = write_config(tmp_path, venue.name, **config)
    ready = venue.start_up(cfg, tmp_path / "run", tmp_path / "ready.json", deadline_s=START_DEADLINE_S)
    host, _, port = ready["gateway"].rpartition(":")
    zmq_port, recovery_port = _free_port(), _free_port()
    venue.spawn("md", [sys.executable, "-m", "gateway", "md", "publish", "--engine", venue.name, "--no-udp",
                       "--zmq", f"tcp://127.0.0.1:{zmq_port}", "--recovery-port", str(recovery_port),
                       "--duration-s", "300", "--heartbeat-ms", "100"], stdout_to_log=True)

    def subscribe() -> Subscriber:
        return _retry(lambda: Subscriber(ZmqReceiver(f"tcp://127.0.0.1:{zmq_port}"),
                                         RecoveryClient(("127.0.0.1", recovery_port), FEED_SESSION), FEED_SESSION,
                                         late_join=True), "the market-data feed's snapshot")
    return host, int(port), subscribe


class CancelsAnIdNeverPlaced(Strategy):
    """At its first tick: a cancel of an id in its own range that it never placed (replace()
    refuses such an id itself: KeyError)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[tuple[int, str]] = []
        self.asked = 0

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(1_000_000)

    def on_timer(self, ctx: Context) -> None:
        if not self.asked:
            self.asked = ctx.id_base | 900_001
            ctx.cancel(self.asked)

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        self.refused.append((order_id, reason))


def test_a_cancel_over_tcp_of_an_id_never_placed_is_refused_not_dropped(tmp_path: Path) -> None:
    """The runner has no venue id for an order the strategy never placed: nothing can be sent, and
    the strategy hears on_rejected (GW_UNKNOWN_ORDER_ID, what the gateway answers), as the replay's
    engine answers the same cancel; before, it was dropped in silence."""
    with launcher.Venue(prefix="tcpu", log_dir=tmp_path, stop_deadline_s=40) as venue:
        host, port, subscribe = _up(venue, tmp_path)
        sub = subscribe()
        strategy = CancelsAnIdNeverPlaced()
        runner = TcpRunner(_connect(host, port, 101), sub, strategy, instrument_id=1, account_id=1)
        runner.start()
        _until(runner, lambda: bool(strategy.refused), "the refusal heard")
        for _ in range(50):     # and only once
            runner.step()
        assert strategy.refused == [(strategy.asked, "GW_UNKNOWN_ORDER_ID")]
        assert runner.ctx.rejects == 1 and runner.error is None
        runner.stop(timeout_s=30.0)
        runner.client.terminate()


def test_on_trade_over_tcp_is_one_call_per_trade_as_in_process(tmp_path: Path) -> None:
    with launcher.Venue(prefix="tcpt", log_dir=tmp_path, stop_deadline_s=40) as venue:
        host, port, subscribe = _up(venue, tmp_path)
        sub = subscribe()
        over_tcp = TcpRunner(_connect(host, int(port), 101), sub, TradeLog(), instrument_id=1, account_id=1)
        in_process = LiveRunner(venue.name, TradeLog(), 1, 2)
        over_tcp.start()
        in_process.start()
        other = _connect(host, int(port), 201)
        # three sells at three prices, then one buy that takes them all: three trades in one burst
        # (one engine command), three calls in their order
        for price in (10_010, 10_011, 10_012):
            other.new_order(1, Side.SELL, 100, 3, price=price)
        other.recv_n(3, timeout_s=20)
        other.new_order(1, Side.BUY, 300, 4, price=10_012)

        def traded(runner: TcpRunner | LiveRunner) -> int:
            return sum(t.qty for t in runner.strategy.trades)  # type: ignore[attr-defined]

        def same(want_qty: int) -> None:
            for runner in (over_tcp, in_process):
                _until(runner, lambda r=runner: traded(r) >= want_qty, f"{want_qty} shares traded")  # type: ignore[arg-type,misc]
            # the same calls as in-process: engine time, price, quantity, aggressor; in feed order
            assert [(t.ts_ns, t.price, t.qty, t.aggressor) for t in over_tcp.strategy.trades] == \
                [(t.ts_ns, t.price, t.qty, t.aggressor) for t in in_process.strategy.trades]
        same(300)
        got = over_tcp.strategy.trades  # type: ignore[attr-defined]
        assert [(t.price, t.qty, t.aggressor) for t in got] == [(10_010, 100, BUY), (10_011, 100, BUY),
                                                                 (10_012, 100, BUY)], got
        assert got[0].ts_ns > 0 and not any(t.hidden for t in got)
        assert over_tcp.ctx.book.last_trade_price == 10_012 and over_tcp.prints_lost == 0
        # an iceberg whose hidden part trades too, and a sell into a bid: the same calls again
        other.new_order(1, Side.SELL, 300, 3, price=10_013, display_qty=100, flags=OrderFlags.ICEBERG)
        other.recv_n(1, timeout_s=20)
        other.new_order(1, Side.BUY, 250, 4, price=10_013)
        same(550)
        other.new_order(1, Side.BUY, 50, 4, price=10_000)
        other.new_order(1, Side.SELL, 50, 3, price=10_000)
        same(600)
        assert (got[-1].price, got[-1].qty, got[-1].aggressor) == (10_000, 50, SELL)
        assert {t.price for t in got[3:-1]} == {10_013} and sum(t.qty for t in got[3:-1]) == 250
        over_tcp.stop(timeout_s=30.0)
        in_process.stop()
        over_tcp.client.terminate()
        other.terminate()


def _retry(make, what: str, deadline_s: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return make()
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}") from None
            time.sleep(0.2)


def _journal_position(journal: Path, account: int) -> tuple[int, list[int]]:
    position, prices = 0, []
    for ev in JournalHistory(str(journal)).released_events():
        if isinstance(ev, TradeEvent) and account in (ev.buy_account_id, ev.sell_account_id):
            position += ev.qty if ev.buy_account_id == account else -ev.qty
            prices.append(ev.price)
    return position, prices


def _wait_journal(journal: Path, ok, deadline_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while not ok(_journal_position(journal, 1)[0]):
        if time.monotonic() > deadline:
            raise AssertionError("the journal never showed the strategy's fill")
        time.sleep(0.1)


@pytest.mark.parametrize("extra, message", [
    ([], "--via tcp needs --gateway, --session, --firm, --key-file (or $VENUE_SESSION_KEY), --md, --md-recovery"),
    (["--gateway", "nohost", "--session", "101", "--firm", "1", "--key", "k", "--md", "tcp://127.0.0.1:1",
      "--md-recovery", "127.0.0.1:1"], "--gateway must be HOST:PORT, got 'nohost'"),
    (["--gateway", "127.0.0.1:1", "--session", "101", "--firm", "1", "--key", "k", "--md", "tcp://127.0.0.1:1",
      "--md-recovery", "127.0.0.1:1"], "strategy: "),
], ids=["missing-options", "bad-gateway", "nothing-listening"])
def test_strategy_run_via_tcp_refuses_bad_arguments_in_one_line(extra: list[str], message: str) -> None:
    import subprocess
    r = subprocess.run([sys.executable, "-m", "trading", "strategy", "run", "--via", "tcp", "--strategy", "quote",
                        "--account", "1", "--instrument", "1", *extra], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("strategy: ") and message in err[0], r.stderr


class JoinsTheOtherBid(Strategy):
    """Follows instrument 2 besides its primary one: joins 2's best bid with 10 once."""

    def __init__(self) -> None:
        super().__init__()
        self.other_books: list[int] = []
        self.trades: list[PublicTrade] = []
        self.placed = False

    def on_other_book(self, ctx: Context, instrument_id: int) -> None:
        self.other_books.append(instrument_id)
        bid = ctx.instrument(instrument_id).book.best_bid
        if bid is not None and not self.placed:
            ctx.buy(bid, 10, instrument=instrument_id)
            self.placed = True

    def on_trade(self, ctx: Context, trade: PublicTrade) -> None:
        self.trades.append(trade)


def test_a_strategy_over_tcp_follows_and_trades_another_instrument(tmp_path: Path) -> None:
    from trading.strategy.live import OtherInstrument
    with launcher.Venue(prefix="tcpo", log_dir=tmp_path, stop_deadline_s=40) as venue:
        host, port, subscribe = _up(venue, tmp_path)
        sub = subscribe()
        strategy = JoinsTheOtherBid()
        runner = TcpRunner(_connect(host, int(port), 101), sub, strategy, instrument_id=1, account_id=1,
                           others=[OtherInstrument(2, tick_size=5)])
        runner.start()
        other = _connect(host, int(port), 201)
        other.new_order(2, Side.BUY, 100, 3, price=4_990)
        other.new_order(2, Side.SELL, 100, 3, price=5_010)
        _until(runner, lambda: [(o.instrument_id, o.price, o.status) for o in runner.ctx.orders.values()] ==
               [(2, 4_990, "live")], "its bid in instrument 2")
        other.new_order(2, Side.SELL, 110, 4, price=4_990)      # the other firm's bid first, then ours
        _until(runner, lambda: runner.ctx.positions[2] == 10, "its bid in instrument 2 filled")
        assert runner.ctx.positions == {1: 0, 2: 10} and runner.ctx.instrument(2).ledger.position == 10
        # the feed's prints may come after the gateway's fill report
        _until(runner, lambda: runner.ctx.instrument(2).book.last_trade_price == 4_990, "instrument 2's trades")
        assert strategy.trades == []       # on_trade is the primary instrument's
        assert set(strategy.other_books) == {2} and runner.error is None
        runner.stop(timeout_s=30.0)
        assert not runner.ctx.orders
        runner.client.terminate()
        other.terminate()
