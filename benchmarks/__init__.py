"""Kodama's benchmarks (run ``benchmarks/latency.py``); not part of the product package."""
