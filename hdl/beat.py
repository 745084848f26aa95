"""Beat layout of the byte streams that carry packets between gateware blocks."""

from amaranth.lib import data


def beat_layout(data_bytes: int) -> data.StructLayout:
    """Layout of one stream beat carrying up to `data_bytes` bytes of a packet (AXI-stream-like).

    - `data`: byte lanes, lane 0 (the earliest byte of the packet) in bits [7:0].
    - `keep`: one bit per lane, lane 0 first; a lane whose bit is low carries no byte.
      A beat with `keep == 0` and `last` set ends a packet without adding a byte, which is
      how an empty packet is sent.
    - `last`: this beat is the final one of its packet.
    """
    if data_bytes < 1:
        raise ValueError(f"a beat carries at least one byte, not {data_bytes}")
    return data.StructLayout({
        "data": 8 * data_bytes,
        "keep": data_bytes,
        "last": 1,
    })
