"""Training: one model (`train_single`) or every seed of a cell (`train_cell`), with a provenance-rich run record.

Implementation choices:
- The split lives on the device as one tensor; a batch is an index slice of a seeded permutation.
- Seeds: the model is drawn from `seed` itself (so `build_model(..., seed=s)` is the run's initial model); the
  validation split and the batch order come from `data_seed(seed)`, an independent stream of
  numpy.random.SeedSequence([seed, k]). With `order_seed` set, every seed shares that data order.
- Train loss/accuracy per epoch are running means over the epoch's batches (weighted by batch size); the final
  train accuracy is a full evaluation pass after the last epoch.
- Adam runs its fused kernel (`fused=True`: one pass over each parameter, its gradient and both moments) on CPU and
  CUDA; measured 11.4-11.6 ms against 14.2-16.0 ms per step of 784-2000-10 direct-full on 2 threads. It rounds in
  another order than the default loop, so runs differ from the pre-fused code within float tolerance
  (tests/test_train.py bounds it). Adamax and SGD keep torch's default (torch 2.14 has no fused Adamax).
- A cell's S seeds train in one of two ways, equal in result to training each seed alone (same init, validation
  split and batch order; equal within float tolerance, because batched and single matmuls round differently):
  - "batched": the members as one `models.Stacked` model, every layer one batched matmul (torch.bmm over per-seed
    batches, or one wide GEMM when all seeds share the batch order); the loss is the sum of the members' mean
    losses and one optimizer steps the stacked tensors. Adam, Adamax and SGD act elementwise, so each member
    follows exactly its own trajectory.
  - "sequential": `train_single` once per seed, reusing the loaded data. Given a `keep` folder, each seed's run is
    saved there as soon as it finishes, and a rerun of the cell takes back every kept seed whose record has the same
    settings, data and clean code commit (`records.kept_run`) instead of training it again: a wide cell's job
    killed after some of its seeds (a session's end) resumes from them. A dirty checkout keeps nothing it could not verify.
  "auto" picks "batched" on CUDA, and on CPU while the widest hidden layer is at most the measured threshold
  (`MAX_HIDDEN`): per-seed batch orders gather S input batches, which costs more than it saves once layers are
  wide; a shared order reads each batch once. torch.func's stack_module_state + vmap was measured first and lost
  (1.17x at N2 = 10, 0.95x at N2 = 100 over sequential), so it is not used.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import data as data_mod
from .layers import SpectralInit
from .models import ACTIVATIONS, DEFAULT_EIGVALS, EIGVALS, SCHEMES, Stacked, build_model, check_sizes, evaluate
from .precision import PRECISIONS, autocast, check_precision
from .records import epoch_metrics, kept_run, make_record, save_run, snapshot

OPTIMIZERS = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax, "sgd": torch.optim.SGD}
FUSED = {"adam"}  # optimizers run with fused=True (see the module docstring)
STRATEGIES = ("auto", "batched", "sequential")
# CPU thresholds on the widest hidden layer for "auto" (batch 300). Per-seed orders: 20 seeds of 784-N2-10
# spectral-eigvals, 2 epochs, 1 thread, CLI wall time batched / sequential 25.3 / 33.7 s at N2 = 100 and
# 36.5 / 41.9 s at N2 = 200; bench.py's 5-seed table puts the break-even near N2 = 500. Shared order: bench.py,
# batched 1.04-1.12x at N2 = 500, 0.94-1.01x at 2000.
MAX_HIDDEN = {"per-seed": 200, "shared": 500}


@dataclass
class TrainConfig:
    """Everything that defines one training run besides its seed."""

    dataset: str = "mnist"
    sizes: list[int] = field(default_factory=lambda: [784, 10])
    scheme: str = "spectral-eigvals"
    eigvals: str = DEFAULT_EIGVALS  # eigenvalue layout (models.EIGVALS)
    activation: str = "relu"
    epochs: int = 5
    batch_size: int = 300  # the authors' public code trains MNIST in batches of 300
    optimizer: str = "adam"
    lr: float = 0.03
    validation_fraction: float = 0.0
    train_subset: int | None = None  # first n training images only (smoke runs)
    test_subset: int | None = None
    order_seed: int | None = None  # None: each seed its own data order; an int: all seeds share this order
    device: str = "auto"
    data_dir: str | None = None
    init: dict = field(default_factory=dict)  # SpectralInit fields
    precision: str = "fp32"  # matmul precision (precision.PRECISIONS): fp32 is the reference, bf16 the fast path

    def __post_init__(self):
        data_mod.check_dataset(self.dataset)
        self.sizes = check_sizes(self.sizes)
        checks = [
            (self.scheme in SCHEMES, f"scheme must be one of {SCHEMES}, got {self.scheme!r}"),
            (self.eigvals in EIGVALS, f"eigvals must be one of {EIGVALS}, got {self.eigvals!r}"),
            (self.activation in ACTIVATIONS, f"activation must be one of {tuple(ACTIVATIONS)}, got {self.activation!r}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {tuple(OPTIMIZERS)}, got {self.optimizer!r}"),
            (self.sizes[0] == data_mod.NUM_FEATURES[self.dataset],
             f"first size must be {self.dataset}'s feature count {data_mod.NUM_FEATURES[self.dataset]}, got {self.sizes[0]!r}"),
            (self.sizes[-1] == data_mod.NUM_CLASSES[self.dataset],
             f"last size must be {self.dataset}'s class count {data_mod.NUM_CLASSES[self.dataset]}, got {self.sizes[-1]!r}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr!r}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs!r}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size!r}"),
            (0 <= self.validation_fraction < 1, f"validation fraction must lie in [0, 1), got {self.validation_fraction!r}"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}, got {self.precision!r}"),
            (self.device in ("auto", "cpu") or self.device.startswith("cuda"),
             f"device must be auto, cpu or cuda[:N], got {self.device!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        unknown = set(self.init) - {f.name for f in dataclasses.fields(SpectralInit)}
        if unknown:
            raise ValueError(f"init keys must be SpectralInit fields, got {sorted(unknown)!r}")
        SpectralInit(**self.init)  # bad values raise here, before any data are read


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def data_seed(seed: int, cfg: TrainConfig) -> int:
    """Seed of the validation split and batch order of run `seed`."""
    base = seed if cfg.order_seed is None else cfg.order_seed
    return int(np.random.SeedSequence([int(base), 1]).generate_state(1)[0])


@dataclass
class Data:
    """A dataset's splits on one device."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    checksums: dict


