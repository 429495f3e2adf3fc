"""How fast is transaction cost analysis of a venue journal? Executions analysed per second, batch
(journal -> every measure per order, parent and dimension) and incremental (the best-execution
monitor fed the event journal batch by batch), and the time to generate the daily report.

The journal is a synthetic day (trading/tca/synthetic.py: makers post inside a deep base book,
takers hit them, a tenth of the makers cancel instead) written through the real engine
(journal_build: command journal, then jrnl_replay writes the events). One execution = one TRADE
event (two fill rows: buyer and seller). Target (issue #23): a day of 1 M executions analysed in
under 10 s. Baseline measured in the same run: reading both journals' records (CRC-checked) into
numpy, which every analysis must do first.

CPU figures are the analysing thread's CPU time (time.thread_time: user + system), which on a
shared machine is the fairer figure beside the wall time; the load average is printed with them.

    python bench/tca.py [--quick] [--trades N]
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gateway.cli_numbers import positive_int  # noqa: E402
from gateway.cli_paths import output_dir  # noqa: E402
from gateway.enginehost import journal  # noqa: E402
from trading.tca.analysis import analyze  # noqa: E402
from trading.tca.journal_build import write_journal  # noqa: E402
from trading.tca.monitor import Band, BestExecutionMonitor  # noqa: E402
from trading.tca.quality import execution_quality  # noqa: E402
from trading.tca.reference import Reference  # noqa: E402
from trading.tca.report.build import build_report  # noqa: E402
from trading.tca.synthetic import synthetic_day  # noqa: E402
from trading.tca.tail import EventTail  # noqa: E402
from trading.tca.tape import load_tape  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

CANCEL_PROB = 0.1


def _foreign(jdir: str) -> bool:
    """A non-empty folder without a command journal segment: not a journal this bench wrote."""
    return os.path.isdir(jdir) and bool(os.listdir(jdir)) and not glob.glob(os.path.join(jdir, "cmd-*.jrnl"))


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100 k executions (within a minute)")
    ap.add_argument("--trades", type=positive_int, help="executions to generate (default 1 M, --quick 100 k)")
    ap.add_argument("--keep", type=lambda t: str(output_dir(t)), help="write the journal here and keep it")
    args = ap.parse_args()
    target = args.trades or (100_000 if args.quick else 1_000_000)
    if args.keep and _foreign(os.path.join(args.keep, "journal")):
        ap.error(f"--keep {args.keep}: its 'journal' folder holds files that are not a journal's; "
                 "the bench replaces that folder, so give another directory")
    load_before = os.getloadavg()[0]
    steps = int(target / (1 - CANCEL_PROB))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    work = args.keep or tempfile.mkdtemp(prefix="bench-tca-")
    jdir = os.path.join(work, "journal")
    shutil.rmtree(jdir, ignore_errors=True)
    try:
        t = time.perf_counter()
        day = synthetic_day(steps, cancel_prob=CANCEL_PROB, seed=7)
        res = write_journal(jdir, day.commands, limits=(1 << 20, 4096, 16, 16), segment_bytes=1 << 28)
        write_s = time.perf_counter() - t

        t = time.perf_counter()
        journal.read_records(jdir, journal.KIND_CMD)
        journal.read_records(jdir, journal.KIND_EVT)
        read_s = time.perf_counter() - t

        ref = Reference(venue_name="BENCH", venue_mic="XBEN")
        t = time.perf_counter()
        c = time.thread_time()
        tape = load_tape(jdir)
        load_s = time.perf_counter() - t
        an = analyze(tape, ref)
        for dim in ("strategy", "account", "instrument", "venue"):
            an.summary(dim)
        execution_quality(an)
        batch_s = time.perf_counter() - t
        batch_cpu = time.thread_time() - c
        assert tape.trades == day.trades and int(tape.fills["qty"][0::2].sum()) == day.shares, "reconciliation"

        mon = BestExecutionMonitor(ref, [Band("slippage_arrival_bps", "strategy", high=50.0, min_shares=1000)])
        tail = EventTail(jdir, batch=1 << 15)
        t = time.perf_counter()
        c = time.thread_time()
        while True:
            b = tail.poll()
            if len(b) == 0:
                break
            mon.feed(b)
        incr_s = time.perf_counter() - t
        incr_cpu = time.thread_time() - c
        tail.close()
        assert mon.fills == 2 * day.trades

        out = os.path.join(work, "report")
        d = tape.clock.utc(tape.first_ts).date()
        files = build_report(tape, ref, "daily", date(d.year, d.month, d.day), out)
        report_s = files.seconds
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    n = day.trades
    rows = [("journal written (engine replay)", f"{write_s:.2f} s", f"{res.commands:,} commands, {res.events:,} events"),
            ("baseline: read both journals", f"{read_s:.2f} s", f"{n / read_s / 1e6:.2f} M executions/s"),
            ("batch: load tape", f"{load_s:.2f} s", "orders, fills, BBO, lifecycle"),
            ("batch: load + analyse + 4 dimensions + quality", f"{batch_s:.2f} s",
             f"{n / batch_s / 1e3:,.0f} k executions/s wall; {batch_cpu:.2f} thread-CPU s = {n / batch_cpu / 1e3:,.0f} k/CPU-s"),
            ("incremental: monitor over the event log", f"{incr_s:.2f} s",
             f"{n / incr_s / 1e3:,.0f} k executions/s wall; {incr_cpu:.2f} thread-CPU s = {n / incr_cpu / 1e3:,.0f} k/CPU-s"),
            ("daily report (HTML + PDF + JSON)", f"{report_s:.2f} s", "")]
    print(f"TCA of a synthetic day: {n:,} executions ({2 * n:,} fills), {len(tape.orders):,} orders; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (shared machine)")
    for a, b, c in rows:
        print(f"  {a:<50} {b:>9}  {c}")
    per_m_cpu, per_m_wall = batch_cpu * 1_000_000 / n, batch_s * 1_000_000 / n
    incr_m_cpu = incr_cpu * 1_000_000 / n
    print(f"  target: 1 M executions in < 10 s -> thread CPU per 1 M: batch {per_m_cpu:.1f} s, incremental "
          f"{incr_m_cpu:.1f} s: {'met' if max(per_m_cpu, incr_m_cpu) < 10 else 'not met'}; wall per 1 M: batch "
          f"{per_m_wall:.1f} s: {'met' if per_m_wall < 10 else 'not met'} at load average {load_before:.1f} "
          f"(extrapolated linearly where fewer were run; on a shared machine the wall time counts the other "
          f"work's share of the CPUs, the thread CPU time does not)")
    print(json.dumps({
        "bench": "tca",
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                    "quick": args.quick, "loadavg_1m_before": load_before, "loadavg_1m_after": os.getloadavg()[0]},
        "metrics": {"executions": n, "fills": 2 * n, "orders": int(len(tape.orders)), "events": int(res.events),
                    "batch_s": batch_s, "batch_cpu_s": batch_cpu, "batch_executions_per_s": n / batch_s,
                    "batch_executions_per_cpu_s": n / batch_cpu, "incremental_cpu_s": incr_cpu,
                    "incremental_executions_per_cpu_s": n / incr_cpu, "load_s": load_s,
                    "incremental_s": incr_s, "incremental_executions_per_s": n / incr_s,
                    "report_s": report_s, "extrapolated_1m_batch_s": per_m_wall,
                    "extrapolated_1m_batch_cpu_s": per_m_cpu, "extrapolated_1m_incremental_cpu_s": incr_m_cpu},
        "baselines": {"read_records_s": read_s, "read_executions_per_s": n / read_s, "write_journal_s": write_s},
        "ratios": {"batch_over_read": batch_s / read_s, "incremental_over_batch": incr_s / batch_s},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
