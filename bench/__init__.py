"""Benchmarks (run by `make bench`, never by CI as timed tests). A package so that `bench/sync.py`
is `bench.sync` to the type checker, not a second top-level `sync`."""