def load_data(cfg: TrainConfig, device: torch.device) -> Data:
    x_tr, y_tr = data_mod.load(cfg.dataset, "train", cfg.data_dir)
    x_te, y_te = data_mod.load(cfg.dataset, "test", cfg.data_dir)
    x_tr, y_tr = x_tr[:cfg.train_subset], y_tr[:cfg.train_subset]
    x_te, y_te = x_te[:cfg.test_subset], y_te[:cfg.test_subset]
    sums = data_mod.SHA256.get(cfg.dataset, {})
    return Data(x_tr.to(device), y_tr.to(device), x_te.to(device), y_te.to(device), dict(sums))


def split_indices(n: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, validation) index tensors; validation is a seeded random `fraction` of range(n)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(fraction * n))
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def epoch_batches(train_idx: torch.Tensor, batch_size: int, generator: torch.Generator,
                  device: torch.device) -> tuple[torch.Tensor, ...]:
    """One epoch: CPU `train_idx` in a seeded random order, moved once to `device`, cut into batches."""
    order = train_idx[torch.randperm(len(train_idx), generator=generator)]
    return order.to(device).split(batch_size)


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """cfg.optimizer over `model`'s trainable parameters at cfg.lr, fused where FUSED says so."""
    params = [p for p in model.parameters() if p.requires_grad]
    return OPTIMIZERS[cfg.optimizer](params, lr=cfg.lr, **({"fused": True} if cfg.optimizer in FUSED else {}))


def choose_strategy(cfg: TrainConfig, n_seeds: int, device: torch.device) -> str:
    """The strategy "auto" resolves to for this cell."""
    if n_seeds == 1:
        return "sequential"
    if device.type == "cuda":
        return "batched"
    limit = MAX_HIDDEN["per-seed" if cfg.order_seed is None else "shared"]
    return "batched" if max(cfg.sizes[1:-1], default=0) <= limit else "sequential"


