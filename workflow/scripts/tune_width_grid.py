"""Gather the per-width picks into one grid, a config overlay (keys scheme/family/dataset/nN2) and a table."""
import sys
from pathlib import Path

import pandas as pd
import yaml

from spectral.tune import width_overlay, width_table

sys.stderr = open(snakemake.log[0], "w")
grid = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
grid.to_csv(snakemake.output.grid, index=False)
Path(snakemake.output.lrs).write_text(f"# Written by the tune_width_grid rule ({snakemake.wildcards.protocol}): the "
                                      "per-width picks; use with --configfile\n"
                                      + yaml.safe_dump(width_overlay(snakemake.wildcards.protocol, grid), sort_keys=True))
Path(snakemake.output.table).write_text(f"# Per-width learning-rate picks ({snakemake.wildcards.protocol})\n\n"
                                        "Written by the tune_width_grid rule from grid.csv (docs/learning-rates.md)."
                                        "\n\n" + width_table(grid) + "\n")
