"""The ops shell's output: replies of the control plane as readable rich tables, or as JSON lines.

Prices and quantities arrive as integers in engine units (gateway/control/protocol.py); this module
alone turns them into numbers a person reads: a price p is shown as p / price_scale with as many
decimals as the instrument's tick needs (tick 100 at scale 10_000: two decimals). JSON output keeps
the raw integers, for machines.

Each known command has a renderer; any other reply (or a reply whose shape changed) falls back to a
generic rendering of dicts and lists, so a new field shows up instead of breaking the shell.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gateway.control.shell_commands import Catalog, Command

DEFAULT_PRICE_SCALE = 10_000     # engine price units per currency unit (1/10000 USD, as the demo)


@dataclass(frozen=True)
class Formats:
    """How to show engine units: price scale and, per instrument symbol/id, the tick size."""
    price_scale: int = DEFAULT_PRICE_SCALE
    ticks: Mapping[object, int] = field(default_factory=dict)

    @classmethod
    def from_status(cls, status: Mapping[str, Any] | None) -> "Formats":
        status = status or {}
        scale = status.get("price_scale")
        ticks: dict[object, int] = {}
        for inst in status.get("instruments", ()) or ():
            if not isinstance(inst, Mapping):
                continue
            tick = inst.get("tick_size", inst.get("tick"))
            if isinstance(tick, int) and tick > 0:
                for key in (inst.get("id"), inst.get("instrument_id"), inst.get("symbol")):
                    if key is not None:
                        ticks[key] = tick
        return cls(scale if isinstance(scale, int) and scale > 0 else DEFAULT_PRICE_SCALE, ticks)

    def decimals(self, instrument: object = None) -> int:
        tick = self.ticks.get(instrument)
        if tick is None:
            return 2 if self.price_scale >= 100 else 0
        d, unit = 0, self.price_scale
        # the fewest decimals that show every multiple of the tick exactly
        while d < 8 and (tick * 10**d) % unit:
            d += 1
        return d

    def price(self, value: object, instrument: object = None) -> str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "-" if value is None else str(value)
        d = self.decimals(instrument)
        if isinstance(value, int):
            while d < 8 and (value * 10**d) % self.price_scale:
                d += 1            # off the tick grid (an average price): exact, never rounded
        return f"{value / self.price_scale:,.{d}f}"

    def money(self, value: object) -> str:
        """P&L and notional: price units times quantity, shown in currency units."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "-" if value is None else str(value)
        return f"{value / self.price_scale:,.2f}"