def train_cell(cfg: TrainConfig, seeds, strategy: str = "auto", quiet: bool = False, keep: Path | None = None):
    """Train every seed of a cell; returns [(record, final arrays, initial arrays)] in `seeds` order. `keep`: the
    sequential strategy's folder of finished seeds (module docstring); a batched cell trains its seeds together."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    device = resolve_device(cfg.device)
    check_precision(cfg.precision, device)
    data = load_data(cfg, device)
    if strategy == "auto":
        strategy = choose_strategy(cfg, len(seeds), device)
    if strategy == "batched":
        return train_batched(cfg, seeds, data, quiet)
    return train_sequential(cfg, seeds, data, quiet, keep)


def train_sequential(cfg: TrainConfig, seeds, data: Data, quiet: bool = False, keep: Path | None = None):
    """One `train_single` per seed on already-loaded data, or its run taken back from `keep`; same return value as
    `train_batched`."""
    out = []
    for seed in seeds:
        run = kept_run(keep, dataclasses.asdict(cfg), seed, data.checksums) if keep is not None else None
        if run is None:
            model, record, initial = train_single(cfg, seed, data, quiet)
            run = (record, snapshot(model), initial)
            if keep is not None and not str(record["git_commit"]).endswith("-dirty"):
                save_run(*run, keep / f"seed{seed}.json", keep / f"seed{seed}.npz")
        out.append(run)
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
    opt = make_optimizer(cfg, stacked)
    dseeds = [data_seed(s, cfg) for s in seeds]
    splits = [split_indices(len(data.y_train), cfg.validation_fraction, d) for d in dseeds]
    val_idx = torch.stack([v for _, v in splits]).to(device)  # (S, n_val)
    orders = [torch.Generator().manual_seed(d) for d in dseeds]
    n_train, S = len(splits[0][0]), len(seeds)
    histories = [[] for _ in seeds]
    for epoch in tqdm(range(1, cfg.epochs + 1), desc=f"{cfg.scheme} x{S} (batched)", disable=True if quiet else None):
        t0 = time.perf_counter()
        loss_sum, correct = torch.zeros(S, device=device), torch.zeros(S, device=device)
        member_batches = [epoch_batches(tr, cfg.batch_size, g, device) for (tr, _), g in zip(splits, orders)]
        for idx in zip(*member_batches):
            idx = torch.stack(idx)  # (S, B)
            rows = idx[0] if shared else idx.flatten()  # index_select: half the time of x[idx] (README, Speed)
            x = data.x_train.index_select(0, rows).view(*idx.shape[int(shared):], -1)  # (B, F) shared or (S, B, F)
            y = data.y_train.index_select(0, idx.flatten()).view(idx.shape)  # (S, B)
            with autocast(cfg.precision, device):
                logits = stacked(x).float()  # (S, B, C); the loss is fp32 in every precision
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(1)  # (S,)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            loss_sum += losses.detach() * idx.shape[1]
            correct += (logits.argmax(-1) == y).sum(1)
        vals = stacked.evaluate(data.x_train, data.y_train, val_idx)
        tests = stacked.evaluate(data.x_test, data.y_test)
        seconds = (time.perf_counter() - t0) / S
        for s in range(S):
            histories[s].append(epoch_metrics(epoch, loss_sum[s].item() / n_train, correct[s].item() / n_train,
                                              vals[s], tests[s], seconds))
    finals = stacked.evaluate(data.x_train, data.y_train, torch.stack([t for t, _ in splits]).to(device))
    stacked.unstack_into(models)
    wall = (time.perf_counter() - start) / S  # each member's share of the ensemble's time
    return [(make_record(cfg, s, d, m, data, h, final, n_train, wall, "batched", S), snapshot(m), init)
            for s, d, m, h, final, init in zip(seeds, dseeds, models, histories, finals, initials)]


def train_single(cfg: TrainConfig, seed: int, data: Data | None = None, quiet: bool = False):
    """Train one model; returns (model, record dict)."""
    device = resolve_device(cfg.device)
    check_precision(cfg.precision, device)
    data = data or load_data(cfg, device)
    start = time.perf_counter()
    model = build_model(cfg.sizes, cfg.scheme, cfg.activation, seed, eigvals=cfg.eigvals, device=device, **cfg.init)
    initial = snapshot(model)
    opt = make_optimizer(cfg, model)
    dseed = data_seed(seed, cfg)
    train_idx, val_idx = split_indices(len(data.y_train), cfg.validation_fraction, dseed)
    order = torch.Generator().manual_seed(dseed)
    val_idx_dev, train_idx_dev = val_idx.to(device), train_idx.to(device)
    history = []
    for epoch in tqdm(range(1, cfg.epochs + 1), desc=f"{cfg.scheme} seed {seed}", disable=True if quiet else None):
        t0, loss_sum, correct = time.perf_counter(), torch.zeros((), device=device), torch.zeros((), device=device)
        for idx in epoch_batches(train_idx, cfg.batch_size, order, device):
            x, y = data.x_train.index_select(0, idx), data.y_train.index_select(0, idx)  # 2x faster than x[idx]
            with autocast(cfg.precision, device):
                logits = model(x).float()  # the loss is fp32 in every precision
            loss = nn.functional.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y).sum()
        history.append(epoch_metrics(epoch, loss_sum.item() / len(train_idx), correct.item() / len(train_idx),
                                     evaluate(model, data.x_train[val_idx_dev], data.y_train[val_idx_dev]),
                                     evaluate(model, data.x_test, data.y_test), time.perf_counter() - t0))
    final_train = evaluate(model, data.x_train[train_idx_dev], data.y_train[train_idx_dev])
    record = make_record(cfg, seed, dseed, model, data, history, final_train, len(train_idx), time.perf_counter() - start,
                         "single", 1)
    return model, record, initial
