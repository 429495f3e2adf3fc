"""What a replay run produced, as numbers, files and a terminal summary.

``summarize`` computes the run's figures from a ReplayResult: fills and volume (maker / taker),
position, realised and unrealised P&L, fees and rebates from the fee schedule, order-to-trade
ratio (order messages the strategy sent per fill: new orders, cancels, mass cancels, one per
instrument, and replaces; the runner's clean-up mass cancels, Context.clean_up_cancel_all, are
counted apart), fill ratios (orders with a fill per order placed, refused ones included; filled quantity
per quantity asked for, each order at its largest size: a replace that raises it counts the
raise), and the reconciliation counts of FIDELITY.md. ``write`` stores
``result.json`` (everything, including every fill and the P&L samples; no wall-clock figure, so
two runs of the same inputs give byte-identical files), ``fills.csv``, in "measured" compute mode
``compute_charges.json`` (charges.py: the readings that make a rerun byte-identical) and, unless
told not to, PNG plots of P&L, inventory and the strategy's quotes against the mid.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from trading.replay.charges import save_charges
from trading.replay.runtime import ReplayResult


def summarize(r: ReplayResult) -> dict[str, Any]:
    ctx, led = r.ctx, r.ctx.ledger
    last = r.samples[-1] if r.samples else None
    mark = last.mid if last else None
    scale = ctx.price_scale
    # the strategy's order messages (MiFID II RTS 9 counts submissions, modifications and
    # cancellations alike); the runner's clean-up mass cancels are reported apart, not counted
    commands = ctx.sent["NEW"] + ctx.sent["CANCEL"] + ctx.sent["CANCEL_ALL"] + ctx.sent["REPLACE"]
    filled_orders = len({f.order_id for f in r.fills})
    filled_qty = sum(f.qty for f in r.fills)
    # fills, volume, position and P&L: the primary instrument's (its ledger); order messages,
    # order-to-trade and fill ratios: every instrument's (the strategy's whole order flow)
    return {
        "fills": sum(_is_primary(r, f.instrument_id) for f in r.fills), "volume": led.volume,
        "maker_volume": led.maker_volume,
        "taker_volume": led.volume - led.maker_volume, "position": led.position,
        "realized": round(led.realized, 6), "unrealized": round(led.unrealized(mark), 6),
        "fees": round(led.fees, 6), "total_pnl": round(led.total(mark), 6),
        "mark": None if mark is None else mark / scale,
        "orders_placed": ctx.sent["NEW"], "cancels_sent": ctx.sent["CANCEL"],
        "mass_cancels_sent": ctx.sent["CANCEL_ALL"], "replaces_sent": ctx.sent["REPLACE"],
        "runtime_mass_cancels_sent": ctx.sent["RUNTIME_CANCEL_ALL"],
        "rejects": ctx.rejects, "fills_all_instruments": len(r.fills),
        "order_to_trade": round(commands / len(r.fills), 6) if r.fills else None,
        "fill_ratio_orders": round(filled_orders / ctx.sent["NEW"], 6) if ctx.sent["NEW"] else None,
        "fill_ratio_qty": round(filled_qty / ctx.placed_qty, 6) if ctx.placed_qty else None,
        "start_ns": r.start_ns, "end_ns": r.end_ns, "engine_commands": r.engine_commands,
        "engine_events": r.engine_events,
        **_by_instrument(r),
    }


def _is_primary(r: ReplayResult, instrument_id: int) -> bool:
    return instrument_id in (0, r.ctx.instrument_id)


def _by_instrument(r: ReplayResult) -> dict[str, Any]:
    """With several instruments (trading/replay/multi.py): each one's position and P&L (marked at
    its own last mid), and their sum; nothing for a one-instrument run."""
    ctx = r.ctx
    if len(ctx.instruments) < 2:
        return {}
    names = r.config.get("instruments", {})
    fills = {k: sum((f.instrument_id or ctx.instrument_id) == k for f in r.fills) for k in ctx.instruments}
    rows = {str(k): {"symbol": names.get(k, str(k)), "fills": fills[k], "position": s.ledger.position,
                     "volume": s.ledger.volume,
                     "fees": round(s.ledger.fees, 6), "total_pnl": round(s.pnl, 6)}
            for k, s in ctx.instruments.items()}
    return {"instruments": rows, "total_pnl_all_instruments": round(ctx.total_pnl, 6)}


def _fill_columns(r: ReplayResult) -> list[str]:
    """The fills' columns; with several instruments each fill also names its instrument."""
    cols = ["ts_ns", "order_id", "side", "price", "qty", "maker", "fee"]
    return cols + ["instrument"] if len(r.ctx.instruments) > 1 else cols


def to_json(r: ReplayResult) -> dict[str, Any]:
    several = len(r.ctx.instruments) > 1
    return {
        "strategy": r.strategy, "params": r.params, "config": r.config, "summary": summarize(r),
        "counts": r.counts, "error": r.error, "strategy_log": r.ctx.messages,
        "fills": [[f.ts_ns, f.order_id, f.side, f.price, f.qty, int(f.maker), round(f.fee, 6)]
                  + ([f.instrument_id] if several else []) for f in r.fills],
        "fill_columns": _fill_columns(r),
        "samples": [[s.ts_ns, s.position, round(s.realized, 6), round(s.unrealized, 6), round(s.fees, 6),
                     round(s.total, 6), s.mid, s.own_bid, s.own_ask] for s in r.samples],
        "sample_columns": ["ts_ns", "position", "realized", "unrealized", "fees", "total", "mid", "own_bid", "own_ask"],
    }


