"""Seed ensembles: train the S seeds of one cell (same data, sizes, scheme, settings) in one process.

Two strategies, equal in result to training each seed alone (same init, same validation split, same batch
order; equal within float tolerance because batched and single matmuls round differently):
- "vmap": torch.func.stack_module_state + vmap(functional_call): every step runs all S members as one batched
  computation, the loss is the sum of the members' mean losses, and one optimizer steps the stacked
  parameters. Adam, Adamax and SGD act elementwise, so each member follows exactly its own trajectory.
  With a shared data order (`order_seed`) the input batch is shared, not stacked.
- "sequential": `train_single` once per seed, reusing the loaded data.
"auto" picks vmap on CUDA, and on CPU when the widest hidden layer is at most `VMAP_MAX_HIDDEN` (measured by
`benchmarks/bench.py`: batched matmuls lose to one large GEMM per seed once layers are wide).
"""
from __future__ import annotations

import copy
import time

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from .models import build_model
from .train import (OPTIMIZERS, Data, TrainConfig, data_seed, epoch_batches, epoch_metrics, load_data, make_record,
                    resolve_device, snapshot, split_indices, train_single)

STRATEGIES = ("auto", "vmap", "sequential")
VMAP_MAX_HIDDEN = 200  # CPU threshold on the widest hidden layer; see benchmarks/bench.py (ensemble table)


def choose_strategy(cfg: TrainConfig, n_seeds: int, device: torch.device) -> str:
    """The strategy "auto" resolves to for this cell."""
    if n_seeds == 1:
        return "sequential"
    if device.type == "cuda":
        return "vmap"
    return "vmap" if max(cfg.sizes[1:-1], default=0) <= VMAP_MAX_HIDDEN else "sequential"


def train_cell(cfg: TrainConfig, seeds, strategy: str = "auto", quiet: bool = False):
    """Train every seed of a cell; returns [(record, final arrays, initial arrays)] in `seeds` order."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    device = resolve_device(cfg.device)
    data = load_data(cfg, device)
    if strategy == "auto":
        strategy = choose_strategy(cfg, len(seeds), device)
    if strategy == "vmap":
        return train_vmap(cfg, seeds, data, quiet)
    return train_sequential(cfg, seeds, data, quiet)


def train_sequential(cfg: TrainConfig, seeds, data: Data, quiet: bool = False):
    """One `train_single` per seed on already-loaded data; same return value as `train_vmap`."""
    out = []
    for seed in seeds:
        model, record, initial = train_single(cfg, seed, data, quiet)
        out.append((record, snapshot(model), initial))
    return out


def train_vmap(cfg: TrainConfig, seeds: list[int], data: Data, quiet: bool = False):
    """All members at once through torch.func.vmap; see the module docstring."""
    device = data.x_train.device
    start = time.perf_counter()
    models = [build_model(cfg.sizes, cfg.scheme, cfg.activation, s, device=device, **cfg.init) for s in seeds]
    initials = [snapshot(m) for m in models]
    params, buffers = stack_module_state(models)  # each (S, ...)
    base = copy.deepcopy(models[0]).to("meta")
    shared = cfg.order_seed is not None

    def member(p, b, x):
        return functional_call(base, (p, b), (x,))

    forward = vmap(member, in_dims=(0, 0, None if shared else 0))
    opt = OPTIMIZERS[cfg.optimizer]([p for p in params.values() if p.requires_grad], lr=cfg.lr)
    splits = [split_indices(len(data.y_train), cfg.validation_fraction, data_seed(s, cfg)) for s in seeds]
    orders = [torch.Generator().manual_seed(data_seed(s, cfg)) for s in seeds]
    n_train, S = len(splits[0][0]), len(seeds)
    histories = [[] for _ in seeds]
    for epoch in tqdm(range(1, cfg.epochs + 1), desc=f"{cfg.scheme} x{S} (vmap)", disable=True if quiet else None):
        t0 = time.perf_counter()
        loss_sum, correct = torch.zeros(S, device=device), torch.zeros(S, device=device)
        member_batches = [epoch_batches(tr, cfg.batch_size, g, device) for (tr, _), g in zip(splits, orders)]
        for idx in zip(*member_batches):
            idx = torch.stack(idx)  # (S, B)
            x = data.x_train[idx[0]] if shared else data.x_train[idx]  # (B, F) shared or (S, B, F)
            y = data.y_train[idx]  # (S, B)
            logits = forward(params, buffers, x)  # (S, B, C)
            losses = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none")
            losses = losses.view(S, -1).mean(1)  # (S,) each member's mean batch loss
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            loss_sum += losses.detach() * idx.shape[1]
            correct += (logits.argmax(-1) == y).sum(1)
        seconds = time.perf_counter() - t0
        unstack(params, models)
        for s, model in enumerate(models):
            histories[s].append(epoch_metrics(epoch, loss_sum[s].item() / n_train, correct[s].item() / n_train,
                                              model, data, splits[s][1], seconds / S))
    wall = (time.perf_counter() - start) / S  # each member's share of the ensemble's time
    return [(make_record(cfg, s, m, data, h, split[0], wall, "vmap", S), snapshot(m), init)
            for s, m, h, split, init in zip(seeds, models, histories, splits, initials)]


@torch.no_grad()
def unstack(params: dict, models: list[nn.Module]) -> None:
    """Copy member s of every stacked parameter back into models[s]."""
    for s, model in enumerate(models):
        for name, p in model.named_parameters():
            p.copy_(params[name][s])

