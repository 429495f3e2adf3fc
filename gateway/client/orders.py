"""OrderRequest: what a NewOrderSingle asks for, with the venue's defaults, and its encoding.

Shared by the blocking and the asyncio client so both build identical frames."""
from __future__ import annotations

import msgspec

from gateway.orderentry.sbe_codec import (NewOrderSingle, OrderFlags, OrdType, SelfTradePrevention, Side,
                               TimeInForce)


class OrderRequest(msgspec.Struct, frozen=True):
    instrument_id: int
    side: Side
    order_qty: int
    account_id: int
    price: int | None = None               # LIMIT and STOP_LIMIT
    ord_type: OrdType = OrdType.LIMIT
    time_in_force: TimeInForce = TimeInForce.DAY
    stop_px: int | None = None             # STOP and STOP_LIMIT
    display_qty: int | None = None         # with OrderFlags.ICEBERG
    expire_time_ns: int | None = None      # with GOOD_TILL_DATE
    stp_group: int = 0
    stp_mode: SelfTradePrevention = SelfTradePrevention.NONE
    flags: OrderFlags = OrderFlags(0)

    def message(self, seq_num: int, sending_time_ns: int, cl_ord_id: int) -> NewOrderSingle:
        return NewOrderSingle(seq_num=seq_num, sending_time_ns=sending_time_ns, cl_ord_id=cl_ord_id,
                              price=self.price, stop_px=self.stop_px, order_qty=self.order_qty,
                              display_qty=self.display_qty, expire_time_ns=self.expire_time_ns,
                              instrument_id=self.instrument_id, account_id=self.account_id,
                              stp_group=self.stp_group, side=self.side, ord_type=self.ord_type,
                              time_in_force=self.time_in_force, stp_mode=self.stp_mode,
                              flags=self.flags)
