"""bf16 against fp32 (spectral.precision): per model-epoch for every scheme at the wide N2, and the stacked narrow
cells. Run by `python benchmarks/bench.py --only precision` / `--only narrow_precision` (and `make bench`)."""
from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from roofline import median_time, own_gemm_seconds, synthetic_data
from spectral.train import TrainConfig, train_batched

PRECISION_N2 = (500, 1000, 2000)
SCHEMES = ("direct-full", "spectral-eigvals", "spectral-full", "spectral-eigvecs", "direct-restricted")


def bench_precision(repeats: int, n_train: int = 60000, n_test: int = 10000) -> pd.DataFrame:
    """Per model-epoch of 784 -> N2 -> 10 (ReLU, batch 300, one seed), fp32 against bf16 (spectral.precision's
    autocast around the forward, fp32 loss), every scheme at N2 in PRECISION_N2: the median of `repeats` x 20 steps
    times the steps per epoch plus the fp32 test pass, each against the step's own GEMMs at their measured speed in
    that precision (target <= 1.1x). Refuses where torch reports no native bf16 matmul."""
    from spectral.models import build_model, evaluate
    from spectral.precision import autocast, check_precision
    from spectral.train import make_optimizer
    device = torch.device("cpu")
    check_precision("bf16", device)
    rows, data = [], synthetic_data(n_train, n_test)
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(0)).split(300)
    for n2 in PRECISION_N2:
        sizes = [784, n2, 10]
        own = {p: own_gemm_seconds(sizes, 300, n_train, n_test, dtype=d)["own_gemm_floor_s"]
               for p, d in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
        for scheme in SCHEMES:
            row = {"n2": n2, "scheme": scheme}
            for precision in ("fp32", "bf16"):
                cfg = TrainConfig(sizes=sizes, scheme=scheme, batch_size=300, precision=precision)
                model = build_model(sizes, scheme, seed=0)
                opt, batches = make_optimizer(cfg, model), iter(order * 100)

                def step():
                    idx = next(batches)
                    with autocast(precision, device):
                        logits = model(data.x_train.index_select(0, idx)).float()
                    loss = nn.functional.cross_entropy(logits, data.y_train.index_select(0, idx))
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                step_s = median_time(step, 20 * repeats, warmup=5)
                epoch = len(order) * step_s + median_time(lambda: evaluate(model, data.x_test, data.y_test), repeats,
                                                          warmup=1)
                row |= {f"{precision}_step_ms": 1e3 * step_s, f"{precision}_epoch_s": epoch,
                        f"{precision}_x_own_gemms": epoch / own[precision]}
            rows.append(row | {"speedup": row["fp32_epoch_s"] / row["bf16_epoch_s"],
                               "gemm_speedup": own["fp32"] / own["bf16"]})
    return pd.DataFrame(rows)


def bench_narrow_precision(n2s=(10, 100), seeds: int = 20, epochs: int = 1) -> pd.DataFrame:
    """Per model-epoch of a 20-seed stacked cell (train_batched), 784-N2-10 spectral-eigvals on 60000 synthetic
    images, fp32 against bf16."""
    rows, data = [], synthetic_data(60000, 10000)
    for n2 in n2s:
        t = {p: median_time(lambda: train_batched(TrainConfig(sizes=[784, n2, 10], scheme="spectral-eigvals",
                                                              epochs=epochs, batch_size=300, precision=p),
                                                  list(range(seeds)), data, quiet=True), 1, warmup=0)
             / seeds / epochs for p in ("fp32", "bf16")}
        rows.append({"n2": n2, "seeds": seeds, "fp32_per_model_epoch_s": t["fp32"],
                     "bf16_per_model_epoch_s": t["bf16"], "speedup": t["fp32"] / t["bf16"]})
    return pd.DataFrame(rows)
