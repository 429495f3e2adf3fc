"""The dashboard's reader thread: everything the panels show comes in here and goes out as whole
panel states through the Conflator (conflate.py).

Sources, all read-only, none on the order path:
- the engine's broadcast event log (shared memory; a reader never slows the writer, and a reader
  that falls a lap behind loses events, not the engine's time): books, tape, auctions, phases,
  halts (books.py) and live execution quality (trading/tca/monitor.py on the same records);
- the control plane's publish channel (ZeroMQ SUB): status, alerts, metrics, audit;
- the control plane's API, read commands only (api_reads.py, in a thread of its own so that a slow
  answer never holds up the event log);
- the latency regions and the rings' control blocks (latency.py, health.py), and the market-data
  publisher's stats file (market_data.py), once a second;
- the TCA reports directory's listing (reports.py), once a second, put only when it changed.

Only event types that change a panel are decoded (the rest are skipped by type code in numpy), so
a burst costs the decoding of trades and book levels, not of every acknowledgement.
"""
from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import zmq

from gateway.control import protocol
from gateway.control.config import VenueConfig
from gateway.dashboard.api_reads import ApiReads, Reader
from gateway.dashboard.books import BooksAndTrades, InstrumentInfo
from gateway.dashboard.conflate import Conflator
from gateway.dashboard.health import ProcessTable, RingGauges
from gateway.dashboard.latency import LatencyPanel
from gateway.dashboard.market_data import market_data_health, stats_path
from gateway.dashboard.reports import ReportsDir
from native import records
from shm import errors as shm_errors
from shm.client import EventStream

log = logging.getLogger("gateway.dashboard")

PANEL_TYPES = frozenset(int(records.EvtType[n]) for n in ("TRADE", "BOOK_LEVEL", "PHASE", "AUCTION"))
_EVT_HDR = records.dtype_of("eng_evt_hdr_t")
_BOOK_LEVEL = records.dtype_of("eng_evt_book_level_t")
BOOK_LEVEL = int(records.EvtType.BOOK_LEVEL)
SLOW_PERIOD_S = 1.0           # latency, health, API reads
BOOKS_PERIOD_S = 0.05         # books and tape states are rebuilt at most this often
ALERTS_KEPT = 200
AUDIT_KEPT = 50


