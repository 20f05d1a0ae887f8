"""`python -m spectral train`: one model per seed, or exactly one workflow cell (`--protocol`), into --out.

Every default is TrainConfig's or SpectralInit's (one source); with --protocol the cell's settings are the
workflow's (experiments.workflow_cell_config) and each flag given replaces one of them, recorded in every record.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from . import data as data_mod
from .cli import UsageError, check_writable, int_list
from .experiments import EXPERIMENTS, load_config, workflow_cell_config
from .layers import EIGVEC_INITS, SpectralInit
from .models import ACTIVATIONS, EIGVALS, SCHEMES
from .precision import PRECISIONS
from .records import save_run
from .train import OPTIMIZERS, STRATEGIES, TrainConfig, train_cell


def add_train_parser(sub) -> None:
    """The `train` subcommand's flags."""
    t = sub.add_parser("train", help="train one model per seed and write seed<S>.json/.npz into --out; with --protocol, "
                       "exactly one workflow cell (each other flag given overrides one of its settings)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    d, i = TrainConfig(), SpectralInit()  # every default below is TrainConfig's or SpectralInit's (one source)
    cell = t.add_argument_group("a workflow cell (settings from the config's protocol, as Snakemake trains it)")
    cell.add_argument("--protocol", default=None, help="a protocol of --config: train its cell of --dataset, "
                      "--experiment, --scheme and --n2")
    cell.add_argument("--experiment", default=None, choices=EXPERIMENTS, help="the cell's experiment (with --protocol)")
    cell.add_argument("--n2", type=int, default=None, help="the cell's hidden width (with --protocol; 0 for the "
                      "perceptron)")
    cell.add_argument("--config", type=Path, nargs="+", default=[Path("config/config.yaml")], help="the config and "
                      "its overlays, merged as Snakemake merges --configfile")
    t.add_argument("--dataset", default=d.dataset, choices=data_mod.DATASETS, help="dataset")
    t.add_argument("--sizes", type=int_list, default=d.sizes, help="layer sizes, e.g. 784,500,10")
    t.add_argument("--activation", default=d.activation, choices=tuple(ACTIVATIONS), help="hidden activation")
    t.add_argument("--scheme", default=d.scheme, choices=SCHEMES, help="what trains")
    t.add_argument("--eigvals", default=d.eigvals, choices=EIGVALS, help="eigenvalue layout")
    t.add_argument("--eigvals-in-value", type=float, default=None,
                   help="out-only: the fixed lambda_in; unset means 0 (the authors' 2020 code used 1)")
    t.add_argument("--eigvecs-init", default=i.eigvecs, choices=EIGVEC_INITS, help="how phi is drawn: glorot, or "
                   "uniform in (-eigvec-range, +eigvec-range) (the paper protocol's)")
    t.add_argument("--eigvec-range", type=float, default=i.eigvec_range, help="half-width of a uniform phi")
    seeds = t.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="the seed (weights, data order)")
    seeds.add_argument("--seeds", type=int_list, help="several seeds, trained as one ensemble cell")
    t.add_argument("--epochs", type=int, default=d.epochs, help="epochs")
    t.add_argument("--batch-size", type=int, default=d.batch_size, help="batch size")
    t.add_argument("--optimizer", default=d.optimizer, choices=tuple(OPTIMIZERS), help="optimizer")
    t.add_argument("--lr", type=float, default=d.lr, help="learning rate")
    t.add_argument("--validation-fraction", type=float, default=d.validation_fraction, help="share of the training "
                   "split held out")
    t.add_argument("--train-subset", type=int, default=d.train_subset, help="use the first N training images")
    t.add_argument("--test-subset", type=int, default=d.test_subset, help="use the first N test images")
    t.add_argument("--order-seed", type=int, default=d.order_seed, help="share this data order across seeds")
    t.add_argument("--strategy", default="auto", choices=STRATEGIES, help="batched or sequential seeds")
    t.add_argument("--device", default=d.device, help="auto, cpu or cuda[:N]")
    t.add_argument("--precision", default=d.precision, choices=PRECISIONS, help="matmul precision: fp32 (the "
                   "reference) or bf16 (autocast matmuls; refused where torch reports no native bf16 matmul)")
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    t.add_argument("--data-dir", default=d.data_dir, help="directory holding the raw IDX files")
    t.add_argument("--out", required=True, type=Path, help="output directory")
    t.add_argument("--quiet", action="store_true", help="no progress bar")


