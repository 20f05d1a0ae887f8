"""Tests for spectral.experiments: cells, protocols and the learning-rate table."""
import copy
from pathlib import Path

import pytest
import yaml

from spectral.experiments import EXPERIMENTS, cell_config, cell_sizes, classify, learning_rate
from spectral.models import count_trainable, expected_trainable
from spectral.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["protocols"]


@pytest.mark.parametrize("experiment,n2", [("perceptron", 0), ("telescopic", 20), ("nonlinear", 300)])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_classify_inverts_the_cell(experiment, n2, activation):
    """sizes and activation of a cell map back to its experiment and N2."""
    cfg = cell_config({**PROTOCOLS["paper"], "nonlinear_activation": activation}, "mnist", experiment,
                      "spectral-eigvals", n2)
    assert classify(cfg.sizes, cfg.activation) == (experiment, n2)
    assert cfg.sizes == cell_sizes("mnist", experiment, n2)


def test_bad_cells_are_refused():
    with pytest.raises(ValueError, match="N2 must be 0"):
        cell_sizes("mnist", "perceptron", 10)
    with pytest.raises(ValueError, match="N2 must be >= 1"):
        cell_sizes("mnist", "nonlinear", 0)
    with pytest.raises(ValueError, match="experiment must be one of"):
        cell_sizes("mnist", "deep", 10)


def test_most_specific_learning_rate_wins():
    lr = {"direct-full": 0.1, "direct-full/nonlinear": 0.01, "direct-full/nonlinear/fashion-mnist": 0.003}
    assert learning_rate(lr, "direct-full", "perceptron", "mnist") == 0.1
    assert learning_rate(lr, "direct-full", "nonlinear", "mnist") == 0.01
    assert learning_rate(lr, "direct-full", "nonlinear", "fashion-mnist") == 0.003
    assert learning_rate(lr, "direct-full", "telescopic", "fashion-mnist") == 0.1
    with pytest.raises(ValueError, match="no rate for 'spectral-full'"):
        learning_rate(lr, "spectral-full", "perceptron", "mnist")


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_shipped_protocol_builds_every_cell(name):
    """Each protocol of config.yaml gives a valid TrainConfig and the layout's trainable count in every cell."""
    from spectral.models import build_model
    protocol = PROTOCOLS[name]
    for experiment in EXPERIMENTS:
        for scheme in ("spectral-eigvals", "spectral-full", "direct-restricted"):
            cfg = cell_config(protocol, "mnist", experiment, scheme, 0 if experiment == "perceptron" else 30)
            assert cfg.eigvals == protocol["eigvals"] and cfg.optimizer == protocol["optimizer"]
            model = build_model(cfg.sizes, cfg.scheme, cfg.activation, 0, eigvals=cfg.eigvals, **cfg.init)
            assert count_trainable(model) == expected_trainable(cfg.sizes, scheme, cfg.eigvals)


def test_authors_2020_follows_the_notebook():
    """SpectralLearning.ipynb@39a4c47: Adamax, batch 5000, 20 epochs, tanh; 0.05 linear, 0.03 / 0.01 nonlinear."""
    p = PROTOCOLS["authors-2020"]
    eig = cell_config(p, "mnist", "nonlinear", "spectral-eigvals", 100)
    vec = cell_config(p, "mnist", "nonlinear", "spectral-eigvecs", 100)
    lin = cell_config(p, "mnist", "perceptron", "spectral-eigvals", 0)
    assert (eig.optimizer, eig.batch_size, eig.epochs, eig.activation) == ("adamax", 5000, 20, "tanh")
    assert (lin.lr, eig.lr, vec.lr) == (0.05, 0.03, 0.01)
    assert eig.eigvals == "out-only" and eig.init["eigvals_in_value"] == 1.0 and lin.activation == "identity"


def test_bad_init_is_refused_before_training():
    with pytest.raises(ValueError, match="init keys must be SpectralInit fields"):
        TrainConfig(init={"eigvec_rnage": 0.2})
    with pytest.raises(ValueError, match="eigvals must be one of"):
        TrainConfig(eigvals="per-edge")


def test_an_overlay_mapping_replaces_a_null_as_snakemake_merges_it():
    """config.yaml's `specification: null` under a specification overlay's mapping: the mapping wins (Snakemake's
    update_config does the same), nested keys still merge, and a scalar still replaces."""
    from snakemake.utils import update_config

    from spectral.experiments import load_config, merge_config
    base = {"specification": None, "claims": {"alpha": 0.05, "margins": [1]}, "name": "paper"}
    overlay = {"specification": {"primary": "results/paper"}, "claims": {"alpha": 0.01}, "name": "x"}
    ours = merge_config(copy.deepcopy(base), overlay)
    theirs = copy.deepcopy(base)
    update_config(theirs, overlay)
    assert ours == theirs == {"specification": {"primary": "results/paper"}, "claims": {"alpha": 0.01, "margins": [1]},
                              "name": "x"}
    for overlay_file in ("config/eigvecs-glorot.yaml", "config/bf16-check.yaml"):
        assert load_config(["config/config.yaml", overlay_file])["specification"]["primary"] == "results/paper"
