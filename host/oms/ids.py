"""Client order ids that never repeat, across restarts too.

An id is `<prefix><boot>-<n>`: `boot` is a counter the journal increments and commits at
every start (Journal.start), and `n` counts orders within that boot. Two runs therefore never
share an id even if the first one died without a trace of its last orders. The venue allows
1 to 64 characters.
"""

from __future__ import annotations

import re

from host.oms.states import OmsError

DEFAULT_PREFIX = "tw"
MAX_ID_LEN = 64


class BadIdPrefix(OmsError):
    reason = "bad_id_prefix"


class ClientIds:
    def __init__(self, boot: int, prefix: str = DEFAULT_PREFIX):
        if not isinstance(boot, int) or isinstance(boot, bool) or boot < 1:
            raise BadIdPrefix(f"boot must be a positive int, not {boot!r}")
        if not re.fullmatch(r"[A-Za-z_]{1,16}", prefix):
            raise BadIdPrefix(f"prefix {prefix!r} must be 1-16 letters or underscores")
        self.boot = boot
        self.prefix = prefix
        self._head = f"{prefix}{boot}-"
        self._n = 0
        self._pattern = re.compile(rf"{re.escape(prefix)}(\d+)-(\d+)")

    def next(self) -> str:
        self._n += 1
        return f"{self._head}{self._n}"

    @property
    def issued(self) -> int:
        return self._n

    def parse(self, order_id: str) -> tuple[int, int] | None:
        """(boot, n) of an id this prefix made, or None for anybody else's."""
        m = self._pattern.fullmatch(order_id)
        return (int(m[1]), int(m[2])) if m else None

    def is_ours(self, order_id: str) -> bool:
        return self.parse(order_id) is not None
