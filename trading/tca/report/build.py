"""The daily execution report and the weekly analysis: one analysis of the period's journal
window, rendered as a single-file HTML page (figures embedded as PNG) and a PDF (matplotlib
PdfPages: the same tables and figures), plus a JSON summary of the figures.

Contents: the period and sources (journal, clock mapping, "NBBO = this venue's BBO"); totals
(orders, executions, shares, notional, fees) with their reconciliation against the journal's
events in the window; the seed's execution-quality figures as measured, with how; costs by
strategy, account and instrument; price improvement and fill-rate tables; markouts; the venue
comparison; ranked recommendations with evidence; for the weekly analysis, one row and one trend
point per day. Nothing is written unless every part was computed: the files are written to
temporary names and renamed at the end.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from trading.tca import npx
from trading.tca.analysis import Analysis, CostSummary, analyze  # noqa: E402
from trading.tca.errors import NoData  # noqa: E402
from trading.tca.quality import QualityFigure, execution_quality  # noqa: E402
from trading.tca.recommend import Recommendation, recommendations  # noqa: E402
from trading.tca.reference import Reference  # noqa: E402
from trading.tca.report import plots  # noqa: E402
from trading.tca.tape import Tape  # noqa: E402


@dataclass(frozen=True)
class Totals:
    orders: int
    rejects: int
    executions: int          # trades (each has two sides)
    shares: int              # per side: the shares traded
    notional: float
    fees_paid: float
    rebates_paid: float
    outside_fills: int       # trade sides without an order here (replayed outside flow)
    outside_shares: int
    outside_notional: float


@dataclass(frozen=True)
class ReportFiles:
    html: str
    pdf: str
    json: str
    seconds: float


def journal_totals(tape: Tape, ref: Reference, fees: Any) -> Totals:
    """Totals straight from the window's journal tables (one row per TRADE event)."""
    tr = tape.fills[0::2]
    out = tape.fills[tape.fills["order_row"] < 0]
    return Totals(len(tape.orders), len(tape.rejects), len(tr), int(tr["qty"].sum()),
                  float((tr["price"].astype(float) * tr["qty"]).sum() / ref.price_scale),
                  float(fees[fees > 0].sum()), float(-fees[fees < 0].sum()), len(out), int(out["qty"].sum()),
                  float((out["price"].astype(float) * out["qty"]).sum() / ref.price_scale))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:,.4f}" if abs(v) < 100 else f"{v:,.2f}"
    return str(v)


_COST_COLS = ("key", "orders", "executions", "shares", "notional", "fees", "explicit_bps", "half_spread_bps",
              "impact_bps", "timing_bps", "delay_bps", "is_half_spread_bps", "is_impact_bps", "is_timing_bps",
              "opportunity_bps", "is_fees_bps", "shortfall_bps",
              "slippage_arrival_bps", "slippage_vwap_bps", "slippage_close_bps", "effective_spread_bps",
              "price_improved_pct", "fill_rate_market", "fill_rate_limit", "order_to_trade")


def _cost_rows(summaries: list[CostSummary]) -> list[list[str]]:
    return [[_fmt(getattr(s, c)) for c in _COST_COLS] for s in summaries]


