"""A platform stand-in for elaborating a netlist for the ECP5 without a board.

Components that have a vendor cell for the ECP5 (hdl/dsp_multiplier.py, hdl/mac/rgmii_io.py)
use it when the platform's `family` is "ecp5", and their simulation model when there is no
platform. The timing harness and the MAC's synthesis check have no board, but must place the
cells that the board would.
"""


class Ecp5Netlist:
    family = "ecp5"


ECP5_NETLIST = Ecp5Netlist()
