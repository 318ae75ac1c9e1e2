"""A seeded, bounded fuzzer for every operation rolegate serves (see driver.py)."""
