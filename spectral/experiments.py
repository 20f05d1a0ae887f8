"""Training cells and protocols: the one place that turns (protocol, dataset, experiment, scheme, N2) into a run.

Experiments (our reading of Giambagli et al. 2021: its abstract and introduction name linear and nonlinear
feed-forward networks; its Figs 2-3 could not be read):
- "perceptron": input -> classes, identity (N2 = 0 stands for "no hidden layer").
- "telescopic": input -> N2 -> classes with identity activations, retracted to a perceptron after training.
- "nonlinear": input -> N2 -> classes with the protocol's `nonlinear_activation`.
Families group experiments for learning rates: "linear" (the perceptron), "telescopic" (tuned on its own: at the
perceptron's rates direct-full training of the deep linear stack falls below the perceptron as N2 grows, so C4
would compare an untuned reference) and "nonlinear".

A protocol is a named set of choices (config/config.yaml, `protocols:`): eigenvalue layout (`eigvals`), the
initialisation (`init`, SpectralInit fields), `nonlinear_activation`, `optimizer`, `batch_size`, `epochs`, and a
learning-rate table `lr` whose keys are `scheme`, `scheme/family`, `scheme/family/dataset` or
`scheme/family/dataset/nN2` (a per-width pick); the most specific key present wins, so a tuned overlay can refine one scheme on one dataset without restating the rest.
"""
from __future__ import annotations

from pathlib import Path

from . import data as data_mod
from .train import TrainConfig

EXPERIMENTS = ("perceptron", "telescopic", "nonlinear")
FAMILIES = {"perceptron": "linear", "telescopic": "telescopic", "nonlinear": "nonlinear"}
FAMILY_EXPERIMENT = {family: experiment for experiment, family in FAMILIES.items()}  # the network each family tunes
PROTOCOL_KEYS = ("eigvals", "init", "nonlinear_activation", "optimizer", "batch_size", "epochs", "lr")


def merge_config(base: dict, overlay: dict) -> dict:
    """`overlay` merged into `base` as Snakemake merges a --configfile: nested keys merge, other values replace."""
    for key, value in overlay.items():
        below = base.get(key)  # a value that is no mapping (null) is replaced by the overlay's mapping, as Snakemake does
        base[key] = merge_config(dict(below) if isinstance(below, dict) else {}, value) if isinstance(value, dict) \
            else value
    return base


def load_config(paths) -> dict:
    """The config of `paths` (a config and its overlays), each merged over the ones before it; a missing file raises
    ValueError naming it. YAML is read with yaml.safe_load."""
    import yaml
    config = {}
    for path in map(Path, paths):
        if not path.is_file():
            raise ValueError(f"config {path} does not exist")
        config = merge_config(config, yaml.safe_load(path.read_text()))
    return config


def check_experiment(experiment: str) -> str:
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {experiment!r}")
    return experiment


def cell_sizes(dataset: str, experiment: str, n2: int) -> list[int]:
    """Layer sizes of a cell; the perceptron has no hidden layer and takes n2 = 0."""
    n_in, n_out = data_mod.NUM_FEATURES[data_mod.check_dataset(dataset)], data_mod.NUM_CLASSES[dataset]
    if check_experiment(experiment) == "perceptron":
        if n2 != 0:
            raise ValueError(f"the perceptron has no hidden layer: N2 must be 0, got {n2!r}")
        return [n_in, n_out]
    if n2 < 1:
        raise ValueError(f"{experiment} needs a hidden layer: N2 must be >= 1, got {n2!r}")
    return [n_in, n2, n_out]


def cell_activation(experiment: str, nonlinear_activation: str) -> str:
    return nonlinear_activation if check_experiment(experiment) == "nonlinear" else "identity"


def classify(sizes, activation: str) -> tuple[str, int]:
    """(experiment, N2) of a run from its sizes and activation: the inverse of cell_sizes/cell_activation."""
    if len(sizes) == 2:
        return "perceptron", 0
    if len(sizes) != 3:
        raise ValueError(f"the experiments have one or two layers, got sizes {list(sizes)!r}")
    return ("telescopic" if activation == "identity" else "nonlinear"), int(sizes[1])


