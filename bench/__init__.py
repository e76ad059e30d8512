"""Benchmarks that print their figures; never run by the test suite."""
