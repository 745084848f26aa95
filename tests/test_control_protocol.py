"""The control link's sans-I/O protocol: framing, CRC, requests, and the board's model."""

from __future__ import annotations

import random

import pytest

from hdl.frame_codec.crc16 import crc16_reference
from host.fpga import protocol as p
from host.fpga.bank_model import BankModel
from host.fpga.board_model import BoardModel
from host.fpga.engine_model import EngineModel, streaming_cobs_decode
from host.fpga.errors import FramingError
from host.fpga.registers import REGISTERS

SCRATCH = REGISTERS.word["scratch"].address


def random_data(rng: random.Random, n: int) -> bytes:
    return bytes(rng.choice((0, 1, 0xFF)) if rng.random() < 0.2 else rng.randrange(1, 256)
                 for _ in range(n))


@pytest.mark.parametrize("length", [0, 1, 2, 253, 254, 255, 256, 508, 509, 700])
def test_cobs_round_trip_at_block_edges(length):
    rng = random.Random(length)
    for data in (bytes([7]) * length, bytes(length), random_data(rng, length),
                 bytes([9]) * max(length - 1, 0) + b"\x00"):
        encoded = p.cobs_encode(data)
        assert 0 not in encoded
        assert p.cobs_decode(encoded) == data
        assert streaming_cobs_decode(encoded) == (data, True)
        assert len(encoded) <= len(data) + 1 + len(data) // p.COBS_BLOCK + 1


def test_cobs_decode_refuses_cut_blocks_and_zeros():
    with pytest.raises(FramingError):
        p.cobs_decode(b"\x05ab")
    with pytest.raises(FramingError):
        p.cobs_decode(b"\x03a\x00")
    data, well_formed = streaming_cobs_decode(b"\x03ab\x05xy")
    assert (data, well_formed) == (b"ab\x00xy", False)


def test_crc_is_ccitt_false_and_the_gateware_step_agrees():
    assert p.crc16(b"123456789") == 0x29B1  # the catalogued check value
    rng = random.Random(1)
    for _ in range(200):
        data = rng.randbytes(rng.randint(0, 40))
        crc = p.CRC_INIT
        for byte in data:
            crc = crc16_reference(crc, byte)
        assert crc == p.crc16(data)
        assert p.crc16(data + crc.to_bytes(2, "big")) == 0  # what the receiver checks


def test_frame_round_trip_and_every_single_bit_flip_is_caught():
    payload = p.request_payload(5, p.Write(SCRATCH, 0x01020304))
    framed = p.frame(payload)
    assert framed[-1] == 0 and p.unframe(framed[:-1]) == payload
    for i in range(len(framed) - 1):
        for bit in range(8):
            damaged = bytearray(framed[:-1])
            damaged[i] ^= 1 << bit
            if 0 in damaged:
                continue  # the flip made a delimiter: two frames, each refused on its own
            with pytest.raises(FramingError):
                p.unframe(bytes(damaged))


def test_deframer_resynchronises_after_garbage_and_drops_oversize_frames():
    deframer = p.Deframer(max_frame=20)
    good = p.frame(b"\x01\x00abc")
    got = deframer.feed(b"\x13\x37" + b"\x00" + b"x" * 50 + b"\x00" + good[:4])
    assert got == [b"\x13\x37"]
    assert deframer.oversize == 1
    assert deframer.feed(good[4:]) == [good[:-1]]
    assert deframer.pending == 0


def test_responses_decode_and_refuse_bad_shapes():
    ok = p.Response(3, p.Status.OK, (1, 0xFFFF_FFFF))
    assert p.decode_response(ok.payload()) == ok
    err = p.Response(4, p.Status.BAD_ADDRESS, detail=0x1234)
    assert p.decode_response(err.payload()) == err
    for bad in (b"\x01", b"\x01\x00\x01", b"\x01\x04\x01", b"\x01\x63\x00\x00"):
        with pytest.raises(FramingError):
            p.decode_response(bad)


def test_batches_keep_value_pairs_together():
    addresses = list(range(31)) + [100, 101] + [200]
    pairs = [False] * 31 + [True, False, False]
    batches = p.split_batches(addresses, pairs)
    assert [len(b) for b in batches] == [31, 3]
    assert batches[1][:2] == [100, 101]
    with pytest.raises(ValueError):
        p.BatchRead(())


def _respond(engine: EngineModel, seq: int, request: p.Request) -> p.Response:
    (response,) = engine.feed(p.encode_request(seq, request))
    return response


def test_a_repeated_sequence_number_is_answered_without_executing_again():
    board = BoardModel(build_id=1)
    send = REGISTERS.word["order_send"].address
    assert _respond(board.engine, 9, p.Write(send, 0)).ok
    assert _respond(board.engine, 9, p.Write(send, 0)).ok  # the retry
    assert board.orders_sent == 1 and board.engine.counters.replays == 1
    assert _respond(board.engine, 10, p.Write(send, 0)).ok
    assert board.orders_sent == 2
    # SYNC forgets the saved response: the same number then executes.
    assert _respond(board.engine, 11, p.Sync()).ok
    assert _respond(board.engine, 10, p.Write(send, 0)).ok
    assert board.orders_sent == 3


def test_refused_requests_have_no_effect_and_forget_the_saved_response():
    bank = BankModel(REGISTERS)
    engine = EngineModel(bank)
    assert _respond(engine, 1, p.Write(SCRATCH, 7)).ok
    magic = REGISTERS.word["id_magic"].address
    refused = _respond(engine, 2, p.BatchRead((SCRATCH, 0xFFF0)))
    assert (refused.status, refused.detail) == (p.Status.BAD_ADDRESS, 0xFFF0)
    assert _respond(engine, 3, p.Write(magic, 1)).status == p.Status.READ_ONLY
    (damaged,) = engine.feed(b"\x00" + p.frame(bytes([1, p.Op.WRITE, 1])))
    assert (damaged.status, damaged.detail) == (p.Status.BAD_LENGTH, 3)
    assert _respond(engine, 1, p.Write(SCRATCH, 8)).ok  # executed: the saved one was forgotten
    assert bank.read(SCRATCH) == 8


def test_two_word_values_are_atomic_in_the_bank_model():
    bank = BankModel(REGISTERS, sources={"ks_cycle": lambda: 0x1_0000_0005})
    lo, hi = (w.address for w in REGISTERS.words_of("ks_cycle"))
    assert bank.read(lo) == 5
    bank.sources["ks_cycle"] = lambda: 0x2_FFFF_FFFF
    assert bank.read(hi) == 1  # latched by the low read
    plo, phi = (w.address for w in REGISTERS.words_of("order_price"))
    bank.write(plo, 0xFFFF_FFFE)
    assert bank.get("order_price") == 0  # staged, not committed
    bank.write(phi, 0xFFFF_FFFF)
    assert bank.get("order_price") == -2


def test_uart_divisors_for_the_board_clock():
    from hdl.uart_baud import divisor_for
    assert divisor_for(100_000_000, 115_200) == 868
    assert divisor_for(100_000_000, 3_000_000) == 33
    with pytest.raises(ValueError):
        divisor_for(100_000_000, 40_000_000)  # fewer than 4 cycles per bit
    with pytest.raises(ValueError):
        divisor_for(10_000_000, 1_500_000)  # 7 cycles per bit: 4.8 % off