def _table_html(head: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    b = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>"


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode()


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    per_page = 60
    for start in range(0, max(1, len(lines)), per_page):
        fig = plt.figure(figsize=(11.7, 8.3))
        fig.text(0.03, 0.96, title, fontsize=13, weight="bold")
        fig.text(0.03, 0.93, "\n".join(lines[start:start + per_page]), fontsize=7, family="monospace", va="top")
        pdf.savefig(fig)  # type: ignore[no-untyped-call]
        plt.close(fig)


def _mono(head: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return [fmt.format(*head)] + [fmt.format(*r) for r in rows]


@npx.small_pages
def build_report(tape: Tape, ref: Reference, kind: str, day: date, out_dir: str) -> ReportFiles:
    """kind 'daily' (day) or 'weekly' (day and the 6 following days). NoData if the period holds
    no order; nothing is written then."""
    t0 = time.perf_counter()
    days = 1 if kind == "daily" else 7
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    end = start + timedelta(days=days)
    s_ns, e_ns = int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9
    sub = tape.window(s_ns, e_ns)
    if len(sub.orders) == 0:
        first = tape.clock.utc(tape.first_ts).isoformat()
        last = tape.clock.utc(tape.last_ts).isoformat()
        raise NoData(f"no orders between {start.isoformat()} and {end.isoformat()} (the journal covers "
                     f"{first} .. {last}); no report written")
    an = analyze(sub, ref)
    totals = journal_totals(sub, ref, an.fills.fee)
    quality = execution_quality(an)
    recs = recommendations(an)
    per_day: list[tuple[str, CostSummary]] = []
    if kind == "weekly":
        for d in range(days):
            ds = s_ns + d * 86_400 * 10**9
            w = tape.window(ds, ds + 86_400 * 10**9)
            if len(w.orders):
                per_day.append(((start + timedelta(days=d)).strftime("%Y-%m-%d"), analyze(w, ref).total()))
    figs = {"slippage": plots.slippage_distribution(an), "markouts": plots.markout_curves(an.summary("strategy")),
            "venues": plots.venue_comparison(an.summary("venue")), "fill_rates": plots.fill_rates(an)}
    if per_day:
        figs["trend"] = plots.daily_trend(per_day)
    title = (f"Daily execution report {start:%Y-%m-%d}" if kind == "daily"
             else f"Weekly execution analysis {start:%Y-%m-%d} .. {(end - timedelta(days=1)):%Y-%m-%d}")
    check = _reconcile(an, totals)
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.join(out_dir, f"{kind}-{start:%Y-%m-%d}")
    tmp = f".tmp.{os.getpid()}"
    try:
        with open(stem + ".html" + tmp, "w", encoding="utf-8") as f:
            f.write(_html(title, an, totals, check, quality, recs, per_day, figs))
        with PdfPages(stem + ".pdf" + tmp) as pdf:
            _pdf(pdf, title, an, totals, check, quality, recs, per_day, figs)
        with open(stem + ".json" + tmp, "w", encoding="utf-8") as f:
            json.dump(_summary_json(title, an, totals, quality, recs, per_day), f, indent=1, default=str)
        for ext in (".html", ".pdf", ".json"):
            os.replace(stem + ext + tmp, stem + ext)
    except BaseException:
        for ext in (".html", ".pdf", ".json"):
            if os.path.exists(stem + ext + tmp):
                os.unlink(stem + ext + tmp)
        raise
    finally:
        for fig in figs.values():
            plt.close(fig)
    return ReportFiles(stem + ".html", stem + ".pdf", stem + ".json", time.perf_counter() - t0)


def _reconcile(an: Analysis, totals: Totals) -> list[str]:
    """The report's totals recomputed from its per-account breakdown must equal the journal's."""
    acc = an.summary("account")
    shares = sum(s.shares for s in acc)
    notional = sum(s.notional for s in acc)
    execs = sum(s.executions for s in acc)
    orders = sum(s.orders for s in acc)
    fees = sum(s.fees for s in acc)
    x_f, x_s, x_n = totals.outside_fills, totals.outside_shares, totals.outside_notional
    out = [f"orders (accepted or filled in the period): accounts {orders} = journal {totals.orders}: {'ok' if orders == totals.orders else 'MISMATCH'}",
           f"executions: accounts {execs} = 2 x journal TRADE {totals.executions} - {x_f} outside sides: "
           f"{'ok' if execs == 2 * totals.executions - x_f else 'MISMATCH'}",
           f"shares: accounts {shares} = 2 x journal {totals.shares} - {x_s} outside: "
           f"{'ok' if shares == 2 * totals.shares - x_s else 'MISMATCH'}",
           f"notional: accounts {notional:,.2f} = 2 x journal {totals.notional:,.2f} - {x_n:,.2f} outside: "
           f"{'ok' if abs(notional - (2 * totals.notional - x_n)) < 1e-6 * max(1.0, notional) else 'MISMATCH'}",
           f"net fees: accounts {fees:,.4f} = journal fees {totals.fees_paid:,.4f} - rebates {totals.rebates_paid:,.4f}: "
           f"{'ok' if abs(fees - (totals.fees_paid - totals.rebates_paid)) < 1e-6 else 'MISMATCH'}"]
    if any("MISMATCH" in line for line in out):
        raise NoData("report totals do not reconcile with the journal, no report written:\n  " + "\n  ".join(out))
    return out


def _header_lines(an: Analysis) -> list[str]:
    tape = an.tape
    return [f"journal: {tape.directory}", f"clock: {tape.clock.source}",
            f"venue: {an.ref.venue_name} ({an.ref.venue_mic}); NBBO = this venue's own BBO rebuilt from its event "
            "journal (one venue today)",
            f"fees: taker {an.ref.fees.taker_per_share}, maker {an.ref.fees.maker_per_share}, auction "
            f"{an.ref.fees.auction_per_share} {an.ref.currency}/share (reference data)",
            "decision prices: none given, so the delay cost is 0 and the shortfall is measured from arrival"]


def _quality_rows(quality: list[QualityFigure]) -> list[list[str]]:
    return [[q.name, _fmt(q.value), q.unit, q.target, {True: "met", False: "not met", None: "not measurable"}[q.met],
             str(q.sample), q.how] for q in quality]


def _rec_rows(recs: list[Recommendation]) -> list[list[str]]:
    return [[str(i + 1), r.category, r.action, _fmt(r.saving_bps), _fmt(r.saving), "yes" if r.significant else "no",
             r.evidence] for i, r in enumerate(recs)]


_Q_HEAD = ("measure", "value", "unit", "target", "status", "sample", "how measured")
_R_HEAD = ("rank", "category", "action", "saving bps", "saving", "significant", "evidence")


def _html(title: str, an: Analysis, totals: Totals, check: list[str], quality: list[QualityFigure],
          recs: list[Recommendation], per_day: list[tuple[str, CostSummary]], figs: dict[str, Figure]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px;"
             "margin-bottom:1em}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
             "th{background:#eee}</style></head><body>", f"<h1>{html.escape(title)}</h1><ul>"]
    parts += [f"<li>{html.escape(line)}</li>" for line in _header_lines(an)]
    parts.append("</ul><h2>Totals (reconciled with the journal)</h2>")
    parts.append(_table_html(list(asdict(totals)), [[_fmt(v) for v in asdict(totals).values()]]))
    parts.append("<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in check) + "</ul>")
    parts.append("<h2>Execution quality (the seed's figures, as measured)</h2>")
    parts.append(_table_html(_Q_HEAD, _quality_rows(quality)))
    for dim in ("strategy", "account", "instrument", "venue"):
        parts.append(f"<h2>Costs by {dim}</h2>" + _table_html(_COST_COLS, _cost_rows(an.summary(dim))))
    if per_day:
        parts.append("<h2>Day by day</h2>" + _table_html(("day",) + _COST_COLS[1:],
                                                         [[d] + _cost_rows([s])[0][1:] for d, s in per_day]))
    parts.append("<h2>Recommendations (ranked, from measured data)</h2>" + _table_html(_R_HEAD, _rec_rows(recs)))
    for name, fig in figs.items():
        parts.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2><img src='data:image/png;base64,{_png(fig)}'>")
    parts.append("</body></html>")
    return "".join(parts)


def _pdf(pdf: PdfPages, title: str, an: Analysis, totals: Totals, check: list[str], quality: list[QualityFigure],
         recs: list[Recommendation], per_day: list[tuple[str, CostSummary]], figs: dict[str, Figure]) -> None:
    lines = _header_lines(an) + ["", "Totals:"] + _mono(list(asdict(totals)), [[_fmt(v) for v in asdict(totals).values()]])
    lines += check + ["", "Execution quality (as measured):"]
    lines += [f"  {q.name}: {_fmt(q.value)} {q.unit} (target {q.target}; "
              f"{ {True: 'met', False: 'not met', None: 'not measurable'}[q.met]}) - {q.how}" for q in quality]
    _text_page(pdf, title, lines)
    for dim in ("strategy", "account", "instrument", "venue"):
        _text_page(pdf, f"Costs by {dim}", _mono(_COST_COLS[:11], [r[:11] for r in _cost_rows(an.summary(dim))])
                   + [""] + _mono((_COST_COLS[0],) + _COST_COLS[11:], [[r[0]] + r[11:] for r in _cost_rows(an.summary(dim))]))
    if per_day:
        _text_page(pdf, "Day by day", _mono(("day",) + _COST_COLS[1:11], [[d] + _cost_rows([s])[0][1:11] for d, s in per_day]))
    _text_page(pdf, "Recommendations", [f"{r[0]}. [{r[1]}] {r[2]} (saving {r[3]} bps, {r[4]}; significant: {r[5]})\n    {r[6]}"
                                        for r in _rec_rows(recs)])
    for fig in figs.values():
        pdf.savefig(fig)  # type: ignore[no-untyped-call]


def _summary_json(title: str, an: Analysis, totals: Totals, quality: list[QualityFigure],
                  recs: list[Recommendation], per_day: list[tuple[str, CostSummary]]) -> dict[str, Any]:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x
    out: dict[str, Any] = clean({"title": title, "totals": asdict(totals), "quality": [asdict(q) for q in quality],
                  "by_strategy": [asdict(s) for s in an.summary("strategy")],
                  "by_account": [asdict(s) for s in an.summary("account")],
                  "by_instrument": [asdict(s) for s in an.summary("instrument")],
                  "recommendations": [{k: v for k, v in asdict(r).items() if k != "ranking"} for r in recs],
                  "days": [{"day": d, **asdict(s)} for d, s in per_day]})
    return out
