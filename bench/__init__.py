"""Benchmarks, goal gates and data generators; each runs from the repository root as `python -m bench.NAME`
(its docstring shows how). Not part of the installed package. Experiments that were measured and not adopted
live in bench/experiments/."""
