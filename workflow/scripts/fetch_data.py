"""Fill resources/data/<dataset>/ with verified files; record where each came from."""
import json
import sys
from pathlib import Path

from spectral.data import fetch

sys.stderr = open(snakemake.log[0], "w")
out = Path(snakemake.output[0])
sources = fetch(snakemake.wildcards.dataset, snakemake.params.data_dir, cache=out.parent.parent,
                log=lambda line: print(line, file=sys.stderr))
out.write_text(json.dumps(sources, indent=1))
