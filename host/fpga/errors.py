"""Typed errors of the FPGA interface. Each has a `reason` code counters and logs key on."""

from __future__ import annotations


class FpgaError(Exception):
    """Base class of every error host.fpga raises."""

    reason = "fpga_error"


class FramingError(FpgaError):
    """Bytes that are not a valid COBS frame, or a frame whose CRC is wrong."""

    reason = "bad_frame"


class LinkTimeout(FpgaError):
    """No valid response within the deadline, after every retry."""

    reason = "timeout"


class LinkLost(FpgaError):
    """The port itself failed: the board was unplugged, or the simulated FPGA behind a pty
    died (the operating system's error is the cause)."""

    reason = "link_lost"


class LinkCorrupt(FpgaError):
    """Every attempt was answered by a corrupted or refused frame."""

    reason = "corrupt"


class RemoteError(FpgaError):
    """The board answered with an error status; `status` is the protocol's code and
    `detail` its detail word (the offending address, op or length)."""

    reason = "remote_error"

    def __init__(self, message: str, *, status: int, detail: int):
        super().__init__(message)
        self.status = status
        self.detail = detail


class BadAddress(RemoteError):
    reason = "bad_address"


class ReadOnly(RemoteError):
    reason = "read_only"


class UnknownOp(RemoteError):
    reason = "unknown_op"


class BadLength(RemoteError):
    reason = "bad_length"


class UnknownRegister(FpgaError, KeyError):
    """A register or value name the map does not declare."""

    reason = "unknown_register"


class ValueOutOfRange(FpgaError, ValueError):
    """A value that does not fit its register (width and signedness as declared)."""

    reason = "value_range"


class IncompatibleDevice(FpgaError):
    """The board is not a tickwire control link, or carries another register map."""

    reason = "incompatible_device"


class ArmRefused(FpgaError):
    """The arm sequence did not arm the switch. `why` is `reasons_present` or `not_armed`."""

    reason = "arm_refused"

    def __init__(self, message: str, *, why: str, reasons: int):
        super().__init__(message)
        self.why = why
        self.reasons = reasons


class NoFpga(FpgaError):
    """An operation only a board can do, asked of the `none` backend."""

    reason = "no_fpga"
