"""Byte layouts of the streams between the UART, the frame codec and the control engine."""

from amaranth.hdl import unsigned
from amaranth.lib import data, enum

from host.fpga.protocol import Status as _Status


class Verdict(enum.Enum, shape=unsigned(3)):
    """The receiver's judgement of a whole frame: the protocol's status codes it can give."""

    OK = int(_Status.OK)
    BAD_CRC = int(_Status.BAD_CRC)
    BAD_LENGTH = int(_Status.BAD_LENGTH)
    BAD_FRAME = int(_Status.BAD_FRAME)


class DecodedByte(data.Struct):
    """A COBS decoder output: a data byte, or (`end` set, `data` unused) the end of a frame,
    with `bad` set if the frame's last block was cut short."""

    data: unsigned(8)
    end: unsigned(1)
    bad: unsigned(1)


class ReceivedByte(data.Struct):
    """A frame receiver output: a payload byte (CRC bytes removed), or (`end` set) the end of
    a frame with the receiver's verdict on it."""

    data: unsigned(8)
    end: unsigned(1)
    verdict: Verdict


class FrameByte(data.Struct):
    """A byte of a frame payload going out; `last` marks the frame's final byte."""

    data: unsigned(8)
    last: unsigned(1)
