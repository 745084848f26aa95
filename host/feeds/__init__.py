"""Adapters for venue market-data formats: typed decoders and recorded-session readers."""
