# Config validation, wildcard constraints and every Python helper of the workflow (get_* / is_*).
from snakemake.utils import validate

validate(config, "../schemas/config.schema.yaml")

import os
import re


import spectral.design
import spectral.experiments

ENV = "../../environment.yml"
OUT = f"output/{config['name']}"  # every output of this config; results/<name>/ holds the published reference
EXPERIMENTS = [e for e in spectral.experiments.EXPERIMENTS if config["experiments"][e]]
FIGURES = ["fig1_operator", "fig2_linear", "fig3_nonlinear", "fig4_weights", "fig5_spectrum"]
TABLES = ["runs", "summary", "weights_distance", "weights_hist", "eigenvalues", "pruning", "operator"]
SPECTRAL_SCHEMES = [s for s in ("spectral-eigvals", "spectral-full") if s in config["schemes"]]
E4_SCHEMES = [s for s in ("spectral-eigvals", "direct-restricted", "direct-full", "spectral-full", "spectral-eigvecs") if s in config["schemes"]]
SENSITIVITY = config["sensitivity"]
PRUNING = config["pruning"]
ALL_PROTOCOLS = sorted(set(config["run_protocols"]) | set(SENSITIVITY["protocols"]) | {PRUNING["protocol"], config["tune"]["protocol"]})
ALL_DATASETS = sorted(set(config["datasets"]) | set(SENSITIVITY["datasets"]))
SPECIFICATION = config["specification"]  # a specification run trains its declared plan's main cells only
CELLS, SEEDS = spectral.design.training_cells(config)  # every training cell by part of the DAG; cell -> seed values
TUNE_WIDTH = config["tune"]["per_width"]
ALL_SCHEMES = sorted(set(config["schemes"]) | set(SENSITIVITY["schemes"]) | {PRUNING["scheme"], PRUNING["baseline_scheme"]})


def is_defined(protocol):
    return protocol in config["protocols"]


_layouts = [config["claims"][k] for k in ("layout_variant", "layout_reference") if config["claims"][k]]
_undefined = [p for p in ALL_PROTOCOLS + _layouts if not is_defined(p)]
if _undefined:
    raise ValueError(f"protocols {_undefined} are named (run_protocols, sensitivity, pruning, tune or claims) but not defined under protocols")
for _key in ("claim_fraction", "area_fraction"):
    if PRUNING[_key] not in PRUNING["fractions"]:
        raise ValueError(f"pruning.{_key} {PRUNING[_key]} must be one of pruning.fractions {PRUNING['fractions']}")


wildcard_constraints:
    protocol="|".join(ALL_PROTOCOLS),
    dataset="|".join(ALL_DATASETS),
    experiment="perceptron|telescopic|nonlinear",
    scheme="|".join(ALL_SCHEMES),
    n2=r"\d+",
    seed=r"\d+",


def is_enabled(experiment):
    return experiment in EXPERIMENTS


def get_cells():
    """(protocol, dataset, experiment, scheme, n2) of every training cell of `all` (the C5 networks included)."""
    return CELLS["main"] + get_pruning_cells()


def get_pruning_cells():
    """The C5 networks: the pruning protocol's nonlinear networks, spectral (pruned by |lambda|) and baseline."""
    return CELLS["pruning"]


def get_sensitivity_cells():
    return CELLS["sensitivity"]


def get_seeds(cell):
    """The seeds of one training cell (protocol, dataset, experiment, scheme, n2): the design's, else config["seeds"]."""
    return SEEDS.get(tuple(cell), config["seeds"])


def cell_path(cell):
    """A training cell's folder below runs/, logs and benchmarks: protocol/dataset/experiment/scheme/nN2."""
    p, d, e, s, n = cell
    return f"{p}/{d}/{e}/{s}/n{n}"


def parse_cell(path):
    """(protocol, dataset, experiment, scheme, n2) of a cell_path."""
    p, d, e, s, n = path.split("/")
    return p, d, e, s, int(n[1:])


def get_seed_groups():
    """{seeds: [cell paths]}: the training cells of every part of the DAG, grouped by their seed list (one train
    rule per group, since a rule's outputs are fixed by its wildcards)."""
    groups = {}
    for cell in sorted({c for part in CELLS.values() for c in part}):
        groups.setdefault(tuple(get_seeds(cell)), []).append(cell_path(cell))
    return groups


def get_run_records(ext="json", experiments=None, schemes=None, cells=None):
    """Per-seed run files of the selected cells (default: get_cells()), experiments and schemes."""
    cells = get_cells() if cells is None else cells
    return [f"{OUT}/runs/{cell_path(c)}/seed{k}.{ext}" for c in cells
            if (experiments is None or c[2] in experiments) and (schemes is None or c[3] in schemes) for k in get_seeds(c)]


def get_npz_keys(experiment, schemes, cells=None):
    """(protocol, dataset, scheme, n2, seed) of each file of get_run_records('npz', [experiment], schemes, cells)."""
    cells = get_cells() if cells is None else cells
    return [(p, d, s, n, k) for p, d, e, s, n in cells if e == experiment and s in schemes
            for k in get_seeds((p, d, e, s, n))]


def get_pruning_sources():
    """Networks pruned: the C5 networks and, as an exploratory panel, the main protocols' spectral nonlinear ones."""
    main = [c for c in get_main_protocol_cells() if c[2] == "nonlinear" and c[3] in SPECTRAL_SCHEMES]
    return main + [c for c in get_pruning_cells() if c not in main]


