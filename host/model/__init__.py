"""The reference model: the software path on a VPS and the scoreboard in every cocotb bench.

Pure Python with no I/O. Each stage takes inputs and returns events; the gateware in hdl/ is
proven equal to it.
"""