def write(r: ReplayResult, out: str | Path, plots: bool = True) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "result.json", out / "fills.csv"]
    paths[0].write_text(json.dumps(to_json(r), indent=1, sort_keys=True) + "\n")
    with open(paths[1], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(_fill_columns(r))
        several = len(r.ctx.instruments) > 1
        for fill in r.fills:
            w.writerow([fill.ts_ns, fill.order_id, "BUY" if fill.side == 1 else "SELL", fill.price, fill.qty,
                        int(fill.maker), f"{fill.fee:.6f}"] + ([fill.instrument_id] if several else []))
    if r.config.get("compute") == "measured":
        paths.append(out / "compute_charges.json")
        save_charges(r, paths[-1])
    if plots and r.samples:
        paths += _plots(r, out)
    return paths


def _plots(r: ReplayResult, out: Path) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = [s.ts_ns / 3.6e12 for s in r.samples]
    scale = r.ctx.price_scale
    made = []
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(hours, [s.total for s in r.samples], label="total (realised + unrealised - fees)")
    ax.plot(hours, [s.realized for s in r.samples], label="realised")
    ax.plot(hours, [-s.fees for s in r.samples], label="rebates - fees")
    ax.set_xlabel("time of day (hours)")
    ax.set_ylabel("currency units")
    ax.set_title(f"{r.strategy} on {r.config.get('symbol', '')}: P&L")
    ax.legend()
    fig.tight_layout()
    made.append(out / "pnl.png")
    fig.savefig(made[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 3))
    ax.step(hours, [s.position for s in r.samples], where="post")
    ax.set_xlabel("time of day (hours)")
    ax.set_ylabel("position (shares)")
    ax.set_title("inventory")
    fig.tight_layout()
    made.append(out / "inventory.png")
    fig.savefig(made[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    nan = float("nan")
    ax.plot(hours, [nan if s.mid is None else s.mid / scale for s in r.samples], label="mid", color="black", lw=0.8)
    ax.plot(hours, [nan if s.own_bid is None else s.own_bid / scale for s in r.samples], ".", ms=2, label="own bid")
    ax.plot(hours, [nan if s.own_ask is None else s.own_ask / scale for s in r.samples], ".", ms=2, label="own ask")
    ax.set_xlabel("time of day (hours)")
    ax.set_ylabel("price")
    ax.set_title("quotes against the mid")
    ax.legend()
    fig.tight_layout()
    made.append(out / "quotes.png")
    fig.savefig(made[-1], dpi=100)
    plt.close(fig)
    return made


def _mark_note(s: dict[str, Any]) -> str:
    """Which price the open position is marked at (the last P&L sample's mid: the book at the
    end of the run, after the strategy's orders were cancelled)."""
    if s["mark"] is None:
        return " (no mid at the end: the open position is not marked)"
    return f" (open position marked at the last mid, {s['mark']})"


def terminal_summary(r: ReplayResult) -> str:
    s = summarize(r)
    lines = [f"{r.strategy} {r.params} on {r.config.get('symbol')} ({r.config.get('data')})",
             f"  latency: orders {r.config['order_latency']}; feed {r.config['feed_latency']}; compute {r.config['compute']}",
             (f"  instrument {r.ctx.instrument_id} ({r.config.get('symbol')}):" if "instruments" in s else "")
             + f"  fills {s['fills']}  volume {s['volume']} (maker {s['maker_volume']}, taker {s['taker_volume']})"
             f"  position {s['position']}",
             f"  P&L total {s['total_pnl']:.2f} = realised {s['realized']:.2f} + unrealised {s['unrealized']:.2f}"
             f" - fees {s['fees']:.2f}" + _mark_note(s),
             f"  orders {s['orders_placed']}, cancels {s['cancels_sent']}, mass cancels {s['mass_cancels_sent']}, "
             f"replaces {s['replaces_sent']}, "
             f"rejects {s['rejects']}; order messages per fill {s['order_to_trade']}; orders filled of orders sent "
             f"(refused included) {s['fill_ratio_orders']}, shares filled of shares ordered {s['fill_ratio_qty']}"
             + (f" (all instruments: {s['fills_all_instruments']} fills)" if "instruments" in s else ""),
             f"  engine: {s['engine_commands']} commands, {s['engine_events']} events in {r.wall_s:.2f} s"]
    for k, row in s.get("instruments", {}).items():
        lines.append(f"  instrument {k} ({row['symbol']}): fills {row['fills']}, position {row['position']}, "
                     f"volume {row['volume']}, "
                     f"P&L {row['total_pnl']:.2f} (fees {row['fees']:.2f})")
    if "total_pnl_all_instruments" in s:
        lines.append(f"  P&L over all instruments {s['total_pnl_all_instruments']:.2f}")
    if s["runtime_mass_cancels_sent"]:
        lines.append(f"  the runner's clean-up mass cancels (a failure, stop or pause; not counted above): "
                     f"{s['runtime_mass_cancels_sent']}")
    if r.counts:
        lines.append("  reconciliation:")
        lines += [f"    {k}: {v}" for k, v in r.counts.items()]
    if r.error:
        lines.append(f"  STRATEGY STOPPED: {r.error.splitlines()[0]}")
    return "\n".join(lines)
