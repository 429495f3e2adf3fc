"""MiFID II transaction reports (MiFIR Art. 26, Commission Delegated Regulation (EU) 2017/590 =
RTS 22, Annex I Table 2) for every execution in the period, one report per side of each trade
(each member firm's transaction). All 65 fields of Annex I Table 2 are in the layout, in the
table's order and numbering; the rules are data (FIELDS below) and every row is validated against
them (LEI and ISIN check digits, MIC, ISO 4217, decimals, and the trading date-time in UTC at
microsecond granularity: RTS 25, Art. 3 and Annex Table 2, for a venue whose gateway-to-gateway
latency is 1 ms or less). A report with any violation is not written.

Sources of each value: trade id, time, price and quantity from the TRADE event; buyer and seller
from its accounts through the reference data (firm LEI, decision maker); the instrument's ISIN
and currency and the venue's MIC and LEI from the reference data.

Fields that do not apply to this venue's flow (cash equities identified by ISIN, executed on the
venue by member firms identified by LEI, dealing on own account, algorithms named by code) carry
the rule under which they do not apply (FieldRule.not_applicable) and are left blank: Table 2
prescribes no placeholder value for a field that is not populated, and the validator refuses a
value there. The rules follow the table's field descriptions and ESMA's Guidelines on transaction
reporting (ESMA/2016/1452), which say when each conditional field is populated.
"""
from __future__ import annotations

from decimal import Decimal


from trading.tca.analysis import Analysis
from trading.tca.regulatory.fieldrules import FieldRule, Violation, validate

_LEGAL_ENTITY = "the party is a legal entity identified by its LEI; names and birth date are for natural persons"
_NO_BRANCH = ("the member deals on own account (field 29 DEAL) through its head office: no client "
              "order received through a branch, and the reference data records no branch")
_DECIDER_CODE = "the decision maker is identified by a code (field 12/21), not as a natural person"
_NOT_TRANSMITTED = "field 25 is false: no order was transmitted under Art. 4, so no transmitting firm"
_SHARES = "the instrument is a share: quantity is in units, not a nominal or monetary value"
_DERIVATIVES = "derivatives only; the venue trades cash equities"
_INSTRUMENT_BY_ISIN = ("field 41 holds the ISIN of an instrument traded on this venue: instrument details "
                       "(fields 42-56) are populated only for instruments without one")
_ALGO = "the field before names an algorithm (code), not a natural person"
WAIVER_NA = ("no execution here is under a waiver this field lists (RFPT, NLIQ, OILQ, PRIC, SIZE, ILQD): the "
             "book is lit, and iceberg orders use the order management facility, which has no value here")

