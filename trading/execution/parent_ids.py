"""How an execution algorithm's child orders name their parent: the high 32 bits of the child's
client_order_id hold the parent's id, the low 32 bits the child's number within that parent.

The engine carries client_order_id unchanged into its ACCEPTED event and the journal, so transaction
cost analysis (trading/tca/tape.py reads ``client_order_id >> PARENT_ID_SHIFT``) groups every child
of a parent into one parent row with the parent's implementation-shortfall decomposition, live and
in a replay of the journal. An order whose high bits are 0 is its own parent. Every algorithm
stamps its children through ``child_client_order_id``; parent ids are the desk's parent numbers
(trading/execution/desk.py), 1 for a parent run on its own."""
from __future__ import annotations

PARENT_ID_SHIFT = 32
MAX_PARENT_ID = (1 << 32) - 1
MAX_CHILD_NUMBER = (1 << 32) - 1


def child_client_order_id(parent_id: int, child_number: int) -> int:
    """The client_order_id of child `child_number` (1, 2, ...) of parent `parent_id`. ValueError
    for a parent id outside 1..2^32-1 or a child number outside 1..2^32-1."""
    if not 0 < parent_id <= MAX_PARENT_ID:
        raise ValueError(f"parent id must be in 1..{MAX_PARENT_ID}, got {parent_id}")
    if not 0 < child_number <= MAX_CHILD_NUMBER:
        raise ValueError(f"child number must be in 1..{MAX_CHILD_NUMBER}, got {child_number}")
    return parent_id << PARENT_ID_SHIFT | child_number


def parent_of(client_order_id: int) -> int:
    """The parent id a client_order_id names (0: the order is its own parent)."""
    return client_order_id >> PARENT_ID_SHIFT
