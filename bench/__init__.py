"""Benchmarks, each run as a module from the project folder: `python -m bench.cache`,
`python -m bench.frontend`, `python -m bench.resume`, `python -m bench.load`,
`python -m bench.first_start`. bench/README.md has what each measures and its results."""
