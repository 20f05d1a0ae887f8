"""Speed benchmarks of spectral-repro (issue: seed ensembles, spectral-layer overhead, share of GEMM peak).

Prints every figure and writes output/benchmarks/*.csv and output/benchmarks/bench.png. Medians of repeated
runs; every ratio is measured within this one run, on this machine. Not a test: nothing here asserts a time.

    python benchmarks/bench.py                 # micro-benchmarks (a few minutes on 2 cores)
    python benchmarks/bench.py --workflow      # also the quick config (about 45 min on 2 cores): its training phase
                                               # as one job per seed (before), one job per cell run sequentially,
                                               # and one job per cell with the auto strategy; then end to end
    python benchmarks/bench.py --run results/paper   # where a finished run's time went, against both floors
    python benchmarks/bench.py --only roofline       # this machine's GEMM peak and memory bandwidth, and each
                                                     # cell's two floors (GEMM at peak, minimal bytes at bandwidth)
    python benchmarks/bench.py --only precision      # fp32 against bf16 per model-epoch, every scheme, N2 >= 500
                                                     # (narrow_precision: 20-seed stacked cells); bf16 GEMM peak
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spectral.train import train_sequential, train_batched  # noqa: E402
from spectral.layers import SpectralLinear  # noqa: E402
from spectral.train import TrainConfig  # noqa: E402
from roofline import bench_roofline, epoch_floors, median_time, memory_bandwidth, own_gemm_seconds, step_flops, synthetic_data  # noqa: E402
from precision_bench import bench_narrow_precision, bench_precision  # noqa: E402
from runs import bench_run, bench_workflow, measured_speedup, project_precision  # noqa: E402

OUT = ROOT / "output" / "benchmarks"
STARTUP_S = 5.5  # a CLI job's process start, imports and data loading: median of 3, idle (docs/speed.md, the levers)


def gemm_peak(sizes=(2048, 4096), repeats: int = 5, dtype: torch.dtype = torch.float32) -> float:
    """GFLOP/s of large square torch.mm in `dtype` (best size): the machine's practical matmul limit."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        best = max(best, 2 * n**3 / median_time(lambda: torch.mm(a, b), repeats) / 1e9)
    return best


def step_fn(layer: nn.Module, batch: int):
    """One Adam training step of `layer` on a fixed random batch with a cross-entropy-like loss."""
    x = torch.rand(batch, layer.in_features)
    y = torch.randint(0, layer.out_features, (batch,))
    opt = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(layer(x), y).backward()
        opt.step()
    return step


def bench_layers(peak: float, repeats: int) -> pd.DataFrame:
    rows = []
    for n_out in (10, 100, 500, 2000):
        for batch in (128, 1000):
            dense = median_time(step_fn(nn.Linear(784, n_out, bias=False), batch), repeats)
            spectral = median_time(step_fn(SpectralLinear(784, n_out), batch), repeats)
            flops = step_flops([784, n_out], batch)
            rows.append({"shape": f"784x{n_out}", "batch": batch, "dense_ms": 1e3 * dense, "spectral_ms": 1e3 * spectral,
                         "ratio": spectral / dense, "dense_pct_peak": 100 * flops / dense / 1e9 / peak,
                         "spectral_pct_peak": 100 * flops / spectral / 1e9 / peak})
    return pd.DataFrame(rows)


def bench_ensembles(peak: float, repeats: int, n_train: int = 20000) -> pd.DataFrame:
    """One epoch of 5 seeds of 784 -> N2 -> 10 (ReLU, batch 300): batched (per-seed and shared order) vs sequential."""
    rows, data, seeds = [], synthetic_data(n_train), [0, 1, 2, 3, 4]
    for n2 in (10, 100, 500, 2000):
        cfg = TrainConfig(sizes=[784, n2, 10], scheme="spectral-eigvals", epochs=1, batch_size=300)
        shared = TrainConfig(sizes=[784, n2, 10], scheme="spectral-eigvals", epochs=1, batch_size=300, order_seed=0)
        seq = median_time(lambda: train_sequential(cfg, seeds, data, quiet=True), repeats, warmup=1)
        vec = median_time(lambda: train_batched(cfg, seeds, data, quiet=True), repeats, warmup=1)
        vsh = median_time(lambda: train_batched(shared, seeds, data, quiet=True), repeats, warmup=1)
        flops = 5 * step_flops([784, n2, 10], n_train)
        rows.append({"n2": n2, "sequential_s": seq, "batched_s": vec, "batched_shared_order_s": vsh, "speedup_batched": seq / vec,
                     "speedup_batched_shared": seq / vsh, "sequential_pct_peak": 100 * flops / seq / 1e9 / peak})
    return pd.DataFrame(rows)


