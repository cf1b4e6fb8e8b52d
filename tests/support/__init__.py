"""Helpers the tests and the benchmarks share: the local news site, mail and webhook
servers, databases, and the labelled story set. Tests import them as `support.X`,
benchmarks (run from the repository root as `python -m bench.NAME`) as `tests.support.X`."""
