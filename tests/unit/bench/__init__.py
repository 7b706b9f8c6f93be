"""Tests of the benchmark scripts in benchmarks/ (their pure parts)."""
