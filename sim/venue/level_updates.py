"""MDP3-style level updates: how the colo feed describes a change to a bounded-depth book.

The feed publishes the best `FEED_DEPTH` (10) levels of each side. After each book event the
venue compares the side's previous published levels with its new ones and emits updates that,
applied in order with `apply_update`, turn the one into the other exactly:

- NEW at k: insert at k; levels k.. shift down one; anything past the last level falls off;
- CHANGE at k: level k keeps its price and takes the new quantity and order count;
- DELETE at k: remove k; levels below shift up one; the bottom stays empty until a NEW
  refills it.

Levels are 0-based, 0 being the best. The order is: DELETEs (bottom first) of prices that
left the book, NEWs (top first) of prices that joined, then CHANGEs. A level pushed below the
published depth by a NEW is not deleted: it falls off, as in MDP3.
"""

from __future__ import annotations

from host.wire import BookAction

FEED_DEPTH = 10

NEW, CHANGE, DELETE = int(BookAction.NEW), int(BookAction.CHANGE), int(BookAction.DELETE)

Level = tuple[int, int, int]  # price (ticks), qty (lots), order count
Update = tuple[int, int, int, int, int]  # action, level, price, qty, order count


class LevelUpdateError(ValueError):
    """An update that cannot apply to the book it is given (the receiver is out of sync)."""

    reason = "bad_level"


def diff_side(old: list[Level], new: list[Level], is_bid: bool,
              depth: int = FEED_DEPTH) -> list[Update]:
    """Updates turning `old` into `new`, both best first and at most `depth` long."""
    if old == new:
        return []
    out: list[Update] = []
    new_prices = {level[0] for level in new}
    cur = list(old)
    floor = new[-1][0] if len(new) == depth else None
    for index in range(len(cur) - 1, -1, -1):
        price = cur[index][0]
        if price in new_prices:
            continue
        if floor is not None and (price < floor if is_bid else price > floor):
            continue  # pushed below the published depth: the NEWs make it fall off
        out.append((DELETE, index, price, 0, 0))
        del cur[index]
    for index, level in enumerate(new):
        if index >= len(cur) or cur[index][0] != level[0]:
            out.append((NEW, index, level[0], level[1], level[2]))
            cur.insert(index, level)
            del cur[depth:]
    for index, level in enumerate(new):
        if cur[index] != level:
            out.append((CHANGE, index, level[0], level[1], level[2]))
    return out


def apply_update(levels: list[Level], action: int, index: int, price: int, qty: int,
                 count: int, depth: int = FEED_DEPTH) -> None:
    """The receiver's side of the contract: apply one update to a side's levels in place."""
    if action == NEW:
        if not 0 <= index <= min(len(levels), depth - 1):
            raise LevelUpdateError(f"NEW at level {index} of a {len(levels)}-level side")
        levels.insert(index, (price, qty, count))
        del levels[depth:]
    elif action == CHANGE:
        if not 0 <= index < len(levels):
            raise LevelUpdateError(f"CHANGE at level {index} of a {len(levels)}-level side")
        levels[index] = (levels[index][0], qty, count)
    elif action == DELETE:
        if not 0 <= index < len(levels):
            raise LevelUpdateError(f"DELETE at level {index} of a {len(levels)}-level side")
        del levels[index]
    else:
        raise LevelUpdateError(f"unknown action {action}")
