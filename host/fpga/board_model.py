"""What hdl/control_top.py answers on its link, in Python: the bank, the engine and the
values the top ties to the bank. The link bench scoreboards the Verilated top against it.

Values the model does not follow are named in `unknown`: their reads match anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from host.fpga.bank_model import BankModel
from host.fpga.engine_model import EngineModel
from host.fpga.protocol import Response
from host.fpga.registers import MAGIC, REGISTERS, VERSION_WORD


class BoardModel:
    def __init__(self, build_id: int, *, unknown: Iterable[str] = ()):
        self.orders_sent = 0
        self.pulses: list[tuple[str, int]] = []
        self.clears: list[tuple[str, int]] = []
        counters = lambda field: lambda: getattr(self.engine.counters, field)  # noqa: E731
        sources: dict[str, Callable[[], int | None]] = {
            "id_magic": lambda: MAGIC,
            "id_version": lambda: VERSION_WORD,
            "id_map_hash": lambda: REGISTERS.digest,
            "id_build": lambda: build_id,
            "link_requests": counters("requests"),
            "link_errors": counters("errors"),
            "link_dropped": counters("dropped"),
            "link_uart_errors": counters("uart_errors"),
            "link_replays": counters("replays"),
            "order_sent": lambda: self.orders_sent,
        }
        for name in unknown:
            REGISTERS.value[name]  # noqa: B018 - a KeyError names a misspelt register
            sources[name] = lambda: None
        self.bank = BankModel(REGISTERS, sources=sources, on_pulse=self._pulse,
                              on_clear=self._clear)
        self.engine = EngineModel(self.bank)

    def _pulse(self, name: str, value: int) -> None:
        self.pulses.append((name, value))
        if name == "order_send":
            self.orders_sent += 1

    def _clear(self, name: str, mask: int) -> None:
        self.clears.append((name, mask))

    def feed(self, data: bytes) -> list[Response]:
        return list(self.engine.feed(data))


def response_matches(got: Response, want: Response) -> bool:
    """Equal, except that a None word in `want` matches any word."""
    if (got.seq, int(got.status), got.detail, len(got.words)) != (
            want.seq, int(want.status), want.detail, len(want.words)):
        return False
    return all(w is None or g == w for g, w in zip(got.words, want.words, strict=True))
