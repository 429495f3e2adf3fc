"""``python -m trading report SUBCOMMAND``: transaction cost analysis, best-execution monitoring
and regulatory reports from a venue journal, from the shell.

  daily   --date D --out DIR            daily execution report (HTML, PDF, JSON)
  weekly  --date D --out DIR            weekly analysis of D and the 6 following days
  tca     [--by DIM] [--date D]         cost summaries by order|parent|strategy|account|venue|instrument|period
  flow    SYMBOL [--window 1h]          the notebook analyzer (OrderFlowAnalyzer) from the shell
  rule605 --month YYYY-MM --out FILE    SEC Rule 605 (as amended 2024), validated
  rule606 --out FILE                    SEC Rule 606 routing report
  rts22   --date D --out FILE           MiFID II transaction reports, every row validated
  rts27 / rts28 --out FILE              best-execution reports (status in the header)
  audit   [--date D] --out DIR          CAT-like audit trail as CSV and JSON lines
  monitor --bands FILE [--follow]       incremental best-execution monitoring with alerts

Every subcommand takes --journal DIR (default venue-journal), --reference FILE (reference data,
trading/tca/reference.py) and --venue-config FILE (symbols and firms from a venue TOML). Exit 0
on success, 1 when the input cannot give a complete report (no data, unknown instrument, corrupt
journal, a report failing its field rules: nothing written), 2 for a bad argument (one line).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, NoReturn

from gateway.cli_paths import os_error_line, output_dir, output_file
from trading.tca.errors import TcaInputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {text!r}")
    return text


def _window(text: str) -> timedelta:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive duration like 90s, 15m, 1h, 2d: {text!r}")
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return timedelta(seconds=float(m.group(1)) * unit)


def _out_dir(text: str) -> str:
    return str(output_dir(text))


def _out_file(text: str) -> str:
    return str(output_file(text))


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value <= 3600):         # 0 would spin a core; NaN/negative made time.sleep raise
        raise argparse.ArgumentTypeError(f"seconds in (0, 3600], got {text!r}")
    return value


def _parser() -> _Parser:
    p = _Parser(prog="python -m trading report", description=__doc__.split("\n\n")[0] if __doc__ else "",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--journal", default="venue-journal", help="journal directory (default venue-journal)")
        sp.add_argument("--reference", help="reference data TOML (symbols, ISINs, LEIs, fees, strategies)")
        sp.add_argument("--venue-config", help="venue TOML (python -m gateway up) for symbols and firms")

    for name, help_ in (("daily", "daily execution report"), ("weekly", "weekly analysis")):
        sp = sub.add_parser(name, help=help_)
        common(sp)
        sp.add_argument("--date", type=_date, required=True, help="day (weekly: first day), UTC")
        sp.add_argument("--out", type=_out_dir, required=True, help="output directory")
    sp = sub.add_parser("tca", help="cost summaries")
    common(sp)
    sp.add_argument("--by", default="strategy", choices=("order", "parent", "strategy", "account", "venue",
                                                          "instrument", "period"))
    sp.add_argument("--date", type=_date)
    sp.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    sp = sub.add_parser("flow", help="order flow of one instrument over a window")
    common(sp)
    sp.add_argument("symbol")
    sp.add_argument("--window", type=_window, default=timedelta(hours=1))
    sp = sub.add_parser("rule605", help="SEC Rule 605 monthly report")
    common(sp)
    sp.add_argument("--month", type=_month, required=True)
    sp.add_argument("--out", type=_out_file, required=True)
    for name in ("rule606", "rts27", "rts28"):
        sp = sub.add_parser(name, help=f"{name} report")
        common(sp)
        sp.add_argument("--date", type=_date, help="one day (default: the whole journal)")
        sp.add_argument("--out", type=_out_file, required=True)
    sp = sub.add_parser("rts22", help="MiFID II transaction reports")
    common(sp)
    sp.add_argument("--date", type=_date, help="one day (default: the whole journal)")
    sp.add_argument("--out", type=_out_file, required=True)
    sp = sub.add_parser("audit", help="CAT-like audit trail (CSV and JSON lines)")
    common(sp)
    sp.add_argument("--date", type=_date, help="one day (default: the whole journal)")
    sp.add_argument("--out", type=_out_dir, required=True, help="output directory")
    sp = sub.add_parser("monitor", help="incremental best-execution monitoring")
    common(sp)
    sp.add_argument("--bands", required=True, help="TOML with [[bands]] (trading/tca/monitor.py)")
    sp.add_argument("--publish", help="ZeroMQ PUB endpoint for alerts (control plane's alert topic)")
    sp.add_argument("--follow", action="store_true", help="keep following the journal until Ctrl-C")
    sp.add_argument("--interval", type=_interval, default=0.2, help="poll interval in seconds with --follow")
    return p


def _day_window(tape: Any, d: date | None) -> Any:
    if d is None:
        return tape
    start = int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()) * 10**9
    sub = tape.window(start, start + 86_400 * 10**9)
    if len(sub.orders) == 0 and len(sub.fills) == 0:
        from trading.tca.errors import NoData
        raise NoData(f"no orders or executions on {d.isoformat()} (the journal covers "
                     f"{tape.clock.utc(tape.first_ts).isoformat()} .. {tape.clock.utc(tape.last_ts).isoformat()})")
    return sub


def _finite_or_null(value: Any) -> Any:
    """NaN and infinities as JSON null, inside the per-horizon dicts too (json.dumps would write the
    bare NaN that strict JSON readers refuse)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    return value


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.3f}"
    if isinstance(v, dict):
        return " ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def _run(args: argparse.Namespace) -> int:
    from trading.tca.reference import load_reference
    from trading.tca.tape import load_tape
    ref = load_reference(args.reference, args.venue_config)
    if args.cmd == "flow":
        from trading.tca.analyzer import OrderFlowAnalyzer
        r = OrderFlowAnalyzer(args.journal, ref).analyze_order_flow(args.symbol, args.window)
        print(f"{r.symbol} {r.start.isoformat()} .. {r.end.isoformat()}: {r.orders} orders "
              f"({r.buy_orders} buy, {r.sell_orders} sell), {r.executions} executions, {r.shares} shares, "
              f"notional {r.notional:,.2f}, {r.rejects} rejects")
        for k, v in asdict(r.costs).items():
            if k not in ("dimension", "key"):
                print(f"  {k:<30} {_fmt(v)}")
        print("execution quality (as measured):")
        for q in r.quality:
            status = {True: "met", False: "not met", None: "not measurable"}[q.met]
            print(f"  {q.name:<26} {_fmt(q.value):>9} {q.unit:<12} target {q.target:<9} {status}: {q.how}")
        return 0
    tape = load_tape(args.journal)
    if args.cmd in ("daily", "weekly"):
        from trading.tca.report.build import build_report
        files = build_report(tape, ref, args.cmd, args.date, args.out)
        print(f"{args.cmd} report: {files.html}, {files.pdf}, {files.json} ({files.seconds:.2f} s)")
        return 0
    from trading.tca.analysis import analyze
    if args.cmd == "monitor":
        return _monitor(args, ref)
    if args.cmd == "rule605":
        from trading.tca.regulatory import rule605
        from trading.tca.regulatory.output import ReportInvalid, write_csv
        rep = rule605.rule605(analyze(tape, ref), args.month)
        if rep.violations:
            raise ReportInvalid(f"Rule 605 {args.month}", rep.violations)
        write_csv(args.out, rep.rows, rule605.COLUMNS, rule605.HEADER)
        print(f"Rule 605 {args.month}: {len(rep.rows)} rows, all valid -> {args.out}")
        return 0
    sub = _day_window(tape, getattr(args, "date", None))
    an = analyze(sub, ref)
    if args.cmd == "tca":
        rows = an.summary(args.by)
        for s in rows:
            if args.json:
                print(json.dumps(_finite_or_null(asdict(s)), allow_nan=False))
            else:
                print(f"{s.key}: orders {s.orders} executions {s.executions} shares {s.shares} "
                      f"notional {s.notional:,.2f} fees {s.fees:,.2f} | arrival {_fmt(s.slippage_arrival_bps)} "
                      f"(spread {_fmt(s.half_spread_bps)} impact {_fmt(s.impact_bps)} timing {_fmt(s.timing_bps)}) "
                      f"vwap {_fmt(s.slippage_vwap_bps)} close {_fmt(s.slippage_close_bps)} bps | IS "
                      f"{_fmt(s.shortfall_bps)} bps of paper = delay {_fmt(s.delay_bps)} spread "
                      f"{_fmt(s.is_half_spread_bps)} impact {_fmt(s.is_impact_bps)} timing {_fmt(s.is_timing_bps)} "
                      f"opp {_fmt(s.opportunity_bps)} fees {_fmt(s.is_fees_bps)} | "
                      f"eff spread {_fmt(s.effective_spread_bps)} | markouts {_fmt(s.markout_bps)} | "
                      f"fill mkt {_fmt(s.fill_rate_market)} lmt {_fmt(s.fill_rate_limit)} | OTR {_fmt(s.order_to_trade)}")
        return 0
    from trading.tca.regulatory.output import ReportInvalid, write_csv, write_jsonl
    if args.cmd == "rts22":
        from trading.tca.regulatory import rts22
        rows22, bad = rts22.transaction_reports(an)
        if bad:
            raise ReportInvalid("RTS 22 transaction reports (LEIs, ISINs, the MIC and decision makers come from "
                                "--reference)", bad)
        if not rows22:
            from trading.tca.errors import NoData
            raise NoData("RTS 22: no executions in the period")
        write_csv(args.out, rows22, rts22.COLUMNS)
        print(f"RTS 22: {len(rows22)} transaction reports, all valid -> {args.out}")
    elif args.cmd == "rule606":
        from trading.tca.regulatory import rule606
        write_csv(args.out, rule606.rule606(an), rule606.COLUMNS, rule606.HEADER)
        print(f"Rule 606 -> {args.out}")
    elif args.cmd == "rts27":
        from trading.tca.regulatory import rts27_28
        write_csv(args.out, rts27_28.rts27(an), rts27_28.RTS27_COLUMNS, (rts27_28.RTS27_STATUS,))
        print(f"RTS 27 -> {args.out} ({rts27_28.RTS27_STATUS})")
    elif args.cmd == "rts28":
        from trading.tca.regulatory import rts27_28
        write_csv(args.out, rts27_28.rts28(an), rts27_28.RTS28_COLUMNS, (rts27_28.RTS28_STATUS,))
        print(f"RTS 28 -> {args.out} ({rts27_28.RTS28_STATUS})")
    elif args.cmd == "audit":
        import os
        from trading.tca.regulatory import audit
        trail = audit.audit_trail(an)
        os.makedirs(args.out, exist_ok=True)
        stem = os.path.join(args.out, "audit-trail")
        write_csv(stem + ".csv", trail.rows, audit.COLUMNS)
        write_jsonl(stem + ".jsonl", trail.rows)
        print(f"audit trail: {len(trail.rows)} rows -> {stem}.csv, {stem}.jsonl "
              f"(host clock: {trail.accuracy.note}, est. error {trail.accuracy.est_error_us} us)")
    return 0


def _monitor(args: argparse.Namespace, ref: Any) -> int:
    from trading.tca.monitor import BestExecutionMonitor, load_bands, zmq_publisher
    from trading.tca.tail import EventTail
    bands = load_bands(args.bands)
    close = None
    publish = None
    if args.publish:
        publish, close, bound = zmq_publisher(args.publish)
        print(f"monitor: alerts on {bound} (topic alert)", flush=True)
    mon = BestExecutionMonitor(ref, bands, publish or (lambda t, b: None))
    tail = EventTail(args.journal)
    try:
        while True:
            batch = tail.poll()
            for alert in mon.feed(batch):
                print(f"ALERT {alert['level']}: {alert['message']}", flush=True)
            if len(batch) == 0:
                if not args.follow:
                    break
                time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        tail.close()
        if close:
            close()
    print(f"monitor: {mon.events} events, {mon.fills} fills, {len(mon.alerts)} alerts")
    for key, vals in mon.snapshot().items():
        print(f"  {key}: " + " ".join(f"{m}={_fmt(v)}" for m, v in vals.items()))
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except TcaInputError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:          # a report that could not be written (disk full, read-only mount)
        print(f"report: {os_error_line(exc)}", file=sys.stderr)
        return 1
