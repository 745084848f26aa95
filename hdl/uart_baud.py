"""UART divisors: clock cycles per bit for a baud rate, checked against the receiver's slack."""

MIN_DIVISOR = 4  # the receiver samples mid-bit: it needs a few cycles per bit to find the middle
MAX_ERROR = 0.02  # 8N1 tolerates about 5 % in total between both ends; keep our share at 2 %


def divisor_for(clock_hz: int, baud: int) -> int:
    """The divisor that gives `baud` at `clock_hz`, or ValueError if it is too far off."""
    divisor = round(clock_hz / baud)
    if divisor < MIN_DIVISOR:
        raise ValueError(f"{baud} baud needs a faster clock than {clock_hz} Hz")
    error = abs(clock_hz / divisor - baud) / baud
    if error > MAX_ERROR:
        raise ValueError(f"{baud} baud at {clock_hz} Hz is off by {error:.1%} (divisor "
                         f"{divisor})")
    return divisor
