"""Gather the per-width picks into one grid and a config overlay (keys scheme/family/dataset/nN2)."""
import sys
from pathlib import Path

import pandas as pd
import yaml

from spectral.tune import width_overlay

sys.stderr = open(snakemake.log[0], "w")
grid = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
grid.to_csv(snakemake.output.grid, index=False)
Path(snakemake.output.lrs).write_text(f"# Written by the tune_width_grid rule ({snakemake.wildcards.protocol}): the "
                                      "per-width picks; use with --configfile\n"
                                      + yaml.safe_dump(width_overlay(snakemake.wildcards.protocol, grid), sort_keys=True))