def bench_one_member(peak: float, repeats: int, n_train: int = 20000) -> pd.DataFrame:
    """One seed, 2 epochs: the single-model loop (train_single) against a one-member stack (train_batched).

    Decides whether one training loop can serve both: if the stack costs nothing, train_single could go.
    """
    rows, data = [], synthetic_data(n_train)
    for sizes, act in (([784, 10], "identity"), ([784, 100, 10], "relu"), ([784, 1000, 10], "relu")):
        for scheme in ("spectral-eigvals", "direct-full"):
            cfg = TrainConfig(sizes=sizes, scheme=scheme, activation=act, epochs=2, batch_size=300)
            single = median_time(lambda: train_sequential(cfg, [0], data, quiet=True), repeats, warmup=1)
            stack = median_time(lambda: train_batched(cfg, [0], data, quiet=True), repeats, warmup=1)
            rows.append({"sizes": "-".join(map(str, sizes)), "scheme": scheme, "single_loop_s": single,
                         "one_member_stack_s": stack, "stack_over_single": stack / single})
    return pd.DataFrame(rows)


def bench_large_batches(peak: float, repeats: int, n_train: int = 12000, n_test: int = 1000) -> pd.DataFrame:
    """Share of GEMM peak of whole training epochs (one seed) at N2 >= 500 and batch >= 512.

    `pct_peak_training` counts the training FLOPs only; `pct_peak_all` adds the forward passes the run also does
    (test set every epoch, training set once at the end), i.e. all the matmul work the epoch really performs.
    """
    rows, data = [], synthetic_data(n_train)
    for n2 in (500, 2000):
        for batch in (512, 1000):
            for scheme in ("direct-full", "spectral-eigvals"):
                cfg = TrainConfig(sizes=[784, n2, 10], scheme=scheme, epochs=1, batch_size=batch)
                t = median_time(lambda: train_sequential(cfg, [0], data, quiet=True), repeats, warmup=1)
                train = step_flops([784, n2, 10], n_train)
                evals = 2 * (784 * n2 + n2 * 10) * (n_test + n_train)
                rows.append({"n2": n2, "batch": batch, "scheme": scheme, "epoch_s": t,
                             "gflops_all": (train + evals) / t / 1e9, "pct_peak_training": 100 * train / t / 1e9 / peak,
                             "pct_peak_all": 100 * (train + evals) / t / 1e9 / peak})
    return pd.DataFrame(rows)


def bench_wide(peak: float, bandwidth: float, repeats: int, n_train: int = 60000, n_test: int = 10000) -> pd.DataFrame:
    """Per model-epoch of 784 -> N2 -> 10 (ReLU, batch 300, one seed) at N2 = 1000 and 2000, every scheme: the median
    of `repeats` x 20 training steps as `train_single` runs them (batch gathered from the whole split, the suite's
    model and optimizer) times the steps per epoch, plus the test pass (`evaluate`); against the step's own GEMMs at
    their measured speed plus the test pass (target <= 1.1x), the GEMM floor at peak and the roofline. Medians of
    single steps, not whole epochs: a shared machine's noise moves an epoch's time more than a step's median."""
    from spectral.models import build_model, evaluate
    from spectral.train import make_optimizer
    rows, data = [], synthetic_data(n_train, n_test)
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(0)).split(300)
    for n2 in (1000, 2000):
        sizes = [784, n2, 10]
        own = own_gemm_seconds(sizes, 300, n_train, n_test)
        for scheme in ("direct-full", "spectral-eigvals", "spectral-full", "spectral-eigvecs", "direct-restricted"):
            cfg = TrainConfig(sizes=sizes, scheme=scheme, batch_size=300)
            model = build_model(sizes, scheme, seed=0)
            opt, batches = make_optimizer(cfg, model), iter(order * 100)

            def step():
                idx = next(batches)
                logits = model(data.x_train.index_select(0, idx))
                loss = nn.functional.cross_entropy(logits, data.y_train.index_select(0, idx))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            step_s = median_time(step, 20 * repeats, warmup=5)
            test_s = median_time(lambda: evaluate(model, data.x_test, data.y_test), repeats, warmup=1)
            epoch = len(order) * step_s + test_s
            floors = epoch_floors(sizes, scheme, 300, n_train, n_test, peak, bandwidth)
            rows.append({"n2": n2, "scheme": scheme, "step_ms": 1e3 * step_s, "epoch_s": epoch,
                         "own_gemm_floor_s": own["own_gemm_floor_s"], "x_own_gemms": epoch / own["own_gemm_floor_s"],
                         "x_gemm_peak": epoch / floors["gemm_floor_s"], "x_roofline_max": epoch / floors["max_model_s"],
                         "x_roofline_sum": epoch / floors["sum_model_s"]})
    return pd.DataFrame(rows)


