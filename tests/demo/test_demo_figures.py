"""Every figure the demo prints, checked against its recomputation from the run's own engine journal
(tests/demo/journal_figures.py: slow direct loops over the decoded records, none of the code that
printed them). Counts and money must agree exactly (money to the cent it is printed to); a ratio
of floats within the last printed digit."""
import re
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from gateway.demo.flow import DemoFlow
from native.messages import AcceptedEvent, Cancel, NewOrder, PhaseEvent, Replace
from native.records import type_name
from tests.demo.journal_figures import (PRICE_SCALE, AverageCostBook, Journal, Quotes, effective_spread_bps,
                                        displayed_book, fills_of, markout_bps, order_rates,
                                        parent_shortfall_bps, vwap)

ROOT = Path(__file__).resolve().parents[2]
ORDERS, SEED = 3000, 20261123
SYMBOLS = {"AAPL": 1, "MSFT": 2, "GOOG": 3}
MM_ACCOUNT, ALGO_ACCOUNT = 20, 21


def _int(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-figures")
    result = subprocess.run([sys.executable, "-m", "gateway", "demo", "--orders", str(ORDERS), "--seed", str(SEED),
                             "--report-dir", str(tmp / "reports"), "--journal-dir", str(tmp / "journal")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout, Journal.read(str(tmp / "journal")), tmp / "reports"


def _rounds_to(printed: str, exact: Fraction) -> bool:
    """The printed decimal is the exact value rounded to its digits (either way at a tie: Python's
    float formatting and Fraction rounding break ties differently)."""
    digits = len(printed.split(".")[1]) if "." in printed else 0
    return abs(Fraction(printed.replace(",", "")) - exact) <= Fraction(1, 2 * 10 ** digits)


def _continuous_requests() -> int:
    """The flow's continuous-session requests, generated again from the seed (the flow is drawn in
    order: set-up, opening, then the continuous session)."""
    flow = DemoFlow(seed=SEED, orders_per_instrument=ORDERS)
    flow.setup(include_instruments=False)
    flow.pre_open_and_auction()
    return len(flow.continuous_list())


def _section(out: str, start: str) -> str:
    text = out[out.index(start):]
    return text[:text.index("\n\n")] if "\n\n" in text else text


def test_command_and_event_counts(run):
    out, j, _ = run
    line = re.search(r"(\d[\d,]*) commands sequenced: (\d+) boot, (\d[\d,]*) set-up and opening commands through the "
                     r"rings, (\d[\d,]*) of the (\d[\d,]*) continuous-session requests sent over TCP, (\d[\d,]*) from the "
                     r"market maker and (\d[\d,]*) from the execution algorithm", out)
    assert line, out[:3000]
    mm, algo = sum(j.commands_of(MM_ACCOUNT).values()), sum(j.commands_of(ALGO_ACCOUNT).values())
    rings = len(j.commands) - j.boot_commands() - j.gateway_commands() - mm - algo
    assert [_int(g) for g in line.groups()] == [len(j.commands), j.boot_commands(), rings, j.gateway_commands(),
                                                _continuous_requests(),
                                                mm, algo]
    answered = re.search(r"the gateway answered the others itself: (.*)", out)
    by_gateway = sum(_int(n) for n in re.findall(r"(\d[\d,]*) \w+: GW_", answered[1])) if answered else 0
    assert by_gateway + j.gateway_commands() == _int(line[5])
    after_boot = j.events_after_boot()
    engine = re.search(r"engine: \S+ stopped: (\d+) commands, (\d+) events, last seq (\d+)", out)
    assert engine and [int(g) for g in engine.groups()] == [len(j.commands), len(j.events), j.commands[-1].seq]
    replayed = re.search(r"give byte-identical events \((\d[\d,]*) records\) and the same books", out)
    assert replayed and _int(replayed[1]) == len(after_boot)
    assert _int(re.search(r"(\d[\d,]*) events on the broadcast log", out)[1]) == len(after_boot)
    kinds = dict((k, _int(v)) for k, v in re.findall(r"(\w+) (\d[\d,]*)", out.split("Events by type: ")[1].splitlines()[0]))
    assert kinds == dict(Counter(str(type_name(e)) for e in after_boot))
    rejects = re.search(r"Rejects by reason: (.*?)(?: \(|$)", out, re.M)
    expected = j.rejects_by_reason()
    assert (dict((k, _int(v)) for k, v in re.findall(r"(\w+) (\d[\d,]*)", rejects[1])) if rejects else {}) == dict(expected)


def test_auctions_and_trades(run):
    out, j, _ = run
    auctions = j.auctions()
    printed = {m[0]: m[1:] for m in re.findall(r"^  (\w+) +uncrossed +(\d[\d,]*) shares @ ([\d.]+) USD  \(imbalance (\d[\d,]*) shares(?: to (buy|sell))?\)",
                                               _section(out, "Opening auctions"), re.M)}
    assert set(printed) == set(SYMBOLS)
    for sym, (qty, px, imb, side) in printed.items():
        ev = auctions[SYMBOLS[sym]]
        # the matched quantity is the auction's trades on the instrument before its continuous phase
        uncross = [t for t in j.trades(SYMBOLS[sym]) if t.seq == ev.seq]
        assert (_int(qty), Fraction(px), _int(imb)) == (sum(t.qty for t in uncross), Fraction(ev.price, PRICE_SCALE),
                                                        ev.imbalance_qty)
        assert {t.price for t in uncross} == {ev.price}
    rows = re.findall(r"^  (\w+) +(\d[\d,]*) +(\d[\d,]*) +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+)$",
                      _section(out, "Trades (volume in shares, prices in USD)"), re.M)
    assert {r[0] for r in rows} == set(SYMBOLS)
    for sym, count, volume, avg, low, high, last in rows:
        trades = j.trades(SYMBOLS[sym])
        prices = [t.price for t in trades]
        assert (_int(count), _int(volume)) == (len(trades), sum(t.qty for t in trades))
        assert _rounds_to(avg, vwap([(t.price, t.qty) for t in trades]) / PRICE_SCALE)
        assert [Fraction(x) * PRICE_SCALE for x in (low, high, last)] == [min(prices), max(prices), prices[-1]]


def test_market_maker_figures(run):
    out, j, _ = run
    mm = _section(out, "Market maker (live, measured from this run)")
    quotes = re.search(r"quotes sent: (\d[\d,]*) new \((\d[\d,]*) refused by the venue\), (\d[\d,]*) replaced, (\d[\d,]*) "
                       r"cancelled, (\d[\d,]*) cancel-all \(its stop\); (\d[\d,]*) rejected", mm)
    assert quotes, mm
    sent = j.commands_of(MM_ACCOUNT)
    rejected = [e for e in j.events if type_name(e) == "REJECTED" and
                (e.account_id == MM_ACCOUNT or j.owner.get(e.order_id) == MM_ACCOUNT)]
    refused_new = sum(e.cmd_type == 1 for e in rejected)
    cancel_all = _int(quotes[5])
    assert [_int(quotes[i]) for i in (1, 2, 3, 4, 6)] + [cancel_all] == [
        sent["NEW_ORDER"], refused_new, sent["REPLACE"], sent["CANCEL"], len(rejected), sent["MASS_CANCEL"]]
    # every command the maker sent is on this line (the count above it is of all its commands)
    assert sum(_int(quotes[i]) for i in (1, 3, 4)) + cancel_all == sum(sent.values())
    fills = re.search(r"fills (\d[\d,]*) \((\d[\d,]*) shares as maker\), position (-?\d[\d,]*), P&L (-?[\d.,]+) USD "
                      r"\(realised (-?[\d.,]+) USD, unrealised (-?[\d.,]+) USD at the last mid ([\d.]+) USD, less fees "
                      r"(-?[\d.,]+) USD\)", mm)
    assert fills, mm
    mine = fills_of(j.trades(SYMBOLS["AAPL"]), MM_ACCOUNT)
    book = AverageCostBook()
    for fill in mine:
        book.fill(*fill)
    assert (_int(fills[1]), _int(fills[2]), _int(fills[3])) == (
        len(mine), sum(q for _, _, q, maker in mine if maker), book.position)
    assert _rounds_to(fills[5], book.realised) and _rounds_to(fills[8], book.fees)
    # unrealised at the last mid: AAPL's book after the maker's stop (its cancel-all confirmed) is the
    # journal's final one, since nothing else trades AAPL after the session
    bid, ask = Quotes(j.events).bbo(SYMBOLS["AAPL"])
    mid = Fraction(bid + ask, 2 * PRICE_SCALE)
    assert _rounds_to(fills[7], mid)
    unrealised = book.position * (mid - book.avg)
    assert _rounds_to(fills[6], unrealised)
    assert _rounds_to(fills[4], book.realised + unrealised - book.fees)


def test_execution_algorithm_figures(run):
    out, j, _ = run
    ex = _section(out, "Execution algorithm (live, measured from this run)")
    head = re.search(r"(buy|sell) (\d[\d,]*) MSFT", ex)
    state = re.search(r"state (\w+): filled (\d[\d,]*) of (\d[\d,]*) .*participation ([\d.]+)%: its shares over the "
                      r"(\d[\d,]*) the venue traded in MSFT \(its own included\) from its start to (its completing fill|"
                      r"its last decision), ([\d.]+) s and (\d[\d,]*) decisions", ex)
    kids = re.search(r"(\d[\d,]*) child orders \(.*\), (\d[\d,]*) fills, (\d[\d,]*) rejected; average price ([\d.]+) USD "
                     r"against the arrival mid ([\d.]+) USD: shortfall ([+-][\d.]+) bps", ex)
    assert head and state and kids, ex
    trades = j.trades(SYMBOLS["MSFT"])
    mine = fills_of(trades, ALGO_ACCOUNT)
    filled = sum(q for _, _, q, _ in mine)
    rejected = [e for e in j.events if type_name(e) == "REJECTED" and e.account_id == ALGO_ACCOUNT]
    assert (_int(state[2]), _int(kids[1]), _int(kids[2]), _int(kids[3])) == (
        filled, j.commands_of(ALGO_ACCOUNT)["NEW_ORDER"], len(mine), len(rejected))
    styles = re.search(r"child orders \(as placed, on its own view of the book: (.*?)\)", ex)
    assert styles and sum(_int(n) for n in re.findall(r"(\d[\d,]*) \w+", styles[1])) == _int(kids[1])
    avg = vwap([(p, q) for _, p, q, _ in mine]) / PRICE_SCALE
    assert _rounds_to(kids[4], avg)
    # the arrival mid is a mid the book showed between the continuous session's start and the
    # first child order
    quotes = Quotes(j.events)
    first_child = next(e for e in j.events if isinstance(e, AcceptedEvent) and e.account_id == ALGO_ACCOUNT)
    opened = max(e.seq for e in j.events if isinstance(e, PhaseEvent) and e.instrument_id == SYMBOLS["MSFT"])
    mids = {quotes.mid_before(SYMBOLS["MSFT"], seq) for (iid, seq) in quotes.before
            if iid == SYMBOLS["MSFT"] and opened < seq <= first_child.seq}
    arrival = Fraction(kids[5]) * PRICE_SCALE
    assert arrival in mids, (arrival, sorted(m for m in mids if m is not None)[:5])
    side = 1 if head[1] == "buy" else -1
    shortfall = side * (avg * PRICE_SCALE - arrival) / arrival * 10_000
    assert abs(float(kids[6]) - float(shortfall)) <= 0.005 + 1e-9
    # participation: its shares over the market's from its start to its completing fill, its own
    # included. Its start lies between the opening and its first child; the strategy counts the market
    # volume as of the event-log poll that brought its last fill, which may hold later trades, but
    # all before any command it sent after that poll (its cancel of what was left working).
    last_fill = max(t.seq for t in trades if ALGO_ACCOUNT in (t.buy_account_id, t.sell_account_id))
    later = [c.seq for c in j.commands if c.seq > last_fill and j.account_of(c) == ALGO_ACCOUNT]
    until = min(later) if later and state[1] == "done" else j.commands[-1].seq + 1
    auction_seq = j.auctions()[SYMBOLS["MSFT"]].seq
    low = sum(t.qty for t in trades if first_child.seq <= t.seq <= last_fill)
    high = sum(t.qty for t in trades if auction_seq < t.seq < until)
    volume = _int(state[5])
    assert low <= volume <= high, (low, volume, high)
    assert abs(float(state[4]) - 100 * filled / volume) <= 0.05 + 1e-9
    assert (state[6] == "its completing fill") == (state[1] == "done")
    # ... over the decisions and seconds printed: one child order at most per decision; its start
    # (the decision that found it a two-sided book) lies between the opening and its first child
    # order, and a done parent's interval ends at its completing fill's trade
    assert _int(state[8]) >= _int(kids[1]) >= 1
    if state[1] == "done":
        end_ts = max(t.ts_ns for t in trades if t.seq == last_fill and ALGO_ACCOUNT in (t.buy_account_id, t.sell_account_id))
        opened_ts = max(e.ts_ns for e in j.events if isinstance(e, PhaseEvent) and e.instrument_id == SYMBOLS["MSFT"])
        first_child_ts = next(c.ts_ns for c in j.commands if isinstance(c, NewOrder) and c.account_id == ALGO_ACCOUNT)
        assert (end_ts - first_child_ts) / 1e9 - 0.005 <= float(state[7]) <= (end_ts - opened_ts) / 1e9 + 0.005


def test_tca_rows(run):
    out, j, _ = run
    tca = _section(out, "Transaction cost analysis (trading/tca on this run's journal")
    quotes = Quotes(j.events)
    accepted = [e for e in j.events if isinstance(e, AcceptedEvent)]
    rows = {m[0]: m[1:] for m in re.findall(r"^  (\S+) +(\d[\d,]*) +(\d[\d,]*) +\S+ +\S+ +(-?[\d.]+|n/a) ", tca, re.M)}
    for sym, iid in SYMBOLS.items():
        orders, fills, spread = rows[sym]
        trades = j.trades(iid)
        assert (_int(orders), _int(fills)) == (sum(e.instrument_id == iid for e in accepted), 2 * len(trades))
        assert abs(float(spread) - effective_spread_bps(j, quotes, instrument=iid)) <= 0.005 + 1e-9
    accounts = {e.account_id for e in accepted}
    assert {int(k) for k in rows if k.isdigit()} == accounts
    for acct in accounts:
        orders, fills, spread = rows[str(acct)]
        trades = j.trades()
        assert (_int(orders), _int(fills)) == (sum(e.account_id == acct for e in accepted),
                                               len(fills_of(trades, acct)))
        assert abs(float(spread) - effective_spread_bps(j, quotes, account=acct)) <= 0.005 + 1e-9


HORIZONS_NS = {"100ms": 100_000_000, "1s": 1_000_000_000, "10s": 10_000_000_000, "60s": 60_000_000_000}


def test_tca_markouts_fit_in_the_run(run):
    out, j, _ = run
    tca = _section(out, "Transaction cost analysis (trading/tca on this run's journal")
    quotes = Quotes(j.events)
    trades = j.trades()
    # a horizon is printed only where it fits between the first fill and the journal's last event
    span = max(e.ts_ns for e in j.events) - min(t.ts_ns for t in trades)
    for acct in sorted({e.account_id for e in j.events if isinstance(e, AcceptedEvent)}):
        row = re.search(rf"^  {acct} +.*\| (.*)$", tca, re.M)
        assert row, tca
        printed = dict(re.findall(r"(\d+m?s) ([+-][\d.]+|n/a)", row[1]))
        assert set(printed) == {k for k, h in HORIZONS_NS.items() if h <= span}, (row[0], span)
        for label, value in printed.items():
            expected = markout_bps(j, quotes, HORIZONS_NS[label], acct)
            if value == "n/a":                      # none of the account's fills is that old
                assert expected != expected, (acct, label)
                continue
            assert abs(float(value) - expected) <= 0.05 + 1e-9, (acct, label, value, expected)


def test_tca_fill_rates_and_price_improvement(run):
    out, j, _ = run
    tca = _section(out, "Transaction cost analysis (trading/tca on this run's journal")
    quotes = Quotes(j.events)
    for acct in sorted({e.account_id for e in j.events if isinstance(e, AcceptedEvent)}):
        row = re.search(rf"^  {acct} +[\d,]+ +[\d,]+ +(\S+) +(\S+) +\S+ +(\S+) \|", tca, re.M)
        assert row, tca
        limit, market, improved = order_rates(j, quotes, acct)
        for printed, value, scale in ((row[1], limit, 100), (row[2], market, 100), (row[3], improved, 1)):
            if printed == "n/a":
                assert value != value, (acct, row[0])         # NaN: nothing to rate
            else:
                assert abs(float(printed.rstrip("%")) - scale * value) <= (0.5 if scale == 100 else 0.05) + 1e-9, \
                    (acct, row[0], value)


def test_parent_shortfall(run):
    out, j, _ = run
    ex = _section(out, "Execution algorithm (live, measured from this run)")
    state = re.search(r"state (\w+): filled (\d[\d,]*) of (\d[\d,]*)", ex)
    arrival = re.search(r"against the arrival mid ([\d.]+)", ex)
    row = re.search(r"^  MSFT:21:P1 .*\| IS ([+-][\d.]+) bps \(fees ([+-][\d.]+)\)", out, re.M)
    assert state and arrival and row, ex
    if state[2] != state[3]:
        pytest.skip("the parent was not filled in full in this run: its IS has an opportunity part")
    shortfall, fees = parent_shortfall_bps(j, ALGO_ACCOUNT, Fraction(arrival[1]) * PRICE_SCALE, _int(state[3]))
    # the printed arrival mid has 4 decimals, so the recomputation is within 0.005 bps of the exact one
    assert abs(float(row[1]) - shortfall) <= 0.01 and abs(float(row[2]) - fees) <= 0.005 + 1e-9


def test_auctions_uncross_at_the_maximum_volume(run):
    """The opening auction by its textbook rule, from the pre-open orders in the journal: the price
    that executes the most shares, and of those the one leaving the least imbalance."""
    out, j, _ = run
    printed = {m[0]: m[1:] for m in re.findall(r"^  (\w+) +uncrossed +(\d[\d,]*) shares @ ([\d.]+) USD  \(imbalance (\d[\d,]*) shares(?: to (buy|sell))?\)",
                                               _section(out, "Opening auctions"), re.M)}
    for sym, (qty, px, imb, side) in printed.items():
        ev = j.auctions()[SYMBOLS[sym]]
        pre = [c for c in j.commands if isinstance(c, NewOrder) and c.instrument_id == SYMBOLS[sym] and c.seq < ev.seq]
        assert pre and all(c.ord_type == 1 for c in pre)        # limit orders only, none cancelled
        assert not [c for c in j.commands if isinstance(c, (Cancel, Replace)) and c.seq < ev.seq]
        best = None
        for p in sorted({c.price for c in pre}):
            bought = sum(c.qty for c in pre if c.side == 1 and c.price >= p)
            sold = sum(c.qty for c in pre if c.side == 2 and c.price <= p)
            key = (min(bought, sold), -abs(bought - sold))
            if best is None or key > best[0]:
                best = (key, p, abs(bought - sold), "buy" if bought > sold else "sell" if sold > bought else "")
        assert best is not None
        (volume, _), price, imbalance, heavier = best
        assert (_int(qty), Fraction(px) * PRICE_SCALE, _int(imb), side) == (volume, price, imbalance, heavier), sym


def test_seed_example(run):
    out, _, _ = run
    lines = _section(out, "Seed example: AAPL book, market buy 600")
    bought = [(_int(q), Fraction(p)) for q, p in re.findall(r"bought +(\d[\d,]*) @ ([\d.]+)", lines)]
    # the seed's asks: 400 at 150.01, then 600 at 150.02: a market buy of 600 takes 400 + 200
    assert bought == [(400, Fraction("150.01")), (200, Fraction("150.02"))]
    avg = re.search(r"total (\d+) shares, volume-weighted average price ([\d.]+)", lines)
    assert avg and int(avg[1]) == 600 and _rounds_to(avg[2], Fraction(400 * 15001 + 200 * 15002, 600 * 100))


def test_latency_table_is_the_histogram_log(run):
    """The table's counts and percentiles are the ones of the run's .hlog, decoded here by the
    HdrHistogram package's own decoder (values in ns, printed in µs with 3 decimals); every
    forwarded request is counted once per stage."""
    out, j, reports = run
    decoded = {}
    for line in (reports / "latency.hlog").read_text().splitlines():
        if line.startswith("Tag="):
            tag, _, _, _, payload = line.split(",")
            decoded[tag[len("Tag="):]] = HdrHistogram.decode(payload)
    table = out[out.index("histogram "):].splitlines()[2:]
    rows = {r.split()[0]: r.split()[1:6] for r in table[:len(decoded)]}
    assert set(rows) == set(decoded)
    for name, (count, p50, p99, p999, top) in rows.items():
        h = decoded[name]
        assert int(count) == h.get_total_count() == j.gateway_commands(), name
        expected = [h.get_value_at_percentile(p) / 1e3 for p in (50, 99, 99.9)] + [h.get_max_value() / 1e3]
        assert [float(v) for v in (p50, p99, p999, top)] == [round(v, 3) for v in expected], name
    dominant = re.search(r"dominant stage: P50 (\w+), P99 (\w+), P99.9 (\w+), max (\w+)", out)
    stages = {name: [float(v) for v in row[1:5]] for name, row in rows.items() if name != "end_to_end"}
    assert dominant          # the stage printed holds the largest value of its column (a tie: either)
    assert [stages[name][k] for k, name in enumerate(dominant.groups())] == [max(v[k] for v in stages.values())
                                                                          for k in range(4)]



def test_journal_dir_that_exists_is_refused(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gateway", "demo", "--journal-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "exists: give a folder that does not exist yet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _printed_book(out: str, symbol: str) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """(bids, asks) as printed, each level (price in engine units, qty, orders), best first."""
    lines = _section(out, f"Final book {symbol} (").splitlines()[2:]
    bids, asks = [], []
    for line in lines:
        left, right = line.split("|")
        if left.strip():
            orders, qty, px = left.split()
            bids.append((int(Fraction(px) * PRICE_SCALE), _int(qty), _int(orders)))
        if right.strip():
            px, qty, orders = right.split()
            asks.append((int(Fraction(px) * PRICE_SCALE), _int(qty), _int(orders)))
    return bids, asks


def test_final_books_order_by_order(run):
    out, j, _ = run
    book = displayed_book(j)
    depth = 5
    for sym, iid in SYMBOLS.items():
        bids, asks = _printed_book(out, sym)
        expected_bids = sorted(((p, q, c) for p, (q, c) in book[(iid, 1)].items()), reverse=True)[:depth]
        expected_asks = sorted((p, q, c) for p, (q, c) in book[(iid, 2)].items())[:depth]
        assert (bids, asks) == (expected_bids, expected_asks), sym
