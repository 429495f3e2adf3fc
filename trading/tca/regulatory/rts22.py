"""MiFID II transaction reports (MiFIR Art. 26, Commission Delegated Regulation (EU) 2017/590 =
RTS 22, Annex I Table 2) for every execution in the period, one report per side of each trade
(each member firm's transaction), with the fields that apply to a cash equity executed on this
venue. Field numbers are those of Annex I Table 2; the rules are data (FIELDS below) and every row
is validated against them (LEI and ISIN check digits, MIC, ISO 4217, decimals, and the trading
date-time in UTC at microsecond granularity: RTS 25, Art. 3 and Annex Table 2, for a venue whose
gateway-to-gateway latency is 1 ms or less). A report with any violation is not written.

Sources of each value: trade id, time, price and quantity from the TRADE event; buyer and seller
from its accounts through the reference data (firm LEI, decision maker); the instrument's ISIN
and currency and the venue's MIC and LEI from the reference data. Fields that do not apply to a
cash equity on a venue (derivative, commodity, waiver and indicator fields) are left out of the
layout, not emitted empty.
"""
from __future__ import annotations

from decimal import Decimal


from trading.tca.analysis import Analysis
from trading.tca.regulatory.fieldrules import FieldRule, Violation, validate

FIELDS: tuple[FieldRule, ...] = (
    FieldRule("1", "report_status", True, "enum", "NEWT|CANC"),
    FieldRule("2", "transaction_reference_number", True, "regex", r"[A-Z0-9]{1,52}"),
    FieldRule("3", "trading_venue_transaction_id", True, "regex", r"[A-Za-z0-9]{1,52}"),
    FieldRule("4", "executing_entity_id", True, "lei"),
    FieldRule("5", "investment_firm_covered", True, "enum", "true|false"),
    FieldRule("6", "submitting_entity_id", True, "lei"),
    FieldRule("7", "buyer_id", True, "lei"),
    FieldRule("12", "buyer_decision_maker", False, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("16", "seller_id", True, "lei"),
    FieldRule("21", "seller_decision_maker", False, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("25", "transmission_of_order", True, "enum", "true|false"),
    FieldRule("28", "trading_date_time", True, "ts_us"),
    FieldRule("29", "trading_capacity", True, "enum", "DEAL|MTCH|AOTC"),
    FieldRule("30", "quantity", True, "decimal"),
    FieldRule("33", "price", True, "decimal"),
    FieldRule("34", "price_currency", True, "ccy"),
    FieldRule("36", "venue", True, "mic"),
    FieldRule("41", "instrument_id", True, "isin"),
    FieldRule("57", "investment_decision_within_firm", False, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("59", "execution_within_firm", True, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("62", "short_selling_indicator", False, "enum", "SESH|SSEX|SELL|UNDI"),
    FieldRule("65", "sft_indicator", True, "enum", "true|false"),
)
COLUMNS = tuple(f.name for f in FIELDS)


def _price(p: int, scale: int) -> str:
    return format((Decimal(int(p)) / Decimal(scale)).normalize(), "f") if p else "0"


def transaction_reports(an: Analysis) -> tuple[list[dict[str, str]], list[Violation]]:
    """(rows, violations) for every fill of the analysis' tape; violations == [] means valid."""
    tape, ref = an.tape, an.ref
    f = tape.fills
    rows: list[dict[str, str]] = []
    tid, ts, inst = f["trade_id"].tolist(), f["ts"].tolist(), f["instrument"].tolist()
    acct, cacct, side = f["account"].tolist(), f["counter_account"].tolist(), f["side"].tolist()
    price, qty = f["price"].tolist(), f["qty"].tolist()
    for i in range(len(f)):
        me, other = ref.account(acct[i]), ref.account(cacct[i])
        buyer, seller = (me, other) if side[i] > 0 else (other, me)
        ins = ref.instrument(inst[i])
        rows.append({
            "report_status": "NEWT",
            "transaction_reference_number": f"{ref.venue_mic}{tid[i]}{'B' if side[i] > 0 else 'S'}",
            "trading_venue_transaction_id": str(tid[i]),
            "executing_entity_id": me.lei,
            "investment_firm_covered": "true",
            "submitting_entity_id": ref.venue_lei,
            "buyer_id": buyer.lei,
            "buyer_decision_maker": buyer.decision_maker,
            "seller_id": seller.lei,
            "seller_decision_maker": seller.decision_maker,
            "transmission_of_order": "false",
            "trading_date_time": tape.clock.iso_us(ts[i]),
            "trading_capacity": "DEAL",
            "quantity": str(qty[i]),
            "price": _price(price[i], ref.price_scale),
            "price_currency": ins.currency,
            "venue": ref.venue_mic,
            "instrument_id": ins.isin,
            "investment_decision_within_firm": me.decision_maker,
            "execution_within_firm": me.decision_maker or "NORE",
            "short_selling_indicator": "UNDI" if side[i] < 0 else "",
            "sft_indicator": "false",
        })
    return rows, validate(rows, FIELDS)


def totals(rows: list[dict[str, str]]) -> tuple[int, Decimal]:
    """(quantity, notional) over the rows, for reconciliation with the journal."""
    q = sum(int(r["quantity"]) for r in rows)
    n = sum((Decimal(r["quantity"]) * Decimal(r["price"]) for r in rows), Decimal(0))
    return q, n


__all__ = ["FIELDS", "COLUMNS", "transaction_reports", "totals"]
