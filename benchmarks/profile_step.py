"""Where one training step's time goes, fp32 against bf16 (issue: a verified fast path).

Profiles the step the training loop takes for 784 -> N2 -> 10 (ReLU, batch 300, fused Adam, one thread as a job
runs) with torch.profiler, and prints each op's self time per step, largest first, for both precisions side by side.
Writes output/benchmarks/profile_step.csv. Not a test: nothing here asserts a time.

    python benchmarks/profile_step.py                               # spectral-eigvals and direct-full at N2 = 2000
    python benchmarks/profile_step.py --scheme spectral-full --n2 1000
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spectral.models import build_model  # noqa: E402
from spectral.precision import autocast, check_precision  # noqa: E402
from spectral.train import TrainConfig, make_optimizer  # noqa: E402

OUT = ROOT / "output" / "benchmarks"
GEMMS = ("aten::mm", "aten::addmm", "aten::bmm")


def profile_step(scheme: str, n2: int, precision: str, steps: int = 40, warmup: int = 10) -> pd.DataFrame:
    """Self CPU time per step (ms) of every op of `steps` profiled training steps, after `warmup` unprofiled ones."""
    device = torch.device("cpu")
    check_precision(precision, device)
    sizes, batch, n_train = [784, n2, 10], 300, 12000
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(n_train, 784, generator=gen), torch.randint(0, 10, (n_train,), generator=gen)
    model = build_model(sizes, scheme, seed=0)
    opt = make_optimizer(TrainConfig(sizes=sizes, scheme=scheme, batch_size=batch, precision=precision), model)
    order = torch.randperm(n_train, generator=gen).split(batch)

    def step(i: int) -> None:
        idx = order[i % len(order)]
        with autocast(precision, device):
            logits = model(x.index_select(0, idx)).float()
        loss = nn.functional.cross_entropy(logits, y.index_select(0, idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(i)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(steps):
            step(i)
    rows = [{"op": e.key, "calls_per_step": e.count / steps, "self_ms_per_step": e.self_cpu_time_total / 1e3 / steps}
            for e in prof.key_averages() if e.self_cpu_time_total > 0]
    return pd.DataFrame(rows).assign(scheme=scheme, n2=n2, precision=precision)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per scheme and precision: the step's total self time, its GEMMs', and the rest."""
    gemm = table["op"].isin(GEMMS)
    out = (table.assign(gemm_ms=table["self_ms_per_step"].where(gemm, 0.0))
           .groupby(["scheme", "n2", "precision"])[["self_ms_per_step", "gemm_ms"]].sum()
           .rename(columns={"self_ms_per_step": "step_ms"}))
    return out.assign(other_ms=out["step_ms"] - out["gemm_ms"]).round(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheme", action="append", help="scheme(s) to profile (default spectral-eigvals, direct-full)")
    parser.add_argument("--n2", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a training job uses 1)")
    parser.add_argument("--top", type=int, default=14, help="ops to print per scheme")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tables = [profile_step(s, args.n2, p) for s in (args.scheme or ["spectral-eigvals", "direct-full"])
              for p in ("fp32", "bf16")]
    table = pd.concat(tables, ignore_index=True)
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "profile_step.csv", index=False)
    pd.set_option("display.width", 200)
    print(f"one training step of 784-{args.n2}-10, batch 300, {args.threads} thread(s): self time per step, ms\n")
    print(summary(table).to_string(), "\n")
    for scheme, part in table.groupby("scheme"):
        wide = (part.pivot_table(index="op", columns="precision", values="self_ms_per_step", aggfunc="sum")
                .reindex(columns=["fp32", "bf16"]).fillna(0.0))
        wide = wide.loc[wide.max(axis=1).sort_values(ascending=False).index[:args.top]].round(3)
        print(f"== {scheme} ==\n{wide.to_string()}\n")


if __name__ == "__main__":
    main()