FIELDS: tuple[FieldRule, ...] = (
    FieldRule("1", "report_status", True, "enum", "NEWT|CANC"),
    FieldRule("2", "transaction_reference_number", True, "regex", r"[A-Z0-9]{1,52}"),
    FieldRule("3", "trading_venue_transaction_id", True, "regex", r"[A-Za-z0-9]{1,52}"),
    FieldRule("4", "executing_entity_id", True, "lei"),
    FieldRule("5", "investment_firm_covered", True, "enum", "true|false"),
    FieldRule("6", "submitting_entity_id", True, "lei"),
    FieldRule("7", "buyer_id", True, "lei"),
    FieldRule("8", "buyer_branch_country", False, "regex", "[A-Z]{2}", not_applicable=_NO_BRANCH),
    FieldRule("9", "buyer_first_names", False, "regex", ".{1,140}", not_applicable=_LEGAL_ENTITY),
    FieldRule("10", "buyer_surnames", False, "regex", ".{1,140}", not_applicable=_LEGAL_ENTITY),
    FieldRule("11", "buyer_date_of_birth", False, "regex", r"\d{4}-\d{2}-\d{2}", not_applicable=_LEGAL_ENTITY),
    FieldRule("12", "buyer_decision_maker", False, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("13", "buyer_decision_maker_first_names", False, "regex", ".{1,140}", not_applicable=_DECIDER_CODE),
    FieldRule("14", "buyer_decision_maker_surnames", False, "regex", ".{1,140}", not_applicable=_DECIDER_CODE),
    FieldRule("15", "buyer_decision_maker_date_of_birth", False, "regex", r"\d{4}-\d{2}-\d{2}",
              not_applicable=_DECIDER_CODE),
    FieldRule("16", "seller_id", True, "lei"),
    FieldRule("17", "seller_branch_country", False, "regex", "[A-Z]{2}", not_applicable=_NO_BRANCH),
    FieldRule("18", "seller_first_names", False, "regex", ".{1,140}", not_applicable=_LEGAL_ENTITY),
    FieldRule("19", "seller_surnames", False, "regex", ".{1,140}", not_applicable=_LEGAL_ENTITY),
    FieldRule("20", "seller_date_of_birth", False, "regex", r"\d{4}-\d{2}-\d{2}", not_applicable=_LEGAL_ENTITY),
    FieldRule("21", "seller_decision_maker", False, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("22", "seller_decision_maker_first_names", False, "regex", ".{1,140}", not_applicable=_DECIDER_CODE),
    FieldRule("23", "seller_decision_maker_surnames", False, "regex", ".{1,140}", not_applicable=_DECIDER_CODE),
    FieldRule("24", "seller_decision_maker_date_of_birth", False, "regex", r"\d{4}-\d{2}-\d{2}",
              not_applicable=_DECIDER_CODE),
    FieldRule("25", "transmission_of_order", True, "enum", "true|false"),
    FieldRule("26", "transmitting_firm_buyer", False, "lei", not_applicable=_NOT_TRANSMITTED),
    FieldRule("27", "transmitting_firm_seller", False, "lei", not_applicable=_NOT_TRANSMITTED),
    FieldRule("28", "trading_date_time", True, "ts_us"),
    FieldRule("29", "trading_capacity", True, "enum", "DEAL|MTCH|AOTC"),
    FieldRule("30", "quantity", True, "decimal"),
    FieldRule("31", "quantity_currency", False, "ccy", not_applicable=_SHARES),
    FieldRule("32", "derivative_notional_change", False, "enum", "INCR|DECR", not_applicable=_DERIVATIVES),
    FieldRule("33", "price", True, "decimal"),
    FieldRule("34", "price_currency", True, "ccy"),
    FieldRule("35", "net_amount", False, "decimal", not_applicable="debt instruments only (price plus accrued interest)"),
    FieldRule("36", "venue", True, "mic"),
    FieldRule("37", "branch_membership_country", False, "regex", "[A-Z]{2}",
              not_applicable="members trade through their own membership, not a branch's (none in the reference data)"),
    FieldRule("38", "upfront_payment", False, "decimal", not_applicable=_DERIVATIVES + " (swaps)"),
    FieldRule("39", "upfront_payment_currency", False, "ccy", not_applicable=_DERIVATIVES + " (swaps)"),
    FieldRule("40", "complex_trade_component_id", False, "regex", "[A-Za-z0-9]{1,35}",
              not_applicable="the engine executes single-instrument orders: no transaction is part of a complex trade"),
    FieldRule("41", "instrument_id", True, "isin"),
    FieldRule("42", "instrument_full_name", False, "regex", ".{1,350}", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("43", "instrument_classification", False, "regex", "[A-Z]{6}", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("44", "notional_currency_1", False, "ccy", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("45", "notional_currency_2", False, "ccy", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("46", "price_multiplier", False, "decimal", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("47", "underlying_instrument_code", False, "isin", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("48", "underlying_index_name", False, "regex", ".{1,25}", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("49", "underlying_index_term", False, "regex", r"\d{1,3}[DWMY]", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("50", "option_type", False, "enum", "PUTO|CALL|OTHR", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("51", "strike_price", False, "decimal", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("52", "strike_price_currency", False, "ccy", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("53", "option_exercise_style", False, "enum", "EURO|AMER|ASIA|BERM|OTHR",
              not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("54", "maturity_date", False, "regex", r"\d{4}-\d{2}-\d{2}", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("55", "expiry_date", False, "regex", r"\d{4}-\d{2}-\d{2}", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("56", "delivery_type", False, "enum", "PHYS|CASH|OPTL", not_applicable=_INSTRUMENT_BY_ISIN),
    FieldRule("57", "investment_decision_within_firm", False, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("58", "investment_decision_branch_country", False, "regex", "[A-Z]{2}", not_applicable=_ALGO + " (field 57)"),
    FieldRule("59", "execution_within_firm", True, "regex", r"[A-Za-z0-9]{1,50}"),
    FieldRule("60", "execution_supervision_branch_country", False, "regex", "[A-Z]{2}", not_applicable=_ALGO + " (field 59)"),
    FieldRule("61", "waiver_indicator", False, "enum", "RFPT|NLIQ|OILQ|PRIC|SIZE|ILQD", not_applicable=WAIVER_NA),
    FieldRule("62", "short_selling_indicator", False, "enum", "SESH|SSEX|SELL|UNDI"),
    FieldRule("63", "otc_post_trade_indicator", False, "enum",
              "BENC|ACTX|LRGS|ILQD|SIZE|CANC|AMND|SDIV|RPRI|DUPL|TNCP|TPAC|XFPH", not_applicable="OTC transactions only; every transaction here is executed on the venue"),
    FieldRule("64", "commodity_derivative_indicator", False, "enum", "true|false",
              not_applicable="commodity derivatives only"),
    FieldRule("65", "sft_indicator", True, "enum", "true|false"),
)
COLUMNS = tuple(f.name for f in FIELDS)
_BLANK = {f.name: "" for f in FIELDS if f.not_applicable}


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
        } | _BLANK)
    return rows, validate(rows, FIELDS)


def totals(rows: list[dict[str, str]]) -> tuple[int, Decimal]:
    """(quantity, notional) over the rows, for reconciliation with the journal."""
    q = sum(int(r["quantity"]) for r in rows)
    n = sum((Decimal(r["quantity"]) * Decimal(r["price"]) for r in rows), Decimal(0))
    return q, n


__all__ = ["FIELDS", "COLUMNS", "transaction_reports", "totals"]