def learning_rate(lr: dict, scheme: str, experiment: str, dataset: str, n2: int | None = None) -> float:
    """The most specific of lr['scheme/family/dataset/nN2'] (a per-width pick; never for the perceptron, which has
    no width), lr['scheme/family/dataset'], lr['scheme/family'], lr['scheme']."""
    family = FAMILIES[check_experiment(experiment)]
    width = [f"{scheme}/{family}/{dataset}/n{n2}"] if n2 and experiment != "perceptron" else []
    for key in (*width, f"{scheme}/{family}/{dataset}", f"{scheme}/{family}", scheme):
        if key in lr:
            return float(lr[key])
    raise ValueError(f"the protocol's lr table has no rate for {scheme!r} ({family}, {dataset}); "
                     f"add one of {scheme!r}, {scheme + '/' + family!r}")


def check_protocol(name: str, protocol: dict) -> dict:
    missing = [k for k in PROTOCOL_KEYS if k not in protocol]
    if missing:
        raise ValueError(f"protocol {name!r} lacks {missing!r}")
    return protocol


def cell_config(protocol: dict, dataset: str, experiment: str, scheme: str, n2: int, **run) -> TrainConfig:
    """TrainConfig of one cell under `protocol`; `run` holds the protocol-independent settings (subsets, device...)."""
    check_protocol(f"for {dataset} {experiment} {scheme}", protocol)
    init = {k: v for k, v in protocol["init"].items() if v is not None}
    return TrainConfig(dataset=dataset, sizes=cell_sizes(dataset, experiment, n2), scheme=scheme,
                       eigvals=protocol["eigvals"], init=init,
                       activation=cell_activation(experiment, protocol["nonlinear_activation"]),
                       epochs=protocol["epochs"], batch_size=protocol["batch_size"], optimizer=protocol["optimizer"],
                       lr=learning_rate(protocol["lr"], scheme, experiment, dataset, n2), **run)


def cell_n2s(experiment: str, n2s) -> list[int]:
    """N2 values of an experiment's cells; 0 stands for 'no hidden layer' (the perceptron)."""
    return [0] if check_experiment(experiment) == "perceptron" else list(n2s)


def config_cells(config: dict) -> dict[str, list[tuple]]:
    """(protocol, dataset, experiment, scheme, N2) of every training cell a validated config names: `main` (every
    run protocol), `pruning` (C5's spectral and baseline networks) and `sensitivity` (the grid, trained when enabled
    or asked for by its target)."""
    experiments = [e for e in EXPERIMENTS if config["experiments"][e]]
    main = [(p, d, e, s, n) for p in config["run_protocols"] for d in config["datasets"] for e in experiments
            for s in config["schemes"] for n in cell_n2s(e, config["n2"])]
    pr = config["pruning"]
    pruning = [(pr["protocol"], d, "nonlinear", s, n) for d in config["datasets"]
               for s in (pr["scheme"], pr["baseline_scheme"]) for n in pr["n2"]]
    grid = config["sensitivity"]
    sensitivity = [(p, d, e, s, n) for p in grid["protocols"] for d in grid["datasets"] for e in EXPERIMENTS
                   for s in grid["schemes"] for n in cell_n2s(e, grid["n2"])]
    return {"main": main, "pruning": pruning, "sensitivity": sensitivity}



def workflow_cell_config(config: dict, protocol: str, dataset: str, experiment: str, scheme: str, n2: int) -> TrainConfig:
    """TrainConfig of one cell of a validated workflow config: the protocol's choices plus the run-wide settings (the
    workflow's get_train_config and `python -m spectral train --protocol` both call this)."""
    if protocol not in config["protocols"]:
        raise ValueError(f"protocol must be one of {sorted(config['protocols'])}, got {protocol!r}")
    return cell_config(config["protocols"][protocol], dataset, experiment, scheme, n2,
                       validation_fraction=config["validation_fraction"], train_subset=config["data"]["train_subset"],
                       test_subset=config["data"]["test_subset"], order_seed=config["ensemble"]["order_seed"],
                       device=config["device"], data_dir=config["data"]["dir"], precision=config["precision"])
