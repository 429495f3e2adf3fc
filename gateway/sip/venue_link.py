"""The consolidator's sequenced input into each venue's engine. A lit venue gets its Rule 611 mode
and its Rule 612 grid (ENG_CMD_SET_ORDER_PROTECTION, once per instrument when the link opens: at
or above $1.00 a price must be a multiple of the increment of the instrument's tick class in the
rule version in force, else the engine refuses it with 601, sub-penny) and, whenever it changes,
the best protected bid and offer of the OTHER venues as the instrument's NBBO (ENG_CMD_NBBO). A
dark venue gets the NBBO of all the lit venues, its midpoint reference, whenever it changes and
again each half of its nbbo_max_age (the quote is current while the feeds are: a quiet market must
not go stale in the dark venue).

Both go through an ordinary producer slot (shm.client.EngineClient), so the engine sequences and
journals them like any command: its order protection (native/matching/eng_protect.c) is decided by
its input alone and replays exactly. quote_ts_ns is CLOCK_MONOTONIC when the away quote was built,
the clock the engine's sequencer stamps with, so it is never later than the command's own stamp.
A venue whose engine is gone (restarting) is skipped with a warning and re-attached on a later
update; until then it keeps the last away quote it was sent.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from gateway.regnms.rules import ONE_DOLLAR
from gateway.sip.consolidator import Consolidator
from native.messages import Nbbo, ProtectMode, RejectedEvent, SetOrderProtection
from shm import errors as shm_errors
from shm.client import EngineClient

log = logging.getLogger("gateway.sip")

MODES = {"off": ProtectMode.OFF, "reject": ProtectMode.REJECT, "route_away": ProtectMode.ROUTE_AWAY}
RETRY_S = 1.0


@dataclass
class VenueLink:
    venue: str
    engine: str
    instrument_ids: list[int]
    mode: int | None                  # None: a dark venue (no protection mode, the full NBBO)
    refresh_ns: int = 0               # dark: re-send an unchanged NBBO after this long
    grids: dict[int, int] = field(default_factory=dict)   # lit: instrument -> Rule 612 increment at >= $1.00
    client: EngineClient | None = None
    sent: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    sent_at: dict[int, int] = field(default_factory=dict)
    next_try: float = 0.0
    commands: int = 0
    refused: int = 0

    def attach(self) -> EngineClient | None:
        """The engine's producer client, attached (and the mode sent) if not yet; None while it is gone."""
        if self.client is not None or time.monotonic() < self.next_try:
            return self.client
        try:
            client = EngineClient(self.engine)
            for inst in self.instrument_ids:
                if self.mode is not None:
                    inc = self.grids.get(inst, 0)
                    self._check(client.submit(SetOrderProtection(
                        instrument_id=inst, mode=self.mode, sub_penny_from=ONE_DOLLAR if inc else 0,
                        sub_penny_increment=inc)).first_event)
        except (shm_errors.ShmError, OSError) as exc:
            log.warning("sip: venue %s engine %s: %s; trying again in %.0f s", self.venue, self.engine, exc, RETRY_S)
            self.next_try = time.monotonic() + RETRY_S
            return None
        self.client = client
        self.sent.clear()
        return client

    def _check(self, first_event: object) -> None:
        self.commands += 1
        if isinstance(first_event, RejectedEvent):
            self.refused += 1
            log.error("sip: venue %s refused a command: reason %d", self.venue, first_event.reason)

    def send_away(self, consolidator: Consolidator, inst: int) -> bool:
        """Sends the venue its quote in `inst` (lit: the other venues' best; dark: the NBBO) if it
        changed, or a dark venue's again when refresh_ns passed; True if a command went out."""
        if inst not in self.instrument_ids:
            return False
        away = consolidator.nbbo(inst) if self.mode is None else consolidator.best_excluding(inst, self.venue)
        quote = (away.bid or 0, away.ask or 0, away.bid_size, away.ask_size)
        due = self.mode is None and time.monotonic_ns() - self.sent_at.get(inst, 0) >= self.refresh_ns
        if self.sent.get(inst) == quote and not due:
            return False
        client = self.attach()
        if client is None:
            return False
        cmd = Nbbo(instrument_id=inst, bid_price=quote[0], ask_price=quote[1], bid_qty=quote[2],
                   ask_qty=quote[3], quote_ts_ns=time.monotonic_ns())
        try:
            self._check(client.submit(cmd).first_event)
        except (shm_errors.ShmError, OSError) as exc:
            log.warning("sip: venue %s: %s; re-attaching", self.venue, exc)
            self.close()
            self.next_try = time.monotonic() + RETRY_S
            return False
        self.sent[inst] = quote
        self.sent_at[inst] = cmd.quote_ts_ns
        return True

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except (shm_errors.ShmError, OSError):
                pass
            self.client = None
