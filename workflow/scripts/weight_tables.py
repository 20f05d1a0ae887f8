"""Distances between weight distributions and their pooled histograms."""
import sys

from spectral.analysis import load_weights, weight_distances, weight_histograms

sys.stderr = open(snakemake.log[0], "w")
weights = load_weights(snakemake.input, snakemake.params.run_keys)
weight_distances(weights).to_csv(snakemake.output.distance, index=False)
weight_histograms(weights).to_csv(snakemake.output.hist, index=False)
