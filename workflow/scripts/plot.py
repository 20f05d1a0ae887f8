"""Draw one figure (params.plot names the function in spectral.plots) from its input tables.

Tables with a protocol column are restricted to params.protocol (the main protocol) when one is given.
"""
import sys

import pandas as pd

from spectral import plots

sys.stderr = open(snakemake.log[0], "w")
tables = [pd.read_csv(path) for path in snakemake.input]
protocol = snakemake.params.protocol
tables = [t[t["protocol"] == protocol] if protocol and "protocol" in t else t for t in tables]
options = snakemake.params.get("options", None) or {}  # keyword arguments of the plot function, if the rule has any
getattr(plots, snakemake.params.plot)(*tables, snakemake.output.png, snakemake.output.pdf, **options)
