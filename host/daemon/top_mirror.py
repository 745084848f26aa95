"""The gateware's top of book against the software path's, market by market. Sans-I/O.

Both read the same colo feed, but not at the same moment: the gateware's top is read over a
slow serial link, and may be a few messages behind or ahead of the software path. So a
gateware top agrees when it equals one of the last `history` tops the software path had for
that market (or its current one); `behind` says how many changes back it matched. A top the
software path never had, or one older than its history, is a disagreement: the two books
have diverged, or the gateware has stopped applying the feed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from host.model.events import BookTop


@dataclass(frozen=True)
class MirrorCheck:
    market: int
    agrees: bool
    behind: int               # changes back the gateware's top matched; -1: no match
    gateware: BookTop
    software: BookTop         # the software path's current top


def empty_top(market: int) -> BookTop:
    return BookTop(market, 0, 0, 0, 0, 0, 0)


class TopMirror:
    def __init__(self, markets: Iterable[int], history: int = 512):
        self.markets = tuple(sorted(set(markets)))
        self._history = {m: deque([empty_top(m)], maxlen=history) for m in self.markets}
        self._turn = 0
        self.compared = self.agreed = self.disagreed = 0

    def record(self, top: BookTop) -> None:
        tops = self._history.get(top.market)
        if tops is not None and tops[-1] != top:
            tops.append(top)

    def next_market(self) -> int | None:
        """The markets in turn, one per mirror read."""
        if not self.markets:
            return None
        market = self.markets[self._turn % len(self.markets)]
        self._turn += 1
        return market

    def match(self, gateware: BookTop) -> int:
        """How many changes back `gateware` matches the software path's tops, or -1."""
        tops = self._history[gateware.market]
        for back, top in enumerate(reversed(tops)):
            if top == gateware:
                return back
        return -1

    def check(self, gateware: BookTop) -> MirrorCheck:
        behind = self.match(gateware)
        self.compared += 1
        if behind >= 0:
            self.agreed += 1
        else:
            self.disagreed += 1
        return MirrorCheck(gateware.market, behind >= 0, behind, gateware,
                           self._history[gateware.market][-1])
