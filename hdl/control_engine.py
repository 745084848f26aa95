"""The control engine: executes the link's requests against the register bank."""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.frame_codec.layouts import FrameByte, ReceivedByte, Verdict
from hdl.register_bus import RegisterBus
from host.fpga.protocol import MAX_REQUEST, MAX_RESPONSE, Op, Status

REQUEST_DEPTH = 1 << (MAX_REQUEST - 1).bit_length()
RESPONSE_DEPTH = 1 << (MAX_RESPONSE - 1).bit_length()
ERROR_RESPONSE_BYTES = 4


class ControlEngine(wiring.Component):
    """Runs the request/response protocol of host/fpga/protocol.py.

    A request's payload is stored as it arrives and nothing is done until the receiver's
    verdict on the whole frame is OK, so a corrupted frame never reaches the bus. Then the
    request is checked in full (length, op, every address, writability) before its first
    bus access, and a refused request has no effect. The response is built in a buffer and
    kept: a request with the same sequence number as the last one executed is answered from
    it without touching the bus again. Error responses go out from separate registers and
    leave the saved response alone.

    A frame that ends while a response is still waiting for the transmitter is dropped
    whole (counted in `dropped`); the host's retry recovers it. A host that waits for each
    response, as the driver does, never has a frame dropped.
    """

    i: In(stream.Signature(ReceivedByte, always_ready=True))
    o: Out(stream.Signature(FrameByte))
    bus: Out(RegisterBus())
    requests: Out(32)
    errors: Out(32)
    dropped: Out(32)
    replays: Out(32)

    def elaborate(self, platform):
        m = Module()
        m.submodules.request = request = Memory(shape=8, depth=REQUEST_DEPTH, init=[])
        m.submodules.response = response = Memory(shape=8, depth=RESPONSE_DEPTH, init=[])
        req_wr, req_rd = request.write_port(), request.read_port(domain="comb")
        resp_wr, resp_rd = response.write_port(), response.read_port(domain="comb")

        length = Signal(16)  # payload bytes of the frame arriving (saturates)
        req_len = Signal(16)  # payload bytes of the request being handled
        verdict = Signal(Verdict)
        tainted = Signal()  # the frame arriving began while we were busy: drop it whole
        seq, op = Signal(8), Signal(8)
        idx = Signal(range(REQUEST_DEPTH + 2))  # byte index into the request
        addr_lo, addr = Signal(8), Signal(16)
        word = Signal(32)  # the word being read, shifted out a byte at a time
        byte_count = Signal(2)
        resp_ptr = Signal(range(RESPONSE_DEPTH))
        resp_len = Signal(range(RESPONSE_DEPTH + 1))
        saved_seq, saved_valid = Signal(8), Signal()
        err_status, err_detail = Signal(8), Signal(16)

        tx_busy, tx_errors = Signal(), Signal()
        tx_idx, tx_len = Signal(range(RESPONSE_DEPTH)), Signal(range(RESPONSE_DEPTH + 1))
        tx_err = Signal(8 * ERROR_RESPONSE_BYTES)  # seq, status, detail (LE) of an error

        m.d.comb += [self.bus.addr.eq(addr), self.bus.w_data.eq(word)]
        receiving = Signal()

        def start_tx(from_errors, count):
            return [tx_busy.eq(1), tx_idx.eq(0), tx_errors.eq(from_errors), tx_len.eq(count)]

        def refuse(status, detail):
            # A whole, CRC-checked frame that is not a valid request forgets the saved response.
            return [saved_valid.eq(0), err_status.eq(status), err_detail.eq(detail)]

        with m.FSM():
            with m.State("RECV"):
                m.d.comb += receiving.eq(1)
                with m.If(self.i.valid & ~tainted):
                    with m.If(~self.i.payload.end):
                        m.d.comb += [req_wr.en.eq(length < REQUEST_DEPTH),
                                     req_wr.addr.eq(length), req_wr.data.eq(self.i.payload.data)]
                        m.d.sync += length.eq(Mux(length == 0xFFFF, length, length + 1))
                    with m.Else():
                        m.d.sync += [req_len.eq(length), length.eq(0),
                                     verdict.eq(self.i.payload.verdict)]
                        m.next = "SEQ"
            with m.State("SEQ"):
                m.d.comb += req_rd.addr.eq(0)
                m.d.sync += seq.eq(Mux(req_len != 0, req_rd.data, 0))
                m.next = "OP"
            with m.State("OP"):
                m.d.comb += req_rd.addr.eq(1)
                m.d.sync += op.eq(req_rd.data)
                m.next = "CHECK"
            with m.State("CHECK"):
                with m.If(verdict != Verdict.OK):
                    m.d.sync += [err_status.eq(verdict), err_detail.eq(0)]
                    m.next = "ERROR"
                with m.Elif((req_len < 2) | (req_len > MAX_REQUEST)):
                    m.d.sync += refuse(Status.BAD_LENGTH, req_len)
                    m.next = "ERROR"
                with m.Elif(op > max(Op)):
                    m.d.sync += refuse(Status.UNKNOWN_OP, op)
                    m.next = "ERROR"
                with m.Elif(~self._length_ok(op, req_len)):
                    m.d.sync += refuse(Status.BAD_LENGTH, req_len)
                    m.next = "ERROR"
                with m.Elif(op == Op.SYNC):
                    m.d.sync += saved_valid.eq(0)
                    m.next = "RESPOND"
                with m.Elif(saved_valid & (seq == saved_seq)):
                    m.next = "REPLAY"
                with m.Else():
                    m.d.sync += idx.eq(2)
                    m.next = "CHECK_ADDR_LO"

            # Every address is checked before the first bus access.
            with m.State("CHECK_ADDR_LO"):
                m.d.comb += req_rd.addr.eq(idx)
                m.d.sync += addr_lo.eq(req_rd.data)
                m.next = "CHECK_ADDR_HI"
            with m.State("CHECK_ADDR_HI"):
                m.d.comb += req_rd.addr.eq(idx + 1)
                m.d.sync += addr.eq(Cat(addr_lo, req_rd.data))
                m.next = "CHECK_DECODE"
            with m.State("CHECK_DECODE"):  # the bank decodes `addr` in this cycle
                m.next = "CHECK_ADDR"
            with m.State("CHECK_ADDR"):
                with m.If(~self.bus.known):
                    m.d.sync += refuse(Status.BAD_ADDRESS, addr)
                    m.next = "ERROR"
                with m.Elif((op == Op.WRITE) & ~self.bus.writable):
                    m.d.sync += refuse(Status.READ_ONLY, addr)
                    m.next = "ERROR"
                with m.Elif((op == Op.WRITE) | (idx + 2 >= req_len)):
                    m.next = "RESPOND"
                with m.Else():
                    m.d.sync += idx.eq(idx + 2)
                    m.next = "CHECK_ADDR_LO"

            # The response buffer may be rewritten only once the last response has gone.
            with m.State("RESPOND"), m.If(~tx_busy):
                m.d.comb += [resp_wr.en.eq(1), resp_wr.addr.eq(0), resp_wr.data.eq(seq)]
                m.next = "STATUS"
            with m.State("STATUS"):
                m.d.comb += [resp_wr.en.eq(1), resp_wr.addr.eq(1), resp_wr.data.eq(Status.OK)]
                m.d.sync += resp_ptr.eq(2)
                with m.If(op == Op.WRITE):
                    m.d.sync += idx.eq(4)
                    m.next = "WRITE_DATA"
                with m.Elif(op == Op.SYNC):
                    m.next = "DONE"
                with m.Else():
                    m.d.sync += idx.eq(2)
                    m.next = "READ_ADDR_LO"

            with m.State("WRITE_DATA"):
                # Little-endian value: bytes shift in from the top.
                m.d.comb += req_rd.addr.eq(idx)
                m.d.sync += [word.eq(Cat(word[8:], req_rd.data)), idx.eq(idx + 1)]
                with m.If(idx == 7):
                    m.next = "WRITE"
            with m.State("WRITE"):
                m.d.comb += self.bus.write.eq(1)
                m.next = "DONE"

            with m.State("READ_ADDR_LO"):
                m.d.comb += req_rd.addr.eq(idx)
                m.d.sync += addr_lo.eq(req_rd.data)
                m.next = "READ_ADDR_HI"
            with m.State("READ_ADDR_HI"):
                m.d.comb += req_rd.addr.eq(idx + 1)
                m.d.sync += addr.eq(Cat(addr_lo, req_rd.data))
                m.next = "READ"
            with m.State("READ"):
                m.d.comb += self.bus.read.eq(1)
                m.next = "READ_TAKE"
            with m.State("READ_TAKE"):
                m.d.sync += [word.eq(self.bus.r_data), byte_count.eq(0)]
                m.next = "READ_BYTES"
            with m.State("READ_BYTES"):
                m.d.comb += [resp_wr.en.eq(1), resp_wr.addr.eq(resp_ptr),
                             resp_wr.data.eq(word[:8])]
                m.d.sync += [word.eq(word >> 8), resp_ptr.eq(resp_ptr + 1),
                             byte_count.eq(byte_count + 1)]
                with m.If(byte_count == 3):
                    m.d.sync += idx.eq(idx + 2)
                    with m.If(idx + 2 >= req_len):
                        m.next = "DONE"
                    with m.Else():
                        m.next = "READ_ADDR_LO"

            with m.State("DONE"):
                m.d.sync += [resp_len.eq(resp_ptr), *start_tx(0, resp_ptr),
                             self.requests.eq(self.requests + 1)]
                with m.If(op != Op.SYNC):
                    m.d.sync += [saved_seq.eq(seq), saved_valid.eq(1)]
                m.next = "RECV"
            with m.State("REPLAY"), m.If(~tx_busy):
                m.d.sync += [*start_tx(0, resp_len), self.replays.eq(self.replays + 1)]
                m.next = "RECV"
            with m.State("ERROR"), m.If(~tx_busy):
                m.d.sync += [*start_tx(1, ERROR_RESPONSE_BYTES),
                             tx_err.eq(Cat(seq, err_status, err_detail)),
                             self.errors.eq(self.errors + 1)]
                m.next = "RECV"

        # Beats that arrive while the engine is busy, and the rest of their frame, are dropped.
        with m.If(self.i.valid & ~(receiving & ~tainted)):
            with m.If(self.i.payload.end):
                m.d.sync += [tainted.eq(0), self.dropped.eq(self.dropped + 1)]
            with m.Else():
                m.d.sync += tainted.eq(1)

        # The transmitter: the saved response, or an error response.
        m.d.comb += [
            resp_rd.addr.eq(tx_idx),
            self.o.valid.eq(tx_busy),
            self.o.payload.data.eq(Mux(tx_errors, tx_err.word_select(tx_idx[:2], 8),
                                       resp_rd.data)),
            self.o.payload.last.eq(tx_idx == tx_len - 1),
        ]
        with m.If(self.o.valid & self.o.ready):
            with m.If(self.o.payload.last):
                m.d.sync += tx_busy.eq(0)
            with m.Else():
                m.d.sync += tx_idx.eq(tx_idx + 1)
        return m

    @staticmethod
    def _length_ok(op, length):
        return Mux(op == Op.SYNC, length == 2,
                   Mux(op == Op.READ, length == 4,
                       Mux(op == Op.WRITE, length == 8,
                           (length[0] == 0) & (length >= 4))))
