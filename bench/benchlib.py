"""Helpers shared by the benchmark scripts of this folder."""

import os


def backend_cpu(cr):
    """A function reading the CPU time (s) of ``cr``'s PostgreSQL backend from
    /proc/<pid>/schedstat, or 0.0 if PostgreSQL runs on another host."""
    cr.execute("SELECT pg_backend_pid()")
    path = f"/proc/{cr.fetchone()[0]}/schedstat"
    if not os.path.exists(path):
        return lambda: 0.0

    def read():
        with open(path) as stat:
            return int(stat.read().split()[0]) / 1e9

    return read
