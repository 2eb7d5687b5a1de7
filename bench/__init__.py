"""`make bench`: the application under gunicorn and PostgreSQL, driven over loopback.

`bench.run` prepares the databases, seeds them (`seed_bench`), serves them with gunicorn
and measures every operation with `bench.loadgen`, in a process of its own, and the CPU the
server spent on it with `bench.cpu`; `bench.report` renders the table written to
`bench/results/latest.md`; `bench.profile` profiles one operation with pyinstrument.
"""
