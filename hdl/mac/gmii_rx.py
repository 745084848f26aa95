"""The MAC's receive side: GMII symbols in, frames out as a byte stream with the preamble, SFD
and FCS stripped, and a verdict on the last beat.

The semantics are host/model/ethernet_mac.py's `MacRx`; docs/mac.md explains the design.
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.mac.crc32 import INIT, RESIDUE, crc32_next
from host.model.ethernet_mac import (
    COUNTER_BITS,
    FCS_BYTES,
    MAX_DATA,
    MIN_DATA,
    PREAMBLE,
    RX_COUNTERS,
    SFD,
)

# Cycles from the GMII symbol after a frame's last FCS byte (DV low) to its last beat on `o`.
END_LATENCY = 1


class GmiiRx(wiring.Component):
    """Receive frames cut-through, holding back only the four bytes that may be the FCS.

    - `rx_data`, `rx_dv`, `rx_er`: one GMII symbol per cycle.
    - `o`: the bytes between the SFD and the FCS, one per beat; the last beat carries `last`.
      A frame of four bytes or fewer after the SFD sends no beat. The PHY cannot be paused:
      a beat `o` has no room for (`o.ready` low since the beat before) is lost, and its frame
      is marked bad; keep `o.ready` high.
    - `o_error`: with the beat that has `last` set, and held with it: the frame is bad (PHY
      error, length out of 60..1518, FCS mismatch, or a lost beat). Consumers must undo or hold
      back whatever they did with the frame's earlier beats.
    - one COUNTER_BITS wrapping counter per name in RX_COUNTERS, updated the cycle after the
      frame's end is seen: every frame after an SFD counts in `rx_frames` and in exactly one of
      `rx_ok` or its error, in RxError's priority order.
    """

    def __init__(self):
        super().__init__({
            "rx_data": In(8),
            "rx_dv": In(1),
            "rx_er": In(1),
            "o": Out(stream.Signature(beat_layout(1))),
            "o_error": Out(1),
            **{name: Out(COUNTER_BITS) for name in RX_COUNTERS},
        })

    def elaborate(self, platform):
        m = Module()
        data, dv, er = self.rx_data, self.rx_dv, self.rx_er

        in_frame = Signal()  # between the SFD and DV falling
        hunting = Signal()  # DV is high and only preamble bytes have come
        skipping = Signal()  # DV is high on a burst that is not a frame
        held = Signal(8 * FCS_BYTES)  # the last four bytes, oldest in the low byte
        length = Signal(range(MAX_DATA + FCS_BYTES + 2))  # bytes after the SFD, saturating
        crc = Signal(32, init=INIT)
        phy_error = Signal()
        overflowed = Signal()
        pending = Signal(8)  # the oldest byte pushed out of `held`: not FCS, not yet sent
        pending_valid = Signal()

        # What goes to `o` this cycle, if anything.
        emit = Signal()
        emit_data = Signal(8)
        emit_last = Signal()
        emit_error = Signal()

        frame_end = in_frame & ~dv
        too_short = length < MIN_DATA + FCS_BYTES
        too_long = length > MAX_DATA + FCS_BYTES
        bad_fcs = crc != RESIDUE

        with m.If(in_frame & dv):
            m.d.sync += [
                held.eq(Cat(held[8:], data)),
                crc.eq(crc32_next(crc, data)),
                phy_error.eq(phy_error | er),
            ]
            with m.If(length <= MAX_DATA + FCS_BYTES):
                m.d.sync += length.eq(length + 1)
            with m.If(length >= FCS_BYTES):
                m.d.sync += [pending.eq(held[:8]), pending_valid.eq(1)]
                m.d.comb += [emit.eq(pending_valid), emit_data.eq(pending)]
        with m.If(frame_end):
            m.d.comb += [
                emit.eq(pending_valid),
                emit_data.eq(pending),
                emit_last.eq(1),
                emit_error.eq(phy_error | too_short | too_long | bad_fcs | overflowed),
            ]

        # Start, hunt and skip.
        with m.If(~dv):
            m.d.sync += [in_frame.eq(0), hunting.eq(0), skipping.eq(0)]
        with m.Elif(~in_frame & ~skipping):
            with m.If(~er & (data == SFD)):
                m.d.sync += [in_frame.eq(1), hunting.eq(0)]
            with m.Elif(~er & (data == PREAMBLE)):
                m.d.sync += hunting.eq(1)
            with m.Else():
                m.d.sync += [hunting.eq(0), skipping.eq(1)]
        new_frame = ~in_frame & ~skipping & dv & ~er & (data == SFD)
        with m.If(new_frame):
            m.d.sync += [length.eq(0), crc.eq(INIT), phy_error.eq(0), overflowed.eq(0),
                         pending_valid.eq(0)]
        bad_preamble = (hunting & ~dv) | (~in_frame & ~skipping & dv & (
            er | ((data != SFD) & (data != PREAMBLE))))

        lost = self._output(m, emit, emit_data, emit_last, emit_error)
        with m.If(lost & ~emit_last):
            m.d.sync += overflowed.eq(1)

        # The verdict, registered, then counted.
        verdict = {name: Signal(name=f"is_{name}") for name in RX_COUNTERS}
        m.d.sync += [flag.eq(0) for flag in verdict.values()]
        m.d.sync += [verdict["rx_frames"].eq(frame_end),
                     verdict["rx_preamble_errors"].eq(bad_preamble)]
        with m.If(frame_end):
            with m.If(phy_error):
                m.d.sync += verdict["rx_phy_errors"].eq(1)
            with m.Elif(too_short | too_long):
                m.d.sync += verdict["rx_length_errors"].eq(1)
            with m.Elif(bad_fcs):
                m.d.sync += verdict["rx_fcs_errors"].eq(1)
            with m.Elif(overflowed | lost):
                m.d.sync += verdict["rx_overflows"].eq(1)
            with m.Else():
                m.d.sync += verdict["rx_ok"].eq(1)
        for name, flag in verdict.items():
            with m.If(flag):
                counter = getattr(self, name)
                m.d.sync += counter.eq(counter + 1)
        return m

    def _output(self, m, emit, emit_data, emit_last, emit_error):
        """Drive `o` from one register; return whether this cycle's beat is lost."""
        o = self.o
        # A lost last beat still has to end its frame: an empty one (keep low) with the error
        # goes out as soon as there is room, before anything else.
        end_owed = Signal()
        room = ~o.valid | o.ready
        with m.If(room):
            m.d.sync += o.valid.eq(0)
        with m.If(room & end_owed):
            m.d.sync += [
                o.valid.eq(1),
                o.payload.data.eq(0),
                o.payload.keep.eq(0),
                o.payload.last.eq(1),
                self.o_error.eq(1),
                end_owed.eq(0),
            ]
        with m.Elif(room & emit):
            m.d.sync += [
                o.valid.eq(1),
                o.payload.data.eq(emit_data),
                o.payload.keep.eq(1),
                o.payload.last.eq(emit_last),
                self.o_error.eq(emit_error),
            ]
        lost = emit & (~room | end_owed)
        with m.If(lost & emit_last):
            m.d.sync += end_owed.eq(1)
        return lost
