"""bench/dark.py: what does the midpoint dark pool cost the engine?

The C engine in-process (native.engine.Engine, batches through eng_submit), one dark midpoint
instrument (ENGINE.md "Dark midpoint instruments"):

  (1) NBBO update with a resting dark book of N orders per side, three shapes, none trading:
      - one-sided (N buys, no sells): the cross scans the buys and stops, O(N);
      - blocks (N buys of 100 against N sells of 1000 with a minimum acceptable quantity of 500,
        all eligible at the midpoint): the sells' bounds rule every buy out without a scan, O(N);
      - worst case (N buys and N sells, all of one STP group): every (buy, sell) pair is tested,
        O(N^2) -- the bound eng_midpoint.c states.
      The midpoint alternates between two values, so every update re-prices the book.
  (2) order flow: a buy peg and a sell peg per pair, each pair trading at the midpoint, against
      the same flow as lit limit orders crossing at one price on a lit instrument.

Baselines in the same run: an NBBO on a lit instrument (validated, stored, acknowledged: the
command's floor) and a TIME command; the lit limit-order flow for (2). Times are thread-CPU ns
per command over a batch (eng_submit plus copying the events out), on a shared, loaded machine:
the load average is printed beside the figures. The last line is the JSON summary.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from native import records  # noqa: E402
from native.dark import dark_instrument, midpoint_peg, nbbo  # noqa: E402
from native.engine import Engine  # noqa: E402
from native.messages import AddInstrument, Command, NewOrder, OrdType, Phase, SetPhase, Side, Tif, Time  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

DARK, LIT = 1, 2
BID, TICK = 1_000_000, 100


class Stream:
    """Stamps commands with increasing seq and ts_ns (1 us apart), as the sequencer would."""

    def __init__(self) -> None:
        self.seq = 0

    def stamp(self, cmd: Command) -> Command:
        self.seq += 1
        fields = {f: getattr(cmd, f) for f in cmd.__struct_fields__}
        return type(cmd)(**{**fields, "seq": self.seq, "ts_ns": 1_000 * self.seq})  # type: ignore[arg-type]


def _engine(st: Stream, max_orders: int) -> Engine:
    eng = Engine(max_orders=max_orders, max_levels=1024, max_instruments=2, max_accounts=4)
    boot: list[Command] = [dark_instrument(DARK, tick_size=TICK, lot_size=1, reference_price=BID,
                                           nbbo_max_age_ns=1 << 60),
                           AddInstrument(instrument_id=LIT, tick_size=TICK, lot_size=1, reference_price=BID,
                                         market_collar_ticks=100)]
    for iid in (DARK, LIT):
        boot += [SetPhase(instrument_id=iid, phase=int(Phase.PRE_OPEN)),
                 SetPhase(instrument_id=iid, phase=int(Phase.CONTINUOUS))]
    eng.submit([st.stamp(c) for c in boot])
    return eng


def _time_batch(eng: Engine, st: Stream, cmds: list[Command]) -> float:
    """Thread-CPU ns per command of one eng_submit batch (encoding done beforehand): CPU time, not
    wall clock, because this 2-CPU machine is shared and a descheduled thread is not engine cost."""
    recs = records.encode_commands([st.stamp(c) for c in cmds])
    t0 = time.thread_time_ns()
    eng.submit_records(recs)
    return (time.thread_time_ns() - t0) / len(cmds)


def _quotes(st: Stream, iid: int, n: int) -> list[Command]:
    """n NBBOs whose midpoint alternates between 100.005 and 100.015 (quote time = the stamp)."""
    out: list[Command] = []
    for i in range(n):
        bid = BID + TICK * (i % 2)
        out.append(nbbo(iid, bid_price=bid, ask_price=bid + TICK, bid_qty=100, ask_qty=100,
                        quote_ts_ns=1_000 * (st.seq + 1 + i)))
    return out


def nbbo_cost(n_side: int, shape: str, updates: int) -> float:
    st = Stream()
    eng = _engine(st, 4 * n_side + 16)
    group = 7 if shape == "worst" else 0
    book: list[Command] = [midpoint_peg(DARK, 1 + i, side=Side.BUY, qty=100, account_id=0, stp_group=group)
                           for i in range(n_side)]
    if shape != "one_sided":
        book += [midpoint_peg(DARK, 1_000_000 + i, side=Side.SELL, qty=1000, account_id=1, stp_group=group,
                              min_qty=500 if shape == "blocks" else 0)
                 for i in range(n_side)]
    eng.submit([st.stamp(c) for c in book])  # no NBBO yet: they only rest
    _time_batch(eng, st, _quotes(st, DARK, 2))  # first quote: the cross runs once, nothing trades
    ns = _time_batch(eng, st, _quotes(st, DARK, updates))
    assert eng.stats()["trades"] == 0 and eng.stats()["orders_live"] == len(book)
    eng.close()
    return ns


def baseline_costs(updates: int) -> dict[str, float]:
    st = Stream()
    eng = _engine(st, 64)
    lit_ns = _time_batch(eng, st, _quotes(st, LIT, updates))
    time_ns = _time_batch(eng, st, [Time() for _ in range(updates)])
    eng.close()
    return {"nbbo_on_lit_ns": lit_ns, "time_command_ns": time_ns}


def flow_cost(pairs: int, dark: bool) -> float:
    st = Stream()
    eng = _engine(st, 4 * pairs + 16)
    if dark:
        eng.submit([st.stamp(c) for c in _quotes(st, DARK, 1)])
    cmds: list[Command] = []
    for i in range(pairs):
        for k, side in enumerate((Side.SELL, Side.BUY)):
            oid = 2 * i + k + 1
            if dark:
                cmds.append(midpoint_peg(DARK, oid, side=side, qty=100, account_id=k, tif=Tif.GTC))
            else:
                cmds.append(NewOrder(instrument_id=LIT, order_id=oid, price=BID, qty=100, account_id=k,
                                     side=int(side), ord_type=int(OrdType.LIMIT), tif=int(Tif.GTC)))
    ns = _time_batch(eng, st, cmds)
    assert eng.stats()["trades"] == pairs
    eng.close()
    return ns


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "cpu_model": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                               if line.startswith("model name")), "unknown"),
            "loadavg_at_start": os.getloadavg(),
            "placement": "in-process engine, unpinned; thread-CPU time per batch",
            "note": "shared VM: other work running; figures include interference"}


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    ap.add_argument("--quick", action="store_true", help="smaller books and batches: within 60 s")
    args = ap.parse_args()
    sizes = (10, 100, 300) if args.quick else (10, 100, 1000)
    mach = machine()
    baselines = baseline_costs(2_000 if args.quick else 20_000)
    metrics: dict[str, Any] = {}
    for n in sizes:
        metrics[f"nbbo_one_sided_{n}_ns"] = nbbo_cost(n, "one_sided", updates=2_000)
        metrics[f"nbbo_blocks_{n}_ns"] = nbbo_cost(n, "blocks", updates=2_000)
        # about 2 * 10^7 pair tests per size keeps the worst case a few seconds
        metrics[f"nbbo_worst_{n}_ns"] = nbbo_cost(n, "worst", updates=max(5, min(2_000, 20_000_000 // (n * n))))
    pairs = 5_000 if args.quick else 50_000
    metrics["dark_flow_per_order_ns"] = flow_cost(pairs, dark=True)
    baselines["lit_flow_per_order_ns"] = flow_cost(pairs, dark=False)
    mach["loadavg_at_end"] = os.getloadavg()

    print("dark midpoint pool: engine cost per command (thread-CPU ns, in-process batches)")
    print(f"{'':<44} {'ns/cmd':>12}")
    print(f"{'baseline: NBBO on a lit instrument':<44} {baselines['nbbo_on_lit_ns']:>12.0f}")
    print(f"{'baseline: TIME command':<44} {baselines['time_command_ns']:>12.0f}")
    for n in sizes:
        print(f"{f'NBBO, {n} buys resting, no sells':<44} {metrics[f'nbbo_one_sided_{n}_ns']:>12.0f}")
        print(f"{f'NBBO, {n} small x {n} block (MAQ) orders':<44} {metrics[f'nbbo_blocks_{n}_ns']:>12.0f}")
        print(f"{f'NBBO, {n} x {n} one STP group (worst case)':<44} {metrics[f'nbbo_worst_{n}_ns']:>12.0f}")
    print(f"{'dark pegs, each pair trading at the mid':<44} {metrics['dark_flow_per_order_ns']:>12.0f}")
    print(f"{'baseline: lit limit orders, same flow':<44} {baselines['lit_flow_per_order_ns']:>12.0f}")
    print(f"load average at start {mach['loadavg_at_start']}, at end {mach['loadavg_at_end']}")
    big = sizes[-1]
    ratios = {
        "dark_flow_over_lit_flow": metrics["dark_flow_per_order_ns"] / baselines["lit_flow_per_order_ns"],
        f"nbbo_one_sided_{big}_over_lit_nbbo": metrics[f"nbbo_one_sided_{big}_ns"] / baselines["nbbo_on_lit_ns"],
        f"nbbo_blocks_{big}_over_lit_nbbo": metrics[f"nbbo_blocks_{big}_ns"] / baselines["nbbo_on_lit_ns"],
        f"nbbo_worst_{big}_over_lit_nbbo": metrics[f"nbbo_worst_{big}_ns"] / baselines["nbbo_on_lit_ns"],
        f"worst_case_ns_per_pair_test_{big}": (metrics[f"nbbo_worst_{big}_ns"] - baselines["nbbo_on_lit_ns"])
        / (big * big),
    }
    print(json.dumps({"bench": "dark", "machine": mach, "metrics": metrics, "baselines": baselines,
                      "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
