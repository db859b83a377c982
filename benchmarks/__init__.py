"""Measurements the README reports; each module has a ``main()`` that prints a Markdown
table and returns its rows (``python -m benchmarks.<module>``).

``python -m benchmarks`` runs them all and writes one combined table to
``benchmarks/results.md`` (see ``__main__``).  For that table a module's rows are
condensed into *figure, value, target, pass/fail*: rows that already carry ``figure``,
``value`` (or a display string ``shown``), ``target`` and ``ok`` are taken as they are;
a module whose rows look otherwise can define ``summary(rows)`` returning such rows,
and ``QUICK_ARGS`` (a list of arguments for ``main``) for the runner's ``--quick``.
"""
