"""Measured and not adopted: kept as the record behind a decision, run as `python -m bench.experiments.NAME`."""