def qty(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-" if value is None else str(value)
    return f"{value:,}"


def _yes_no(value: object, good: bool = True) -> Text:
    if value is None:
        return Text("-")
    ok = bool(value) == good
    return Text("yes" if value else "no", style="green" if ok else "bold red")


def _signed_money(fmt: Formats, value: object) -> Text:
    s = fmt.money(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value:
        return Text(s, style="green" if value > 0 else "red")
    return Text(s)


def _ns(value: object) -> str:
    """Latency in ns shown in µs (ns below 1 µs)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-" if value is None else str(value)
    return f"{value:,.0f} ns" if value < 1000 else f"{value / 1000:,.1f} µs"


def _table(title: str | None, *columns: str, right: Sequence[str] = ()) -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left", pad_edge=False)
    for c in columns:
        t.add_column(c, justify="right" if c in right else "left", no_wrap=c not in ("reason", "message", "peer"))
    return t


# ---------------------------------------------------------------------------------------------
# generic rendering

def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        return ", ".join(_cell(v) for v in value) if all(not isinstance(v, (dict, list)) for v in value) \
            else json.dumps(value, default=str)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return str(value)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v))
    return out


def generic(data: Any, title: str | None = None) -> RenderableType:
    """Any reply: a list of dicts as a table, a dict as key/value rows (nested lists of dicts as
    their own tables), anything else as text."""
    if data is None:
        return Text("ok")
    if isinstance(data, list):
        if not data:
            return Text(f"{title}: none" if title else "(none)")
        if all(isinstance(r, Mapping) for r in data):
            cols: list[str] = []
            for r in data:
                cols += [k for k in r if k not in cols]
            t = _table(title, *cols, right=[c for c in cols if all(
                isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                for r in data if r.get(c) is not None)])
            for r in data:
                t.add_row(*(_cell(r.get(c)) for c in cols))
            return t
        return Text("\n".join(_cell(v) for v in data))
    if isinstance(data, Mapping):
        kv = Table(title=title, box=None, show_header=False, title_justify="left", pad_edge=False)
        kv.add_column(style="bold")
        kv.add_column()
        subtables: list[RenderableType] = []
        for k, v in _flatten(data):
            if isinstance(v, list) and v and all(isinstance(r, Mapping) for r in v):
                subtables.append(generic(v, k))
            else:
                kv.add_row(k, _cell(v))
        return Group(kv, *subtables) if subtables else kv
    return Text(str(data))


# ---------------------------------------------------------------------------------------------
# per-command renderers: (data, catalog, formats) -> renderable

def _whoami(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if isinstance(data, Mapping):
        return Text(f"{data.get('user', '?')} ({data.get('role', '?')})")
    return generic(data)


_PHASE_STYLE = {"continuous": "green", "halted": "bold red", "closed": "dim", "pre_open": "yellow"}


# The engine's counters are its process's (a restarted engine counts from 0 after its recovery,
# while seq goes on): said so, else "seq 40  commands 0" reads as a contradiction.
_ENGINE_LABELS = {"commands": "commands since its start", "events": "events since its start",
                  "events_seen": "events read by the control plane"}


def _status(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, Mapping):
        return generic(data)
    head = Table(box=None, show_header=False, pad_edge=False)
    head.add_column(style="bold")
    head.add_column()
    engine = _mapping(data.get("engine"))
    head.add_row("venue", _cell(data.get("venue")))
    head.add_row("engine", Text.assemble(
        _yes_no(engine.get("alive")) if "alive" in engine else Text("-"),
        *(f"  {_ENGINE_LABELS.get(k, k)} {_cell(v)}" for k, v in engine.items() if k != "alive")))
    for k, v in data.items():
        if k in ("venue", "engine", "instruments"):
            continue
        if isinstance(v, list) and all(not isinstance(x, (list, Mapping)) for x in v):
            head.add_row(k.replace("_", " "), Text(_cell(v) if v else "none",
                                                   style="bold red" if v and "kill" in k else ""))
        elif not isinstance(v, (list, Mapping)):
            style = "bold red" if k == "alerts_open" and v else ""
            head.add_row(k.replace("_", " "), Text(_cell(v), style=style))
    insts = [i for i in data.get("instruments") or [] if isinstance(i, Mapping)]
    prices = ("bid", "ask", "last", "ref")
    t = _table("instruments", "id", "symbol", "phase", *prices, right=("id", *prices))
    known = ("id", "instrument_id", "symbol", "phase", *prices)
    extra = list(dict.fromkeys(k for i in insts for k in i
                               if k not in known and any(x.get(k) is not None for x in insts)))
    for c in extra:
        numeric = all(isinstance(x.get(c), (int, float)) for x in insts if x.get(c) is not None)
        t.add_column(c, justify="right" if numeric else "left")
    for i in insts:
        key = i.get("id", i.get("instrument_id"))
        phase = str(i.get("phase", "-"))
        t.add_row(_cell(key), str(i.get("symbol", "")), Text(phase, style=_PHASE_STYLE.get(phase, "")),
                  *(fmt.price(i.get(p), key) for p in prices), *(_cell(i.get(c)) for c in extra))
    parts: list[RenderableType] = [head, t]
    for k, v in data.items():
        if k not in ("instruments", "engine") and (isinstance(v, Mapping) or (
                isinstance(v, list) and any(isinstance(x, (list, Mapping)) for x in v))):
            parts.append(generic(v, k))
    return Group(*parts)


def _sessions(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        return generic(data)
    if not data:
        return Text("no sessions")
    t = _table("sessions", "session", "firm", "connected", "peer", "in seq", "out seq",
               "cancel on disc.", right=("session", "firm", "in seq", "out seq"))
    for r in data:
        t.add_row(_cell(r.get("session_id")), _cell(r.get("firm_id")), _yes_no(r.get("connected")),
                  _cell(r.get("peer")), _cell(r.get("in_seq")), _cell(r.get("out_seq")),
                  _cell(r.get("cancel_on_disconnect")))
    return t


def _mapping(value: Any) -> Mapping[str, Any]:
    """A reply's nested object, or {} where the reply has none (or something else) there."""
    return value if isinstance(value, Mapping) else {}


def _pct_of_limit(fmt: Formats, metric: str, v: Any) -> str:
    if metric == "concentration":
        return "-" if v is None else f"{v:.1%}"
    return fmt.money(v)


def _levels(side: Any) -> list[Sequence[Any]]:
    out: list[Sequence[Any]] = []
    for lv in side or ():
        if isinstance(lv, Mapping):
            out.append((lv.get("price"), lv.get("qty"), lv.get("orders", lv.get("order_count"))))
        elif isinstance(lv, (list, tuple)):
            out.append(tuple(lv) + (None,) * (3 - len(lv)))
    return out


def book_view(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    """A ladder: bids on the left (best first), asks on the right (best first)."""
    if not isinstance(data, Mapping) or not ("bids" in data or "asks" in data):
        return generic(data)
    inst = data.get("instrument")
    symbol = cat.symbol(inst)
    bids, asks = _levels(data.get("bids")), _levels(data.get("asks"))
    facts = [str(data["phase"])] if data.get("phase") else []
    if data.get("last") is not None:
        facts.append(f"last {fmt.price(data['last'], symbol)}")
    about = f" ({', '.join(facts)})" if facts else ""
    t = _table(f"book {symbol}{about}", "orders", "bid qty", "bid", "ask", "ask qty", "orders ",
               right=("orders", "bid qty", "bid"))
    for n in range(max(len(bids), len(asks))):
        b = bids[n] if n < len(bids) else (None, None, None)
        a = asks[n] if n < len(asks) else (None, None, None)
        t.add_row(qty(b[2]) if b[0] is not None else "", qty(b[1]) if b[0] is not None else "",
                  Text(fmt.price(b[0], symbol), style="green") if b[0] is not None else "",
                  Text(fmt.price(a[0], symbol), style="red") if a[0] is not None else "",
                  qty(a[1]) if a[0] is not None else "", qty(a[2]) if a[0] is not None else "")
    if not bids and not asks:
        return Group(t, Text("(empty book)"))
    return t


def _book(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    return book_view(data, cat, fmt)


def _orders(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        return generic(data)
    if not data:
        return Text("no live orders")
    t = _table("orders", "order id", "instrument", "side", "price", "qty", "leaves", "type", "tif",
               right=("order id", "price", "qty", "leaves"))
    for r in data:
        inst = r.get("instrument")
        side = str(r.get("side", "-")).lower()
        t.add_row(_cell(r.get("order_id")), cat.symbol(inst),
                  Text(side, style="green" if side.startswith("b") else "red"),
                  fmt.price(r.get("price"), cat.symbol(inst)) if r.get("price") else "market",
                  qty(r.get("qty")), qty(r.get("leaves")), _cell(r.get("type")), _cell(r.get("tif")))
    return t


def _positions(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        return generic(data)
    if not data:
        return Text("no positions")
    t = _table("positions", "account", "instrument", "position", "avg price", "realized P&L",
               "unrealized P&L", right=("account", "position", "avg price", "realized P&L",
                                        "unrealized P&L"))
    for r in data:
        sym = str(r.get("symbol") or cat.symbol(r.get("instrument")))
        t.add_row(_cell(r.get("account")), sym, qty(r.get("position")),
                  fmt.price(r.get("avg_price"), sym), _signed_money(fmt, r.get("realized_pnl")),
                  _signed_money(fmt, r.get("unrealized_pnl")))
    return t


def _alerts(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        return generic(data)
    if not data:
        return Text("no alerts")
    rows = [dict(r) for r in data]
    for r in rows:
        for k in ("ts", "ts_ns", "time", "acked_ts_ns"):
            if isinstance(r.get(k), (int, float)):
                r[k] = _timestamp(r[k])
    return generic(rows, "alerts")


def _timestamp(value: float) -> str:
    """Wall-clock seconds or nanoseconds since the epoch, as UTC time of day."""
    secs = value / 1e9 if value > 1e12 else value
    try:
        return _dt.datetime.fromtimestamp(secs, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return str(value)


def _latency(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, Mapping) or not all(isinstance(v, Mapping) for v in data.values()):
        return generic(data)
    if not data:
        return Text("no latency samples recorded")
    t = _table("latency per stage", "stage", "p50", "p99", "p99.9", "max", "count",
               right=("p50", "p99", "p99.9", "max", "count"))
    for stage, s in data.items():
        if s.get("count") == 0:       # no sample: no figure (it printed "0 ns", a latency never measured)
            t.add_row(str(stage), "-", "-", "-", "-", qty(0))
            continue
        t.add_row(str(stage), _ns(s.get("p50_ns")), _ns(s.get("p99_ns")), _ns(s.get("p999_ns")),
                  _ns(s.get("max_ns")), qty(s.get("count")))
    return t


# tuning.Status verdicts (tuning/setting.py), plus the contract's generic words
_STATE_STYLE = {"ok": "green", "differs": "yellow", "cannot read": "bold red", "not applicable here": "dim",
                "warn": "yellow", "bad": "bold red"}


def _tuning(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        return generic(data)
    t = _table("tuning audit", "setting", "state", "current", "wanted", "reason")
    counts: dict[str, int] = {}
    for r in data:
        state = str(r.get("status", r.get("state", "-")))
        counts[state] = counts.get(state, 0) + 1
        t.add_row(_cell(r.get("name", r.get("setting"))),
                  Text(state, style=_STATE_STYLE.get(state.lower(), "")),
                  _cell(r.get("current")), _cell(r.get("wanted")),
                  "" if state == "ok" else _cell(r.get("reason")))
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    return Group(t, Text(f"{len(data)} settings: {summary}"))


def _journal(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    if not isinstance(data, Mapping):
        return generic(data)
    head = {k: v for k, v in data.items() if k != "snapshots"}
    parts: list[RenderableType] = [generic(head, "journal")]
    snaps = data.get("snapshots")
    if isinstance(snaps, list):
        if snaps and all(isinstance(s, Mapping) for s in snaps):
            t = _table("snapshots", "seq", "path", "bytes", right=("seq", "bytes"))
            for s in snaps:
                t.add_row(_cell(s.get("seq")), _cell(s.get("path")), qty(s.get("bytes")))
            parts.append(t)
        else:
            parts.append(Text("snapshots: none"))
    return Group(*parts)


INT64_MAX = 2**63 - 1      # "no limit" in the engine's limit fields
_RISK_METRICS = (("var", "var_limit"), ("drawdown", "drawdown_limit"), ("loss", "loss_limit"),
                 ("notional", "notional_limit"), ("concentration", "concentration_limit"))


def _limit_qty(value: object) -> str:
    return "none" if value is None or value == INT64_MAX else qty(value)


def _risk(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    """risk.show: per account, each post-trade metric against its limit (money in currency
    units, concentration in %), then max positions per instrument and the order-velocity limit
    (new orders + replaces per window), then instrument limits."""
    if not isinstance(data, Mapping) or not isinstance(data.get("accounts"), list):
        return generic(data)
    parts: list[RenderableType] = []
    t = _table("account risk", "account", "kill switch", "auto kill", "metric", "usage", "limit", "used",
               right=("account", "usage", "limit", "used"))
    alerts: list[Any] = []
    for a in data["accounts"]:
        if not isinstance(a, Mapping):
            continue
        limits = _mapping(a.get("limits"))
        usage = _mapping(a.get("usage"))
        first = True
        for metric, limit_name in _RISK_METRICS:
            used, limit = usage.get(metric), limits.get(limit_name)
            pct, style = "", ""
            if isinstance(used, (int, float)) and isinstance(limit, (int, float)) and limit:
                pct = f"{used / limit:.0%}"
                style = "bold red" if used >= limit else "yellow" if used >= 0.8 * limit else ""
            t.add_row(_cell(a.get("account")) if first else "",
                      (Text("ENGAGED", style="bold red") if a.get("kill_switch") else Text("off"))
                      if first else "",
                      _cell(limits.get("auto_kill")) if first else "",
                      metric, _pct_of_limit(fmt, metric, used),
                      "none" if limit is None else _pct_of_limit(fmt, metric, limit), Text(pct, style=style))
            first = False
        if "error" in usage:
            t.add_row("", "", "", "error", str(usage["error"]), "", "")
        alerts += list(a.get("open_alerts") or [])
    parts.append(t)
    syms = list(dict.fromkeys(k for a in data["accounts"] if isinstance(a, Mapping)
                              and isinstance(a.get("max_position"), Mapping) for k in a["max_position"]))
    if syms:
        mp = _table("max position and order velocity", "account", *syms, "order velocity",
                    right=("account", *syms))
        for a in data["accounts"]:
            if isinstance(a, Mapping) and isinstance(a.get("max_position"), Mapping):
                mp.add_row(_cell(a.get("account")), *(_limit_qty(a["max_position"].get(x)) for x in syms),
                           str(a.get("order_velocity", "none")))
        parts.append(mp)
    insts = data.get("instruments")
    if isinstance(insts, Mapping) and insts:
        it = _table("instrument limits", "instrument", "max order qty",
                    "max order notional", "price collar ticks",
                    right=("max order qty", "max order notional", "price collar ticks"))
        for sym, r in insts.items():
            r = r if isinstance(r, Mapping) else {}
            notional = r.get("max_order_notional")
            it.add_row(str(sym), _limit_qty(r.get("max_order_qty")),
                       "none" if notional in (None, INT64_MAX) else fmt.money(notional),
                       _limit_qty(r.get("price_collar_ticks")))
        parts.append(it)
    if alerts:
        parts.append(generic(alerts, "open alerts"))
    return Group(*parts)


def _parents(data: Any, cat: Catalog, fmt: Formats) -> RenderableType:
    """parent.list: one row per parent order (trading/execution/desk.py's show)."""
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        return generic(data)
    if not data:
        return Text("no parent orders")
    t = _table("parent orders", "id", "algo", "side", "account", "instr", "qty", "filled", "target",
               "working", "state", "avg price", "shortfall bps", "particip.", "process",
               right=("id", "account", "qty", "filled", "target", "working", "avg price", "shortfall bps",
                      "particip."))
    for r in data:
        target = r.get("target_now")
        avg = r.get("avg_price")
        part = r.get("participation")
        t.add_row(_cell(r.get("id")), _cell(r.get("algo")), _cell(r.get("side")), _cell(r.get("account")),
                  cat.symbol(r.get("instrument")), qty(r.get("qty")), qty(r.get("filled")),
                  "-" if target is None else f"{float(target):,.0f}", qty(r.get("working")), _cell(r.get("state")),
                  "-" if avg is None else f"{float(avg):,.4f}",
                  "-" if r.get("shortfall_bps") is None else f"{float(r['shortfall_bps']):+.2f}",
                  "-" if part is None else f"{float(part):.1%}", _cell(r.get("process")))
    failures = [Text(f"parent {r.get('id')} failed: {r['failure']}") for r in data if r.get("failure")]
    return Group(t, *failures) if failures else t


RENDERERS: dict[str, Callable[[Any, Catalog, Formats], RenderableType]] = {
    "risk.show": _risk,
    "whoami": _whoami,
    "status": _status,
    "sessions.list": _sessions,
    "book": _book,
    "orders": _orders,
    "positions": _positions,
    "alerts": _alerts,
    "latency": _latency,
    "tuning.audit": _tuning,
    "journal.status": _journal,
    "parent.list": _parents,
}


def _without_steps(data: Any) -> Any:
    """A write's result without its engine-level detail ('steps': each sequenced command and its
    acknowledgement), which JSON output keeps; an auction is shown as its price and quantity."""
    if isinstance(data, list):
        return [_without_steps(x) for x in data]
    if isinstance(data, Mapping):
        out = {}
        for k, v in data.items():
            if k in ("steps", "seqs"):
                continue
            if k == "auction" and isinstance(v, Mapping):
                v = (f"uncrossed {qty(v.get('matched_qty'))} @ {Formats().price(v.get('price'))}"
                     if v.get("crossed") else "no cross")
            out[k] = v
        return out
    return data


def render(cmd: Command, data: Any, catalog: Catalog, formats: Formats) -> RenderableType:
    """The reply to a successful command, for a person."""
    if cmd.write:
        done = Text(f"{cmd.name}: ok", style="green")
        if data in (None, {}, []):
            return done
        if isinstance(data, str):
            return Text.assemble(done, f" ({data})")
        return Group(done, generic(_without_steps(data)))
    renderer = RENDERERS.get(cmd.wire or "")
    try:
        return renderer(data, catalog, formats) if renderer else generic(data)
    except (TypeError, ValueError, AttributeError, KeyError):
        return generic(data)       # a reply of an unexpected shape: show it rather than crash


def error_line(name: str, code: str, message: str) -> str:
    """One line for a refused or failed command, e.g. ``halt: refused (forbidden): viewer ...``."""
    what = {"forbidden": "refused", "engine_reject": "rejected by the engine",
            "unauthenticated": "not authenticated", "timeout": "no reply",
            "unavailable": "unavailable"}.get(code, "failed")
    return f"{name}: {what} ({code})" + (f": {message}" if message else "")


def json_line(statement: str, ok: bool, code: str, message: str = "", data: Any = None,
              command: str | None = None) -> str:
    """One JSON object per statement, for automation: raw engine units, no formatting."""
    return json.dumps({"statement": statement, "command": command, "ok": ok, "code": code,
                       "message": message, "data": data}, default=_json_default, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)
