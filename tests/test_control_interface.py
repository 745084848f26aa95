"""host.fpga's interface and serial backend against the board model behind a fake port that
loses and damages bytes on purpose (the Verilated design is in test_control_pty.py)."""

from __future__ import annotations

import pytest

from host.fpga import protocol as p
from host.fpga.board_model import BoardModel
from host.fpga.errors import (
    BadAddress,
    IncompatibleDevice,
    LinkCorrupt,
    LinkTimeout,
    ReadOnly,
    UnknownRegister,
    ValueOutOfRange,
)
from host.fpga.interface import FpgaInterface, Limits
from host.fpga.serial_backend import SerialBackend


class FakePort:
    """A pyserial-like port wired to a BoardModel. `faults` is consumed one entry per
    response: None delivers it, "drop" loses it, "flip" damages one of its bytes."""

    def __init__(self, board: BoardModel):
        self.board = board
        self.faults: list[str | None] = []
        self.timeout = 0.0
        self._rx = bytearray()
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        for response in self.board.feed(data):
            out = bytearray(p.frame(response.payload()))
            fault = self.faults.pop(0) if self.faults else None
            if fault == "drop":
                continue
            if fault == "flip":
                out[1] ^= 0x10 if out[1] ^ 0x10 else 0x20
            self._rx += out
        return len(data)

    @property
    def in_waiting(self) -> int:
        return len(self._rx)

    def read(self, size: int) -> bytes:
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    def flush(self) -> None:
        pass

    def reset_input_buffer(self) -> None:
        self._rx.clear()

    def close(self) -> None:
        pass


def open_fake(board: BoardModel | None = None, **options) -> tuple[FpgaInterface, FakePort]:
    port = FakePort(board or BoardModel(build_id=0x1234))
    options.setdefault("timeout", 0.02)
    backend = SerialBackend("fake", connection=port, **options)
    return FpgaInterface(backend), port


def test_reads_and_writes_values_by_name():
    fpga, port = open_fake()
    assert fpga.read("id_build") == 0x1234
    fpga.write("scratch", 0xDEADBEEF)
    assert fpga.read("scratch") == 0xDEADBEEF
    fpga.write("order_price", -123456789012)
    assert fpga.read("order_price") == -123456789012
    assert fpga.read("order_price_hi") == 0xFFFF_FFE3
    limits = Limits(max_qty=10, max_notional=1 << 40, rate_tokens=5)
    fpga.configure(limits)
    assert fpga.limits() == limits
    with pytest.raises(UnknownRegister):
        fpga.read("no_such_register")
    with pytest.raises(ValueOutOfRange) as too_big:
        fpga.write("ks_rate_tokens", 1 << 16)
    assert too_big.value.reason == "value_range"


def test_read_many_batches_past_the_batch_limit():
    fpga, port = open_fake()
    names = [w.name for w in fpga_words()]
    before = port.writes
    values = fpga.read_many(names)
    assert set(values) == set(names)
    assert port.writes - before == -(-len(names) // p.MAX_BATCH)


def fpga_words():
    from host.fpga.registers import REGISTERS
    return REGISTERS.words


def test_a_lost_or_damaged_response_is_retried_and_not_executed_twice():
    board = BoardModel(build_id=1)
    fpga, port = open_fake(board)
    port.faults = ["drop", "flip", None]
    fpga.write("order_send", 0)
    assert board.orders_sent == 1
    assert board.engine.counters.replays == 2
    assert fpga.backend.stats["retries"] == 2


def test_timeouts_and_refusals_are_typed_errors():
    fpga, port = open_fake(retries=1)
    port.faults = ["drop", "drop"]
    with pytest.raises(LinkTimeout):
        fpga.read("scratch")
    with pytest.raises(ReadOnly) as refused:
        fpga.write("id_magic", 0)
    assert refused.value.reason == "read_only"
    with pytest.raises(BadAddress) as bad:
        fpga.backend.read_words([0xFFFE])
    assert bad.value.detail == 0xFFFE
    # The board answers only "your frame arrived damaged": after every retry, LinkCorrupt.
    original = port.write

    def damaging(data: bytes) -> int:
        # One bit of the CRC end flipped, never into a zero (that would split the frame).
        flipped = data[-3] ^ (0x02 if data[-3] == 0x01 else 0x01)
        return original(bytes(data[:-3]) + bytes([flipped]) + bytes(data[-2:]))
    port.write = damaging
    with pytest.raises(LinkCorrupt):
        fpga.read("scratch")


def test_a_board_with_another_register_map_is_refused():
    board = BoardModel(build_id=1)
    board.bank.sources["id_map_hash"] = lambda: 0xBAD
    with pytest.raises(IncompatibleDevice):
        open_fake(board)
    other = BoardModel(build_id=1)
    other.bank.sources["id_magic"] = lambda: 0
    with pytest.raises(IncompatibleDevice):
        open_fake(other)


def test_the_heartbeat_task_beats_and_reports_each_trip_once():
    import asyncio

    from host.fpga.registers import REASON_FIELDS

    board = BoardModel(build_id=1)
    fpga, port = open_fake(board)
    manual = next(f for f in REASON_FIELDS if f.name == "manual")
    board.bank.sources.update({"ks_state": lambda: 0, "ks_reasons": lambda: 1 << manual.lsb,
                               "ks_trip_time": lambda: 1234})
    seen = []
    fpga.on_trip(seen.append)

    async def run():
        stop = asyncio.Event()
        task = asyncio.create_task(fpga.run_heartbeat(0.005, stop))
        while fpga.trips is None:
            await asyncio.sleep(0.001)
        event = await asyncio.wait_for(fpga.trips.get(), 5)
        while sum(1 for name, _ in board.pulses if name == "ks_heartbeat") < 4:
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(task, 5)
        return event

    event = asyncio.run(run())
    assert event.reasons == {"manual"} and event.trip_time == 1234
    assert seen == [event]  # polled again and again, reported once
    assert fpga.trips.empty()
