"""How an execution algorithm's child orders name their parent: the high 32 bits of the child's
client_order_id hold the parent's id, the low 32 bits the child's number within that parent.

The engine carries client_order_id unchanged into its ACCEPTED event and the journal, so transaction
cost analysis (trading/tca/tape.py reads ``client_order_id >> PARENT_ID_SHIFT``) groups every child
of a parent into one parent row with the parent's implementation-shortfall decomposition, live and
in a replay of the journal. An order whose high bits are 0 is its own parent. Every algorithm
stamps its children through ``child_client_order_id``; parent ids are the desk's parent numbers
(trading/execution/desk.py), 1 for a parent run on its own.

Child numbers: each launch of a parent (the desk's ``id_block``, one per launch) numbers its
children in a block of 2^24 of its own (``child_number``), so a parent relaunched after a restart
does not repeat the client order ids of its earlier launches (256 blocks fit in the 32 bits; the
257th launch of one parent starts the blocks again)."""
from __future__ import annotations

PARENT_ID_SHIFT = 32
MAX_PARENT_ID = (1 << 32) - 1
MAX_CHILD_NUMBER = (1 << 32) - 1
CHILD_BLOCK_SHIFT = 24          # a launch's children: one block of 2^24 numbers


def child_client_order_id(parent_id: int, child_number: int) -> int:
    """The client_order_id of child `child_number` (1, 2, ...) of parent `parent_id`. ValueError
    for a parent id outside 1..2^32-1 or a child number outside 1..2^32-1."""
    if not 0 < parent_id <= MAX_PARENT_ID:
        raise ValueError(f"parent id must be in 1..{MAX_PARENT_ID}, got {parent_id}")
    if not 0 < child_number <= MAX_CHILD_NUMBER:
        raise ValueError(f"child number must be in 1..{MAX_CHILD_NUMBER}, got {child_number}")
    return parent_id << PARENT_ID_SHIFT | child_number


def child_number(id_block: int, k: int) -> int:
    """The number of the k-th child (k = 1, 2, ...) of the launch with this id_block (0 for a
    parent run without the desk): block (id_block mod 256) of 2^24 numbers, never 0."""
    if id_block < 0 or k < 1:
        raise ValueError(f"id_block must be >= 0 and k >= 1, got {id_block}, {k}")
    return (id_block % 256) << CHILD_BLOCK_SHIFT | ((k - 1) % ((1 << CHILD_BLOCK_SHIFT) - 1) + 1)


def parent_of(client_order_id: int) -> int:
    """The parent id a client_order_id names (0: the order is its own parent)."""
    return client_order_id >> PARENT_ID_SHIFT
