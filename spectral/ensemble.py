"""Seed ensembles: train the S seeds of one cell (same data, sizes, scheme, settings) in one process.

Two strategies, equal in result to training each seed alone (same init, validation split and batch order;
equal within float tolerance, because batched and single matmuls round differently):
- "batched": the S members' parameters are stacked (`Stacked`), every layer runs as one batched matmul
  (torch.bmm over per-seed batches, or one wide GEMM when all seeds share the batch order), the loss is the
  sum of the members' mean losses, and one optimizer steps the stacked tensors. Adam, Adamax and SGD act
  elementwise, so each member follows exactly its own trajectory. Evaluation is batched the same way.
- "sequential": `train_single` once per seed, reusing the loaded data.
"auto" picks "batched" on CUDA, and on CPU while the widest hidden layer is at most the measured threshold
(`benchmarks/bench.py`, ensemble table): per-seed batch orders must gather S input batches, which costs more
than it saves once layers are wide; a shared order reads each batch once. torch.func's stack_module_state +
vmap was measured first and lost to this (1.17x at N2 = 10, 0.95x at N2 = 100 over sequential), so it is not used.
"""
from __future__ import annotations

import time

import torch
from torch import nn
from tqdm.auto import tqdm

from .layers import RestrictedLinear, SpectralLinear, restricted_weight, spectral_weight
from .models import build_model
from .train import (EVAL_CHUNK, OPTIMIZERS, Data, TrainConfig, data_seed, epoch_batches, epoch_metrics, load_data,
                    make_record, resolve_device, snapshot, split_indices, train_single)

STRATEGIES = ("auto", "batched", "sequential")
# CPU thresholds on the widest hidden layer, from bench.py on 2 cores (5 seeds, batch 300, two runs): batched over
# sequential throughput 1.28-1.63x / 1.24-1.47x / 0.92-1.07x / 0.94-0.95x at N2 = 10 / 100 / 500 / 2000 with
# per-seed orders, and 2.73-3.27x / 1.59-1.71x / 1.04-1.12x / 0.94-1.01x with a shared order.
MAX_HIDDEN = {"per-seed": 100, "shared": 500}
_TENSORS = {SpectralLinear: ("eigvecs", "eigvals_in", "eigvals_out", "bias"),
            RestrictedLinear: ("frozen_weight", "index", "values", "bias"), nn.Linear: ("weight", "bias")}


def choose_strategy(cfg: TrainConfig, n_seeds: int, device: torch.device) -> str:
    """The strategy "auto" resolves to for this cell."""
    if n_seeds == 1:
        return "sequential"
    if device.type == "cuda":
        return "batched"
    limit = MAX_HIDDEN["per-seed" if cfg.order_seed is None else "shared"]
    return "batched" if max(cfg.sizes[1:-1], default=0) <= limit else "sequential"


