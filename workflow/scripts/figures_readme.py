"""figures/README.md: which paper figure and claim each figure reproduces."""
import sys
from pathlib import Path

from spectral.plots import figures_readme

sys.stderr = open(snakemake.log[0], "w")
Path(snakemake.output[0]).write_text(figures_readme())
