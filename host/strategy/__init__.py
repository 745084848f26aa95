"""Strategies: sans-I/O decision makers that turn market data into order actions.

`actions.py` holds what every strategy emits and what risk and the OMS take.
"""