def startup_seconds(repeats: int = 3) -> float:
    """Median wall time of a CLI training job that trains almost nothing (300 images, one epoch, 784-10): the
    process start, imports and data loading every job pays once."""
    def job():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "spectral", "train", "--train-subset", "300", "--test-subset", "300",
                            "--epochs", "1", "--threads", "1", "--out", tmp, "--quiet"], cwd=ROOT, check=True,
                           capture_output=True)
    return median_time(job, repeats, warmup=1)


def bench_narrow(threads: int, epochs: int = 2, protocol_epochs: int = 20, seeds: int = 20) -> pd.DataFrame:
    """Per-model cost of a 20-seed stacked cell (per-seed data orders) against one model alone, 784-N2-10
    spectral-eigvals on 60000 synthetic images, in-process at `epochs` epochs (evaluation passes included), plus the
    measured job start-up once per job (target <= 1/5). The protocol's 20 epochs are projected by scaling the
    training part linearly (20 epochs of 20 seeds at N2 = 200 would take 6 min per point)."""
    rows, data, start = [], synthetic_data(60000, 10000), startup_seconds()
    scale = protocol_epochs / epochs
    for n2 in (10, 50, 100, 200):
        cfg = TrainConfig(sizes=[784, n2, 10], scheme="spectral-eigvals", epochs=epochs, batch_size=300)
        alone = median_time(lambda: train_sequential(cfg, [0], data, quiet=True), 3, warmup=1)
        stack = median_time(lambda: train_batched(cfg, list(range(seeds)), data, quiet=True), 1, warmup=0)
        rows.append({"n2": n2, "startup_s": start, f"alone_{epochs}ep_s": alone, f"stack_{epochs}ep_per_model_s": stack / seeds,
                     "training_only_ratio": stack / seeds / alone,
                     f"ratio_{epochs}ep_with_startup": (start + stack) / seeds / (start + alone),
                     f"ratio_{protocol_epochs}ep_with_startup": (start + scale * stack) / seeds / (start + scale * alone)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--workflow", action="store_true", help="also time the quick config before/after")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--only", choices=("roofline", "wide", "narrow", "layers", "ensembles", "large_batches", "one_member",
                                           "precision", "narrow_precision"),
                        help="run this micro-benchmark alone")
    parser.add_argument("--run", type=Path, default=None, help="only say where a finished run's time went "
                        "(output/<name> or results/<name>) against the matmul floor")
    parser.add_argument("--project-bf16", type=Path, nargs="?", const=OUT, default=None, metavar="DIR",
                        help="with --run: project its fp32 job times to bf16 from DIR's precision.csv and "
                        "narrow_precision.csv (default output/benchmarks: run --only those first); arithmetic only")
    parser.add_argument("--against", type=Path, default=None, metavar="REF",
                        help="with --run: its measured job time per model against REF's on the cells both trained "
                        "(e.g. --run output/bf16-check --against results/paper)")
    parser.add_argument("--startup", type=float, default=STARTUP_S, help="a job's start-up in seconds, kept by the "
                        "projection (default: the idle median of 3 CLI jobs, docs/speed.md)")
    parser.add_argument("--peak", type=float, default=None, help="GEMM peak in GFLOP/s (default: measure it here)")
    args = parser.parse_args()
    if args.against is not None and (args.run is None or args.project_bf16 is not None):
        parser.error("--against needs --run, and not --project-bf16")
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 200)
    if args.run is not None and args.against is not None:
        table, totals = measured_speedup(args.run, args.against)
        print(f"== {args.run} against {args.against}: measured speed-up per model (job times, start-up included; "
              f"jobs ran two at a time) ==\n{table.round(2).to_string(index=False)}")
        print("\n".join(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}" for k, v in totals.items()))
        return
    if args.run is not None and args.project_bf16 is not None:
        table, totals = project_precision(args.run, pd.read_csv(args.project_bf16 / "precision.csv"),
                                          pd.read_csv(args.project_bf16 / "narrow_precision.csv"), args.startup)
        print(f"== {args.run} projected to bf16 (start-up {args.startup:g} s kept per job) ==\n"
              f"{table.round(2).to_string(index=False)}")
        print("\n".join(f"{k}: {v:.3f}" for k, v in totals.items()))
        return
    peak = args.peak or gemm_peak()
    print(f"GEMM peak (fp32 torch.mm, best of 2048^3 and 4096^3, {args.threads} threads): {peak:.1f} GFLOP/s")
    from spectral.precision import bf16_matmul
    native, reason = bf16_matmul(torch.device("cpu"))
    peak_bf16 = gemm_peak(dtype=torch.bfloat16) if native else None
    print(f"GEMM peak (bf16 torch.mm, same sizes): " + (f"{peak_bf16:.1f} GFLOP/s ({peak_bf16 / peak:.2f}x fp32)"
                                                         if native else f"not measured: {reason}"))
    bw = memory_bandwidth()
    bandwidth = bw["triad_gbs"]
    print(f"memory bandwidth (fp32, 256 MB, {args.threads} threads): copy {bw['copy_gbs']:.1f} GB/s, triad "
          f"{bw['triad_gbs']:.1f} GB/s (the floors use triad)")
    if args.run is not None:
        table, totals = bench_run(args.run, peak, bandwidth)
        print(f"\n== where the time of {args.run} went ==\n{table.round(2).to_string(index=False)}")
        print("\n".join(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in totals.items()))
        return
    pd.DataFrame([{"threads": args.threads, "gemm_gflops": peak, "gemm_gflops_bf16": peak_bf16, **bw}]).to_csv(
        OUT / "gemm.csv", index=False)
    benches = {"roofline": lambda: bench_roofline(peak, bandwidth),
               "wide": lambda: bench_wide(peak, bandwidth, max(3, args.repeats // 2)),
               "narrow": lambda: bench_narrow(args.threads),
               "layers": lambda: bench_layers(peak, 20 * args.repeats),
               "ensembles": lambda: bench_ensembles(peak, args.repeats),
               "large_batches": lambda: bench_large_batches(peak, args.repeats),
               "one_member": lambda: bench_one_member(peak, args.repeats),
               **({"precision": lambda: bench_precision(max(3, args.repeats // 2)),
                   "narrow_precision": bench_narrow_precision} if native else {})}
    tables = {name: bench() for name, bench in benches.items() if args.only in (None, name)}
    for name, table in tables.items():
        table.to_csv(OUT / f"{name}.csv", index=False)
        print(f"\n== {name} ==\n{table.round(3).to_string(index=False)}")
    if args.workflow:
        wf = bench_workflow(args.cores, peak)
        wf.to_csv(OUT / "workflow.csv", index=False)
        print(f"\n== quick config end to end ({args.cores} cores) ==\n{wf.round(3).to_string(index=False)}")
    if args.only is None:
        plot(tables)


def plot(tables) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    sns.barplot(tables["layers"], x="shape", y="ratio", hue="batch", ax=axes[0])
    axes[0].axhline(1.15, color="r", ls="--", label="target 1.15")
    axes[0].set(title="SpectralLinear / nn.Linear time per Adam step", ylabel="time ratio", xlabel="layer shape")
    axes[0].legend(title="batch")
    ens = tables["ensembles"].melt(id_vars="n2", value_vars=["speedup_batched", "speedup_batched_shared"], var_name="strategy",
                                   value_name="speedup")
    sns.barplot(ens, x="n2", y="speedup", hue="strategy", ax=axes[1])
    axes[1].axhline(1.0, color="k", lw=0.8)
    axes[1].set(title="5-seed ensemble speed-up over 5 sequential trainings", xlabel="hidden nodes N2",
                ylabel="throughput ratio")
    fig.savefig(OUT / "bench.png", dpi=130)


if __name__ == "__main__":
    main()