SETTING_FLAGS = {"dataset": "dataset", "sizes": "sizes", "activation": "activation", "scheme": "scheme",
                 "eigvals": "eigvals", "epochs": "epochs", "batch_size": "batch-size", "optimizer": "optimizer",
                 "lr": "lr", "validation_fraction": "validation-fraction", "train_subset": "train-subset",
                 "test_subset": "test-subset", "order_seed": "order-seed", "device": "device", "data_dir": "data-dir",
                 "precision": "precision"}
INIT_FLAGS = {"eigvals_in_value": "eigvals-in-value", "eigvecs": "eigvecs-init", "eigvec_range": "eigvec-range"}


def given(argv, flag: str) -> bool:
    """Was --flag on the command line (as `--flag V` or `--flag=V`)?"""
    return any(a == f"--{flag}" or a.startswith(f"--{flag}=") for a in argv)


def train_config(args, argv) -> tuple[TrainConfig, dict]:
    """(TrainConfig, overrides): the flags' settings, or with --protocol the workflow cell's with each flag given
    replacing one setting (the overrides, by TrainConfig field, go into every record)."""
    init = {"eigvecs": args.eigvecs_init, "eigvec_range": args.eigvec_range}
    if args.eigvals_in_value is not None:
        init["eigvals_in_value"] = args.eigvals_in_value
    flags = {k: getattr(args, k) for k in SETTING_FLAGS}
    if args.protocol is None:
        if args.experiment is not None or args.n2 is not None:
            raise UsageError("--experiment and --n2 name a workflow cell: give --protocol too")
        return TrainConfig(**flags, init=init), {}
    if args.experiment is None or args.n2 is None:
        raise UsageError("--protocol trains one workflow cell: give --experiment and --n2 too")
    if given(argv, "sizes") or given(argv, "activation"):
        raise UsageError("--sizes and --activation follow from --experiment and --n2 in a workflow cell")
    cfg = workflow_cell_config(load_config(args.config), args.protocol, args.dataset, args.experiment, args.scheme, args.n2)
    overrides = {k: flags[k] for k, flag in SETTING_FLAGS.items() if given(argv, flag) and k not in ("dataset", "scheme")}
    init_overrides = {k: init[k] for k, flag in INIT_FLAGS.items() if given(argv, flag)}
    cfg = dataclasses.replace(cfg, **overrides, init={**cfg.init, **init_overrides})
    return cfg, {**overrides, **{f"init.{k}": v for k, v in init_overrides.items()}}


def run_train(args, argv) -> None:
    cfg, overrides = train_config(args, argv)
    if "eigvals_in_value" in cfg.init and cfg.eigvals != "out-only":
        raise UsageError(f"--eigvals-in-value fixes lambda_in, which only --eigvals out-only does (got {cfg.eigvals})")
    cell = None if args.protocol is None else {"protocol": args.protocol, "dataset": cfg.dataset,
                                               "experiment": args.experiment, "scheme": cfg.scheme, "n2": args.n2,
                                               "config": [str(p) for p in args.config], "overrides": overrides}
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"threads must be >= 1, got {args.threads!r}")
        torch.set_num_threads(args.threads)
    for filename in data_mod.IDX_FILES["train"] + data_mod.IDX_FILES["test"] if cfg.dataset != "cifar10" else ():
        _, path = data_mod.locate(cfg.dataset, filename, cfg.data_dir)
        data_mod.read_idx(path, data_mod.SHA256[cfg.dataset][filename])  # data errors before any output
    check_writable(args.out)
    for record, final, initial in train_cell(cfg, args.seeds or [args.seed], args.strategy, args.quiet):
        if cell is not None:
            record["cli_cell"] = cell  # which workflow cell this is, and which settings the flags replaced
        seed = record["seed"]
        save_run(record, final, initial, args.out / f"seed{seed}.json", args.out / f"seed{seed}.npz")
        print(f"seed {seed}: test accuracy {record['final_test_accuracy']:.4f}, trainable {record['trainable']}, "
              f"{record['wall_time_s']:.1f} s -> {args.out / f'seed{seed}.json'}")
