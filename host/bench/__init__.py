"""`tickwire bench TARGET`: latency measurements that print their figures and references.

Each target is a module with `configure(parser)` and `run(args) -> int`; host/cli.py lists
them in BENCH_TARGETS. stats.py has the percentile and timing helpers they share.
"""
