"""Is CONFIG (one file, or an overlay list merged as Snakemake merges --configfile) a valid config? One line if not.

Like Snakemake, it starts from the Snakefile's configfile (config/config.yaml in the working directory) and merges
each file over it.

    python tools/check_config.py config/config.yaml [config/quick.yaml ...]

Exit 0 when the merged config parses and validates against workflow/schemas/config.schema.yaml; else exit 2 with
one line naming the file or the first schema violation. `make reproduce` runs it before Snakemake starts.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from spectral.experiments import merge_config  # noqa: E402


BASE = Path("config/config.yaml")  # the Snakefile's own configfile, which every --configfile is merged over


def problem(paths) -> str | None:
    """What is wrong with the config Snakemake would run in this directory with `paths`, or None: BASE (when it
    exists here) with each of `paths` merged over it."""
    config = {}
    for path in ([BASE] if BASE.is_file() else []) + [Path(p) for p in paths]:
        if not path.is_file():
            return f"config {path} does not exist"
        try:
            overlay = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            return f"config {path} is not valid YAML: {str(err).splitlines()[0]}"
        if not isinstance(overlay, dict):
            return f"config {path} is not a mapping of keys to values"
        config = merge_config(config, overlay)
    import jsonschema
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(config))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "top level"
        return f"config {' '.join(map(str, paths))}: {where}: {error.message}"
    spec = config.get("specification") or {}
    if re.search(r"per[- ]width", f"{spec.get('choice', '')} {spec.get('value', '')}"):  # per-width rates or picks
        lr = config["protocols"][config["run_protocols"][0]].get("lr", {})
        bare = [s for s in config["schemes"] if not any(re.fullmatch(rf"{re.escape(s)}/[^/]+/[^/]+/n\d+", k) for k in lr)]
        if bare:
            return (f"config {' '.join(map(str, paths))}: a specification at per-width rates, but {bare[0]} has no "
                    "per-width rate (lr keys scheme/family/dataset/nN2): add its search's lr.yaml first")
    if config.get("design") and not Path(config["design"]).is_file():
        return (f"config {' '.join(map(str, paths))}: its seed plan {config['design']} does not exist (a plan is "
                "declared before its run: docs/verdict-rule.md)")
    return None


def main(argv=None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    found = problem(paths) if paths else "no config given"
    if found:
        print(f"error: {found}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