class Feeds:
    def __init__(self, cfg: VenueConfig, hub: Conflator, endpoints_file: str | None,
                 processes_file: str | None, reader: Callable[[], Reader | None],
                 clients: Callable[[], int], reports: ReportsDir | None = None) -> None:
        self.cfg = cfg
        self.reports = reports or ReportsDir("")
        self._reports_listed: dict[str, Any] | None = None
        self.hub = hub
        self.endpoints_file = Path(endpoints_file) if endpoints_file else None
        self.reader = reader
        self.clients = clients
        shm_dir = cfg.venue.shm_dir or None
        self.books = BooksAndTrades([InstrumentInfo(i.id, i.symbol, i.tick) for i in cfg.instruments])
        self.latency = LatencyPanel(cfg.venue.name, shm_dir)
        self.processes = ProcessTable(processes_file)
        self.md_stats = stats_path(processes_file)
        self.rings = RingGauges(cfg.venue.name, shm_dir)
        self.tca = _tca_monitor(cfg)
        self.api = ApiReads(cfg, hub, endpoints_file, reader, clients)
        self.events: EventStream | None = None
        self.engine_pid = 0
        self.lapped = 0
        self.events_read = 0
        self.alerts: collections.deque[dict[str, Any]] = collections.deque(maxlen=ALERTS_KEPT)
        self.audit: collections.deque[dict[str, Any]] = collections.deque(maxlen=AUDIT_KEPT)
        self.status: dict[str, Any] = {}
        self.analytics: dict[str, dict[str, Any]] = {}   # the live order-flow monitor's, by symbol
        self.metrics: dict[str, Any] = {}
        self._sub: zmq.Socket | None = None  # type: ignore[type-arg]
        self._endpoints: dict[str, str] = {}
        self._endpoints_mtime = -1
        self._books_dirty = False
        self._books_at = 0.0
        self._slow_at = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dashboard-feeds", daemon=True)

    # ---- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        self.thread.start()
        self.api.start()

    def close(self) -> None:
        self.stop.set()
        self.api.close()
        if self.thread.is_alive():
            self.thread.join(5)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except Exception:        # the panels stop moving; the page says the feed is down
            log.exception("dashboard feed failed")
            self.hub.put("feed", {"ok": False, "error": "the dashboard's feed thread failed; see its log"})
            raise
        finally:
            self._close_sources()

    def step(self) -> None:
        """One pass: events, the publish channel, then the periodic reads. Waits on the publish
        socket (at most 20 ms) when there were no events, so an idle venue costs little."""
        n = self._pump_events()
        self._pump_published(0 if n else 20)
        self._drain_handoff()
        now = time.monotonic()
        if self._books_dirty and now - self._books_at >= BOOKS_PERIOD_S:
            self._books_at = now
            self._books_dirty = False
            self._put_books()
        if now - self._slow_at >= SLOW_PERIOD_S:
            self._slow_at = now
            self._slow()

    # ---- the event log --------------------------------------------------------------------------

    def _attach_events(self) -> bool:
        try:
            self.events = EventStream(self.cfg.venue.name, self.cfg.venue.shm_dir or None)
        except (shm_errors.ShmError, OSError):
            self.events = None
            return False
        rx = self.events.reader.rx
        if rx.cursor <= rx.capacity:
            rx.cursor = 0            # nothing overwritten yet: the whole day so far
        else:
            self.api.resync.set()    # the start of the log is gone: books from the control plane
        self.engine_pid = int(self.events.segment.handle.hdr.creator_pid)
        return True

    def _pump_events(self) -> int:
        if self.events is None and not self._attach_events():
            return 0
        assert self.events is not None
        try:
            payloads, lapped = self.events.poll(1 << 13)
        except shm_errors.ShmError:
            self._detach_events()
            return 0
        if lapped:
            self.lapped += 1
            self.api.resync.set()
        n = len(payloads)
        if n == 0:
            return 0
        self.events_read += n
        if self.tca is not None:
            self.tca.feed(payloads)
        for ev in records.decode_events(payloads[panel_rows(payloads)]):
            self.books.apply(ev)
        self._books_dirty = True
        return n

    def _detach_events(self) -> None:
        if self.events is not None:
            try:
                self.events.close()
            except shm_errors.ShmError:
                pass
            self.events = None

    def _put_books(self) -> None:
        pending = {i["symbol"]: i["pending"] for i in self.status.get("instruments", []) if i.get("pending")}
        panel = self.books.books_panel(pending)
        panel["lapped"] = self.lapped
        # Engine times are CLOCK_MONOTONIC (system-wide on this host): the page shows wall time.
        offset = time.time_ns() - time.monotonic_ns()
        self.hub.put("books", {**panel, "wall_offset_ns": offset})
        self.hub.put("tape", {**self.books.tape_panel(), "wall_offset_ns": offset})

    # ---- the control plane ------------------------------------------------------------------------

    def _read_endpoints(self) -> dict[str, str]:
        """The control plane's endpoints (its endpoints file, rewritten when it restarts)."""
        if self.endpoints_file is None:
            return {"command": self.cfg.control.command_endpoint, "publish": self.cfg.control.publish_endpoint}
        try:
            mtime = self.endpoints_file.stat().st_mtime_ns
            if mtime != self._endpoints_mtime:
                self._endpoints = json.loads(self.endpoints_file.read_text())
                self._endpoints_mtime = mtime
                self._close_sources(events=False)     # a restarted control plane: subscribe again
        except (OSError, ValueError):
            pass
        return self._endpoints

    def _subscriber(self) -> zmq.Socket | None:  # type: ignore[type-arg]
        if self._sub is None:
            ep = self._read_endpoints().get("publish")
            if not ep:
                return None
            sock = zmq.Context.instance().socket(zmq.SUB)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVHWM, 10000)
            for topic in protocol.TOPICS:
                sock.setsockopt(zmq.SUBSCRIBE, topic)
            sock.connect(ep)
            self._sub = sock
        return self._sub

    def _pump_published(self, wait_ms: int) -> None:
        sock = self._subscriber()
        if sock is None:
            self.stop.wait(wait_ms / 1000)
            return
        if not sock.poll(wait_ms):
            return
        for _ in range(1000):
            try:
                topic, body = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            except ValueError:
                continue                 # not two frames: not the control plane's
            try:
                msg = protocol.decode_published(body)
            except Exception:            # msgspec.DecodeError: a foreign publisher; skip it
                continue
            if isinstance(msg, dict):
                self._on_published(topic, msg)

    def _on_published(self, topic: bytes, msg: dict[str, Any]) -> None:
        if topic == protocol.TOPIC_STATUS and msg.get("kind") == "status":
            self.status = msg
            self.hub.put("venue", {"status": msg, "metrics": self.metrics})
        elif topic == protocol.TOPIC_STATUS and msg.get("kind") == "phase":
            self._books_dirty = True
        elif topic == protocol.TOPIC_STATUS and msg.get("kind") == "alert_ack":
            for a in self.alerts:
                if a.get("id") == msg.get("id"):
                    a["acked_by"], a["acked_ts_ns"] = msg.get("acked_by"), msg.get("acked_ts_ns")
            self.hub.put("alerts", {"alerts": list(self.alerts)[::-1]})
        elif topic == protocol.TOPIC_METRICS:
            self.metrics = msg
            self.hub.put("venue", {"status": self.status, "metrics": msg})
        elif topic == protocol.TOPIC_ALERT:
            self.alerts.append(msg)
            self.hub.put("alerts", {"alerts": list(self.alerts)[::-1]})
        elif topic == protocol.TOPIC_ANALYTICS and msg.get("symbol"):
            self.analytics[str(msg["symbol"])] = msg
            self.hub.put("analytics", {"instruments": [self.analytics[k] for k in sorted(self.analytics)]})
        elif topic == protocol.TOPIC_AUDIT:
            self.audit.append(msg)
            self.hub.put("audit", {"records": list(self.audit)[::-1]})

    # ---- once a second ----------------------------------------------------------------------------

    def _slow(self) -> None:
        self._read_endpoints()              # a restarted control plane: its new publish endpoint
        health = {"processes": self.processes.rows(), "rings": self.rings.read(),
                  "events": {"read": self.events_read, "lapped": self.lapped,
                             "backlog_bytes": self.events.reader.backlog_bytes() if self.events else None,
                             "capacity_bytes": self.events.segment.capacity if self.events else None},
                  "sessions": self.api.sessions, "market_data": market_data_health(self.md_stats)}
        rings = health["rings"]
        if rings.get("available") and rings.get("engine_pid") != self.engine_pid and self.events is not None:
            self._detach_events()           # the engine restarted: its new log, books from the API
            self.api.resync.set()
        if self.clients() > 0:
            self.hub.put("latency", self.latency.update())
        if self.tca is not None:
            self.hub.put("tca", {"measures": _finite(self.tca.snapshot()), "fills": self.tca.fills,
                                 "events": self.tca.events, "alerts": self.tca.alerts[-20:][::-1]})
        self.hub.put("health", health)
        listing = self.reports.listing()
        if listing != self._reports_listed:
            self._reports_listed = listing
            self.hub.put("reports", listing)

    def _drain_handoff(self) -> None:
        """What the API thread read for this thread's state: books after a lap, past alerts."""
        while True:
            try:
                what, data = self.api.handoff.get_nowait()
            except queue.Empty:
                return
            if what == "book":
                ins, book = data
                self.books.replace_book(ins, book["bids"], book["asks"])
                self._books_dirty = True
            elif what == "alerts":
                seen = {a.get("id") for a in self.alerts}
                for a in data:
                    if a.get("id") not in seen:
                        self.alerts.append(a)
                self.alerts = collections.deque(sorted(self.alerts, key=lambda a: a.get("ts_ns", 0)),
                                                maxlen=ALERTS_KEPT)
                self.hub.put("alerts", {"alerts": list(self.alerts)[::-1]})

    def _close_sources(self, events: bool = True) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if events:
            self._detach_events()
            self.rings.close()


