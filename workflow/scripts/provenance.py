"""provenance.json: commit, versions, device, data checksums and sources, config, start and end time."""
import json
import sys
from pathlib import Path

from spectral.provenance import provenance

sys.stderr = open(snakemake.log[0], "w")
info = provenance(snakemake.input.records, snakemake.input.sources, snakemake.params.config)
Path(snakemake.output[0]).write_text(json.dumps(info, indent=1, default=str))