def get_main_protocol_cells():
    return [c for c in get_cells() if c[0] in config["run_protocols"]]


def get_train_config(wildcards):
    """TrainConfig of one cell (wildcard `cell`, a cell_path): the protocol's choices plus the run-wide settings."""
    return spectral.experiments.workflow_cell_config(config, *parse_cell(wildcards.cell))


def get_train_settings(wildcards):
    """TrainConfig keyword arguments of one cell (a plain dict, so Snakemake reruns a job when one changes)."""
    import dataclasses
    return dataclasses.asdict(get_train_config(wildcards))


def get_train_cost(wildcards):
    """Multiply-adds of one seed's training: 3 x (forward) per sample per epoch (the backward is ~2 forwards)."""
    cfg = get_train_config(wildcards)
    n_train = config["data"]["train_subset"] or 60000
    macs = sum(a * b for a, b in zip(cfg.sizes[:-1], cfg.sizes[1:]))
    return 3 * macs * n_train * cfg.epochs


def get_train_runtime(wildcards):
    """Minutes for one cell: all seeds at a pessimistic 5 GMAC/s, plus 5 minutes of start-up and evaluation."""
    return 5 + int(len(get_seeds(parse_cell(wildcards.cell))) * get_train_cost(wildcards) / 5e9 / 60)


def get_train_priority(wildcards):
    """The cell's N2: Snakemake starts the widest ready cell first, where the training time is and where verdicts fail,
    and, as the widest jobs are the longest, no core idles at the end while one long job runs alone."""
    return parse_cell(wildcards.cell)[4]


def get_train_mem(wildcards):
    """MB: the data on the device, S copies of the model with Adam state, activations of S batches."""
    sizes = get_train_config(wildcards).sizes
    params = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 2000 + int(len(get_seeds(parse_cell(wildcards.cell))) * params * 4 * 6 / 1e6)


def get_tables():
    return [f"{OUT}/tables/{t}.csv" for t in TABLES]


def get_figures():
    return [f"{OUT}/figures/{f}.{ext}" for f in FIGURES for ext in ("png", "pdf")]


def get_sensitivity_outputs():
    return [f"{OUT}/tables/sensitivity.csv", f"{OUT}/tables/sensitivity_verdicts.csv",
            f"{OUT}/figures/sensitivity.png", f"{OUT}/figures/sensitivity.pdf"]


def get_claims_inputs(wildcards):
    """The main run's tables and, when the grid is part of `all`, the sensitivity grid's: one analysis of both."""
    main = {"runs": [f"{OUT}/tables/runs.csv"], "distance": [f"{OUT}/tables/weights_distance.csv"]}
    grid = {"runs": [f"{OUT}/sensitivity/runs.csv"], "distance": [f"{OUT}/sensitivity/weights_distance.csv"]}
    return {k: main[k] + (grid[k] if SENSITIVITY["enabled"] else []) for k in main} | {
        "pruning": f"{OUT}/tables/pruning.csv"}


def get_sensitivity_claims_inputs(wildcards):
    """The grid's tables and, when the grid is part of `all`, the main run's: then its Holm families are the same as
    in claims.csv. Run alone (sensitivity.enabled false), a family holds the grid's cells only (conservative)."""
    grid = {"runs": [f"{OUT}/sensitivity/runs.csv"], "distance": [f"{OUT}/sensitivity/weights_distance.csv"]}
    main = {"runs": [f"{OUT}/tables/runs.csv"], "distance": [f"{OUT}/tables/weights_distance.csv"]}
    return {k: grid[k] + (main[k] if SENSITIVITY["enabled"] else []) for k in grid}


def get_claim_protocols():
    """Protocols whose claims C1-C4 are tested: the main run's first (the robustness reference), then the grid's."""
    extra = [p for p in SENSITIVITY["protocols"] if p not in config["run_protocols"]] if SENSITIVITY["enabled"] else []
    return config["run_protocols"] + extra


def get_final_output():
    if SPECIFICATION:  # its verdicts join it to the primary run (docs/learning-rates.md, specifications)
        return [f"{OUT}/tables/runs.csv", f"{OUT}/provenance.json"]
    outputs = get_tables() + get_figures() + [f"{OUT}/figures/specification_curve.{ext}" for ext in ("png", "pdf")]
    outputs += [f"{OUT}/claims.csv", f"{OUT}/claims.md", f"{OUT}/claim_verdicts.csv",
                                              f"{OUT}/provenance.json", f"{OUT}/figures/README.md",
                                              f"{OUT}/report/verdicts.csv"]
    return outputs + (get_sensitivity_outputs() if SENSITIVITY["enabled"] else [])


def get_test_data_inputs(datasets=None):
    return expand("resources/data/{dataset}/sources.json", dataset=datasets or config["datasets"])


def get_tune_width_settings():
    """The per-width search's settings: its own block, and the base search's seeds, epochs and validation split."""
    base = {k: config["tune"][k] for k in ("epochs", "seeds", "validation_fraction")}
    return base | {k: TUNE_WIDTH[k] for k in ("factors", "max_extensions")}


def get_tune_width_points(wildcards):
    """Every per-width pick's grid file of one protocol: datasets x families x schemes x N2 of tune.per_width."""
    return expand(f"{OUT}/tune/{wildcards.protocol}/width/{{dataset}}/{{family}}/{{scheme}}/n{{n2}}.csv",
                  dataset=config["tune"]["datasets"], family=TUNE_WIDTH["families"], scheme=config["schemes"],
                  n2=TUNE_WIDTH["n2"])
