"""The 1 GbE MAC: RGMII pins to byte streams and back. One component per file; rgmii_mac.py
puts them together. docs/mac.md explains the design."""
