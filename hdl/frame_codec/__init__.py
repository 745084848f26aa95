"""The control link's framing in gateware: COBS frames with a CRC-16, as host/fpga/protocol.py
declares them. One component per file; layouts.py holds the byte layouts between them."""
