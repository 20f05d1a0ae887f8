# Config validation, wildcard constraints and every Python helper of the workflow (get_* / is_*).
from snakemake.utils import validate

validate(config, "../schemas/config.schema.yaml")

import spectral.data

ENV = "../../environment.yml"
EXPERIMENTS = [e for e in ("perceptron", "telescopic", "nonlinear") if config["experiments"][e]]
FIGURES = ["fig1_operator", "fig2_linear", "fig3_nonlinear", "fig4_weights", "fig5_spectrum"]
TABLES = ["runs", "summary", "weights_distance", "weights_hist", "eigenvalues", "pruning", "operator"]
SPECTRAL_SCHEMES = [s for s in ("spectral-eigvals", "spectral-full") if s in config["schemes"]]
E4_SCHEMES = [s for s in ("spectral-eigvals", "direct-restricted", "direct-full", "spectral-full", "spectral-eigvecs") if s in config["schemes"]]


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    experiment="perceptron|telescopic|nonlinear",
    scheme="|".join(config["schemes"]),
    n2=r"\d+",
    seed=r"\d+",


def is_enabled(experiment):
    return experiment in EXPERIMENTS


def get_n2s(experiment):
    """N2 values of an experiment; 0 stands for 'no hidden layer' (the perceptron)."""
    return [0] if experiment == "perceptron" else config["hidden_sizes"]


def get_cells():
    """(dataset, experiment, scheme, n2) of every training cell."""
    return [(d, e, s, n) for d in config["datasets"] for e in EXPERIMENTS for s in config["schemes"] for n in get_n2s(e)]


def get_run_records(ext="json", experiments=None, schemes=None):
    """Per-seed run files of the selected experiments and schemes."""
    return [f"results/runs/{d}/{e}/{s}/n{n}/seed{k}.{ext}" for d, e, s, n in get_cells()
            if (experiments is None or e in experiments) and (schemes is None or s in schemes) for k in config["seeds"]]


def get_sizes(wildcards):
    n_in, n_out = spectral.data.NUM_FEATURES[wildcards.dataset], spectral.data.NUM_CLASSES[wildcards.dataset]
    n2 = int(wildcards.n2)
    return [n_in, n_out] if wildcards.experiment == "perceptron" else [n_in, n2, n_out]


def get_activation(wildcards):
    return {"perceptron": "identity", "telescopic": "identity"}.get(wildcards.experiment, config["nonlinear_activation"])


def get_train_settings(wildcards):
    """TrainConfig keyword arguments of one cell."""
    hp = config["training"][wildcards.scheme]
    return dict(dataset=wildcards.dataset, sizes=get_sizes(wildcards), scheme=wildcards.scheme,
                activation=get_activation(wildcards), epochs=hp["epochs"], batch_size=hp["batch_size"],
                optimizer=hp["optimizer"], lr=hp["lr"], validation_fraction=config["validation_fraction"],
                train_subset=config["data"]["train_subset"], test_subset=config["data"]["test_subset"],
                order_seed=config["ensemble"]["order_seed"], device=config["device"], data_dir=config["data"]["dir"])


def get_train_cost(wildcards):
    """Multiply-adds of one seed's training: 3 x (forward) per sample per epoch (the backward is ~2 forwards)."""
    sizes = get_sizes(wildcards)
    n_train = config["data"]["train_subset"] or 60000
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 3 * macs * n_train * config["training"][wildcards.scheme]["epochs"]


def get_train_runtime(wildcards):
    """Minutes for one cell: all seeds at a pessimistic 5 GMAC/s, plus 5 minutes of start-up and evaluation."""
    return 5 + int(len(config["seeds"]) * get_train_cost(wildcards) / 5e9 / 60)


def get_train_mem(wildcards):
    """MB: the data on the device, S copies of the model with Adam state, activations of S batches."""
    sizes = get_sizes(wildcards)
    params = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 2000 + int(len(config["seeds"]) * params * 4 * 6 / 1e6)


def get_tables():
    return [f"results/tables/{t}.csv" for t in TABLES]


def get_figures():
    return [f"results/figures/{f}.{ext}" for f in FIGURES for ext in ("png", "pdf")]


def get_final_output():
    return get_tables() + get_figures() + ["results/claims.csv", "results/claims.md", "results/provenance.json",
                                           "results/figures/README.md"]


def get_npz_keys(experiment, schemes):
    """(dataset, scheme, n2, seed) of each run file listed by get_run_records(ext='npz', ...), in the same order."""
    return [(d, s, n, k) for d, e, s, n in get_cells() if e == experiment and s in schemes for k in config["seeds"]]


def get_test_data_inputs():
    return expand("resources/data/{dataset}/sources.json", dataset=config["datasets"])
