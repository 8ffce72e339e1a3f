"""Developer tools (vector generation, benchmarks, metrics); not part of the installed package."""