class Stacked(nn.Module):
    """S models of one architecture (from `build_model`) as stacked tensors, run as batched matmuls."""

    def __init__(self, models: list[nn.Sequential]):
        super().__init__()
        self.layout = []  # per position: (layer type, in, out) or an activation module
        self.aliases = {}  # "i_name" -> the registered name of a tensor shared with an earlier layer (per-node)
        seen = {}  # id of member 0's tensor -> its registered name
        for i, module in enumerate(models[0]):
            kind = type(module)
            if kind not in _TENSORS:
                self.layout.append(module)
                continue
            self.layout.append((kind, module.in_features, module.out_features))
            for name in _TENSORS[kind]:
                members = [getattr(m[i], name) for m in models]
                if members[0] is None:
                    continue
                if id(members[0]) in seen:
                    self.aliases[f"{i}_{name}"] = seen[id(members[0])]
                    continue
                seen[id(members[0])] = f"{i}_{name}"
                stacked = torch.stack([t.detach() for t in members])  # (S, ...)
                if isinstance(members[0], nn.Parameter):
                    self.register_parameter(f"{i}_{name}", nn.Parameter(stacked, members[0].requires_grad))
                else:
                    self.register_buffer(f"{i}_{name}", stacked)

    def _get(self, i: int, name: str):
        key = f"{i}_{name}"
        return getattr(self, self.aliases.get(key, key), None)

    def weight(self, i: int) -> torch.Tensor:
        """Direct-space weights of layer position i, (S, out, in)."""
        kind = self.layout[i][0]
        if kind is SpectralLinear:
            return spectral_weight(self._get(i, "eigvecs"), self._get(i, "eigvals_in"), self._get(i, "eigvals_out"))
        if kind is RestrictedLinear:
            return restricted_weight(self._get(i, "frozen_weight"), self._get(i, "index"), self._get(i, "values"))
        return self._get(i, "weight")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, F) shared by all members or (S, B, F) per member -> logits (S, B, C)."""
        h = x
        for i, item in enumerate(self.layout):
            if not isinstance(item, tuple):
                h = item(h)
                continue
            _, n_in, n_out = item
            w = self.weight(i)  # (S, out, in)
            if h.dim() == 2:  # one wide GEMM: (B, in) @ (in, S*out)
                h = (h @ w.reshape(-1, n_in).T).view(h.shape[0], -1, n_out).transpose(0, 1)  # (S, B, out)
            else:
                h = torch.bmm(h, w.transpose(1, 2))  # (S, B, out)
            bias = self._get(i, "bias")
            if bias is not None:
                h = h + bias[:, None, :]
        return h

    @torch.no_grad()
    def unstack_into(self, models: list[nn.Sequential]) -> None:
        """Copy member s of every stacked parameter back into models[s] (a shared one once: it is one tensor there)."""
        for name, p in self.named_parameters():
            i, attr = name.split("_", 1)
            for s, model in enumerate(models):
                getattr(model[int(i)], attr).copy_(p[s])


@torch.no_grad()
def evaluate_stacked(stacked: Stacked, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor | None = None):
    """Per-member (loss, accuracy) lists on shared (x, y), or on rows `idx` (S, N) of x and y per member."""
    if idx is not None and bool((idx == idx[:1]).all()):  # every member evaluates the same rows: share them
        x, y, idx = x[idx[0]], y[idx[0]], None
    n = y.shape[0] if idx is None else idx.shape[1]
    S = len(next(stacked.parameters()))
    if n == 0:
        return [(float("nan"), float("nan"))] * S
    loss, correct = torch.zeros(S, device=x.device), torch.zeros(S, device=x.device)
    for a in range(0, n, EVAL_CHUNK):
        if idx is None:
            xs, ys = x[a:a + EVAL_CHUNK], y[a:a + EVAL_CHUNK].expand(S, -1)  # (c, F), (S, c)
        else:
            rows = idx[:, a:a + EVAL_CHUNK]
            xs, ys = x[rows], y[rows]  # (S, c, F), (S, c)
        logits = stacked(xs)  # (S, c, C)
        loss += nn.functional.cross_entropy(logits.transpose(1, 2), ys, reduction="none").sum(1)
        correct += (logits.argmax(-1) == ys).sum(1)
    return [(l / n, c / n) for l, c in zip(loss.tolist(), correct.tolist())]


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
    if strategy == "batched":
        return train_batched(cfg, seeds, data, quiet)
    return train_sequential(cfg, seeds, data, quiet)


def train_sequential(cfg: TrainConfig, seeds, data: Data, quiet: bool = False):
    """One `train_single` per seed on already-loaded data; same return value as `train_batched`."""
    out = []
    for seed in seeds:
        model, record, initial = train_single(cfg, seed, data, quiet)
        out.append((record, snapshot(model), initial))
    return out


def train_batched(cfg: TrainConfig, seeds: list[int], data: Data, quiet: bool = False):
    """All members at once through `Stacked`; see the module docstring."""
    device = data.x_train.device
    start = time.perf_counter()
    models = [build_model(cfg.sizes, cfg.scheme, cfg.activation, s, eigvals=cfg.eigvals, device=device, **cfg.init)
              for s in seeds]
    initials = [snapshot(m) for m in models]
    stacked = Stacked(models)
    shared = cfg.order_seed is not None
    opt = OPTIMIZERS[cfg.optimizer]([p for p in stacked.parameters() if p.requires_grad], lr=cfg.lr)
    splits = [split_indices(len(data.y_train), cfg.validation_fraction, data_seed(s, cfg)) for s in seeds]
    val_idx = torch.stack([v for _, v in splits]).to(device)  # (S, n_val)
    orders = [torch.Generator().manual_seed(data_seed(s, cfg)) for s in seeds]
    n_train, S = len(splits[0][0]), len(seeds)
    histories = [[] for _ in seeds]
    for epoch in tqdm(range(1, cfg.epochs + 1), desc=f"{cfg.scheme} x{S} (batched)", disable=True if quiet else None):
        t0 = time.perf_counter()
        loss_sum, correct = torch.zeros(S, device=device), torch.zeros(S, device=device)
        member_batches = [epoch_batches(tr, cfg.batch_size, g, device) for (tr, _), g in zip(splits, orders)]
        for idx in zip(*member_batches):
            idx = torch.stack(idx)  # (S, B)
            x = data.x_train[idx[0]] if shared else data.x_train[idx]  # (B, F) shared or (S, B, F)
            y = data.y_train[idx]  # (S, B)
            logits = stacked(x)  # (S, B, C)
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(1)  # (S,)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            loss_sum += losses.detach() * idx.shape[1]
            correct += (logits.argmax(-1) == y).sum(1)
        vals = evaluate_stacked(stacked, data.x_train, data.y_train, val_idx)
        tests = evaluate_stacked(stacked, data.x_test, data.y_test)
        seconds = (time.perf_counter() - t0) / S
        for s in range(S):
            histories[s].append(epoch_metrics(epoch, loss_sum[s].item() / n_train, correct[s].item() / n_train,
                                              vals[s], tests[s], seconds))
    finals = evaluate_stacked(stacked, data.x_train, data.y_train, torch.stack([t for t, _ in splits]).to(device))
    stacked.unstack_into(models)
    wall = (time.perf_counter() - start) / S  # each member's share of the ensemble's time
    return [(make_record(cfg, s, m, data, h, final, n_train, wall, "batched", S), snapshot(m), init)
            for s, m, h, final, init in zip(seeds, models, histories, finals, initials)]