def panel_rows(payloads: np.ndarray) -> np.ndarray:
    """Indexes, in log order, of the events a panel needs: every trade, phase and auction, and of
    the book-level events only the last one per (instrument, side, price) in this batch (a level's
    event carries its whole new state, so the earlier ones change nothing the ladder shows). In a
    burst this leaves a few dozen levels of thousands of events to decode."""
    recs = np.ascontiguousarray(payloads).view(records.RECORD_DTYPE).reshape(-1)
    types = recs.view(_EVT_HDR)["type"]
    keep = np.isin(types, list(PANEL_TYPES - {BOOK_LEVEL}))
    levels = np.nonzero(types == BOOK_LEVEL)[0]
    if len(levels):
        lv = recs[levels].view(_BOOK_LEVEL)
        keys = np.stack([lv["instrument_id"].astype(np.int64), lv["side"].astype(np.int64),
                         lv["price"].astype(np.int64)], axis=1)
        _, last_from_end = np.unique(keys[::-1], axis=0, return_index=True)
        keep[levels[len(levels) - 1 - last_from_end]] = True
    return np.nonzero(keep)[0]


def _finite(measures: dict[str, dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """NaN (no sample yet) -> None: JSON has no NaN."""
    return {k: {m: (v if v == v and abs(v) != float("inf") else None) for m, v in row.items()}
            for k, row in measures.items()}


def _tca_monitor(cfg: VenueConfig) -> Any:
    """trading/tca's live best-execution monitor on the venue's reference data (symbols, firms as
    strategies); None when the trading side is not installed."""
    try:
        from trading.tca.monitor import BestExecutionMonitor
        from trading.tca.reference import AccountRef, InstrumentRef, Reference
    except ImportError:
        return None
    firm_of = {a: f.name for f in cfg.firms for a in f.accounts}
    ref = Reference(cfg.venue.name, price_scale=cfg.venue.price_scale,
                    instruments={i.id: InstrumentRef(i.id, i.symbol) for i in cfg.instruments},
                    accounts={a: AccountRef(a, firm=n, strategy=n) for a, n in firm_of.items()})
    return BestExecutionMonitor(ref, [])
