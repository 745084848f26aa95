"""The designs `tickwire fpga build` places and routes, each with the clock it must meet.

- `ecpix5`: the board top (hdl/boards/ecpix5_top.py) with its pins, built to a bitstream.
- `core64`: the trading core on the 64-bit datapath alone, in a timing harness
  (hdl/boards/timing_harness.py): the proxy for a 10G NIC's 156.25 MHz.

The 8-bit core is timed inside `ecpix5`, the full design, at 125 MHz.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amaranth.lib import wiring

DEVICE = "LFE5UM5G-85F"
PACKAGE = "CABGA554"
SPEED = "8"


@dataclass(frozen=True)
class Design:
    name: str
    summary: str
    clock_hz: float  # the constraint every clock of the design is timed against
    datapath_bits: int  # for the latency column: which datapath's cycle count applies
    board: bool  # built through the board's platform (pins, bitstream) or in the harness
    make: Callable[[], wiring.Component]


def _board() -> wiring.Component:
    from hdl.boards.ecpix5_top import Ecpix5Top

    return Ecpix5Top()


def _core(data_bytes: int) -> Callable[[], wiring.Component]:
    def make() -> wiring.Component:
        from hdl.boards.timing_harness import TimingHarness
        from hdl.core import Core

        return TimingHarness(Core(data_bytes, clock_hz=CLOCKS[data_bytes]))
    return make


CLOCKS = {8: 156.25e6}


def _part(factory: Callable[[], wiring.Component]) -> Callable[[], wiring.Component]:
    def make() -> wiring.Component:
        from hdl.boards.timing_harness import TimingHarness

        return TimingHarness(factory())
    return make


def _filter(data_bytes: int) -> wiring.Component:
    from hdl.header_filter import HeaderFilter

    return HeaderFilter(data_bytes)


def _parser(data_bytes: int) -> wiring.Component:
    from hdl.feed_parser import FeedParser

    return FeedParser(data_bytes)


def _book() -> wiring.Component:
    from hdl.book_table import BookTable

    return BookTable()


def _trigger() -> wiring.Component:
    from hdl.trigger import Trigger

    return Trigger(CLOCKS[8])


def _kill_switch() -> wiring.Component:
    from hdl.kill_switch import KillSwitch

    return KillSwitch()


def _feed(data_bytes: int) -> wiring.Component:
    from hdl.feed_pipeline import FeedPipeline

    return FeedPipeline(data_bytes, clock_hz=CLOCKS[8])

DESIGNS: dict[str, Design] = {d.name: d for d in (
    Design("ecpix5", "ECPIX-5 board top: RGMII MAC, TradingSystem (8-bit core and control "
           "link), order framer, LEDs, kill button, 125 MHz PLL",
           125e6, 8, True, _board),
    Design("core64", "Core (filter, parser, book, trigger, kill switch), 64-bit datapath, "
           "alone", 156.25e6, 64, False, _core(8)),
)}

# Stages of the core, each alone in the harness: minutes to place and route instead of half an
# hour, to find and fix one stage's critical path (`tickwire fpga build --part NAME`). Each is
# timed against the stricter clock, 156.25 MHz; none is part of --all or of the release.
PARTS: dict[str, Design] = {d.name: d for d in (
    Design("filter64", "HeaderFilter, 64-bit", 156.25e6, 64, False, _part(lambda: _filter(8))),
    Design("filter8", "HeaderFilter, 8-bit", 156.25e6, 8, False, _part(lambda: _filter(1))),
    Design("parser64", "FeedParser, 64-bit", 156.25e6, 64, False, _part(lambda: _parser(8))),
    Design("parser8", "FeedParser, 8-bit", 156.25e6, 8, False, _part(lambda: _parser(1))),
    Design("book", "BookTable (256 markets, depth 4)", 156.25e6, 64, False, _part(_book)),
    Design("trigger", "Trigger", 156.25e6, 64, False, _part(_trigger)),
    Design("killswitch", "KillSwitch with its egress gate and position table", 156.25e6, 64,
           False, _part(_kill_switch)),
    Design("feed64", "FeedPipeline (parser, book, trigger), 64-bit", 156.25e6, 64, False,
           _part(lambda: _feed(8))),
)}


def lookup(name: str) -> Design:
    return DESIGNS[name] if name in DESIGNS else PARTS[name]
