"""The pipeline's model: pure Python, no I/O. The VPS fast path and the gateware's reference."""
