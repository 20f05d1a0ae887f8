"""The roofline: a training epoch cannot take less than its GEMMs at the machine's GEMM peak (the GEMM floor), nor less
than the bytes it must move at least once at the machine's memory bandwidth (the memory floor): per step the input
batch, every weight the forward reads, and per trainable parameter its value, gradient and Adam's two moments read
and the value and moments written (7 x 4 bytes); the activations written and read back once. The *max* model
assumes the two overlap perfectly, the *sum* model that they run back to back; on 2 cores they overlap poorly, so
the truth lies between. Also the helpers every benchmark shares (median_time, synthetic_data).
"""
from __future__ import annotations

import statistics
import time

import pandas as pd
import torch

from spectral.train import Data


def step_flops(sizes, samples: int) -> float:
    """FLOPs of training on `samples` inputs: per MAC, forward 2 + weight gradient 2, + input gradient 2 beyond layer 1."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    return samples * sum((4 if k == 0 else 6) * a * b for k, (a, b) in enumerate(pairs))


def median_time(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def memory_bandwidth(megabytes: int = 256, repeats: int = 5) -> dict[str, float]:
    """GB/s of a large fp32 copy (read + write) and triad a = b + s * c (2 reads + 1 write), torch on this machine."""
    n = megabytes * 2**20 // 4
    a, b, c = torch.empty(n), torch.rand(n), torch.rand(n)
    copy = 2 * 4 * n / median_time(lambda: a.copy_(b), repeats) / 1e9
    triad = 3 * 4 * n / median_time(lambda: torch.add(b, c, alpha=0.5, out=a), repeats) / 1e9
    return {"copy_gbs": copy, "triad_gbs": triad}


def step_bytes(sizes, batch: int, trainable: int) -> float:
    """Bytes one training step must move at least once (fp32): the input batch, the weights read by the forward,
    7 x 4 bytes per trainable parameter (Adam: value, gradient, two moments read; value and moments written), and
    each hidden or output activation written once and read back once (forward and backward)."""
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    activations = batch * sum(sizes[1:])
    return 4.0 * (batch * sizes[0] + weights + 7 * trainable + 2 * activations)


def epoch_floors(sizes, scheme: str, batch: int, n_train: int, n_test: int, peak: float, bandwidth: float,
                 eigvals: str = "per-node") -> dict[str, float]:
    """Seconds of one epoch (training steps + the test pass) at the GEMM floor and the memory floor, and the two
    models that combine them."""
    from spectral.models import expected_trainable
    steps = n_train / batch
    gemm = (step_flops(sizes, n_train) + 2 * n_test * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))) / (peak * 1e9)
    test_bytes = 4.0 * (n_test * sizes[0] + sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))
    memory = (steps * step_bytes(sizes, batch, expected_trainable(sizes, scheme, eigvals)) + test_bytes) / (bandwidth * 1e9)
    return {"gemm_floor_s": gemm, "memory_floor_s": memory, "max_model_s": max(gemm, memory),
            "sum_model_s": gemm + memory}


def bench_roofline(peak: float, bandwidth: float, n_train: int = 60000, n_test: int = 10000) -> pd.DataFrame:
    """Each wide and narrow cell's floors per model-epoch at batch 300 (MNIST sizes)."""
    rows = []
    for n2 in (10, 100, 1000, 2000):
        for scheme in ("direct-full", "spectral-eigvals", "spectral-full"):
            f = epoch_floors([784, n2, 10], scheme, 300, n_train, n_test, peak, bandwidth)
            rows.append({"n2": n2, "scheme": scheme, **f, "memory_over_gemm": f["memory_floor_s"] / f["gemm_floor_s"]})
    return pd.DataFrame(rows)


def own_gemm_seconds(sizes, batch: int, n_train: int, n_test: int, repeats: int = 20,
                     dtype: torch.dtype = torch.float32) -> dict[str, float]:
    """Seconds per epoch of the step's own GEMMs at their measured speed (these shapes, this machine, the training
    GEMMs in `dtype`): per layer the forward x W^T, the weight gradient dY^T x and, beyond the first layer, the input
    gradient dY W; and of the test pass's forward GEMMs in fp32 (chunks of 10 000 rows, as `evaluate`)."""
    steps, chunk = n_train / batch, min(n_test, 10_000)
    step = test = 0.0
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        x, w, dy = (torch.rand(*shape).to(dtype) for shape in ((batch, a), (b, a), (batch, b)))
        xt, wt = torch.rand(chunk, a), w.float()
        step += median_time(lambda: x @ w.T, repeats) + median_time(lambda: dy.T @ x, repeats)
        if k:
            step += median_time(lambda: dy @ w, repeats)
        test += median_time(lambda: xt @ wt.T, max(3, repeats // 4)) * n_test / chunk
    return {"step_gemm_s": steps * step, "test_gemm_s": test, "own_gemm_floor_s": steps * step + test}


def synthetic_data(n_train: int, n_test: int = 1000) -> Data:
    g = torch.Generator().manual_seed(0)
    return Data(torch.rand(n_train, 784, generator=g), torch.randint(0, 10, (n_train,), generator=g),
                torch.rand(n_test, 784, generator=g), torch.randint(0, 10, (n_test,), generator=g), {})
