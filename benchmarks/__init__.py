"""Measurements the README reports; each module has a ``main()`` that prints a Markdown
table and returns its rows (``python -m benchmarks.<module>``)."""
