"""runs.csv (one row per trained model) and summary.csv (mean and 95 % CI per cell)."""
import sys

from spectral.analysis import gather_runs, summarize

sys.stderr = open(snakemake.log[0], "w")
runs = gather_runs(snakemake.input)
runs.to_csv(snakemake.output.runs, index=False)
summarize(runs).to_csv(snakemake.output.summary, index=False)
