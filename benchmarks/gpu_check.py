"""GPU check for a lent CUDA machine: every cell of config/quick.yaml trained through `spectral` on the GPU.

The device image has PyTorch but not Snakemake, so this drives the same cells the DAG's train_cell jobs run
(same settings from config/config.yaml + config/quick.yaml): as batched ensembles (the GPU default) in fp32 and in
bf16 (`precision`, spectral/precision.py), and sequentially in fp32, and prints each pass's wall time and mean
test accuracy. Usage: SPECTRAL_DATA_DIR=<dir with mnist/*.gz> python benchmarks/gpu_check.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spectral.train import train_cell  # noqa: E402
from spectral.experiments import EXPERIMENTS, cell_config, merge_config  # noqa: E402


def quick_cells(precision: str = "fp32"):
    """(seeds, TrainConfig) of every main-protocol cell of config/quick.yaml, built as the DAG builds them."""
    cfg = merge_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()),
                      yaml.safe_load((ROOT / "config" / "quick.yaml").read_text()))
    for protocol in cfg["run_protocols"]:
        for dataset in cfg["datasets"]:
            for experiment in EXPERIMENTS:
                for scheme in cfg["schemes"]:
                    for n2 in [0] if experiment == "perceptron" else cfg["n2"]:
                        yield cfg["seeds"], cell_config(cfg["protocols"][protocol], dataset, experiment, scheme, n2,
                                                        device="cuda", precision=precision)


def main() -> None:
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    for precision, strategy in (("fp32", "auto"), ("bf16", "auto"), ("fp32", "sequential")):
        cells = list(quick_cells(precision))
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        accs = []
        for seeds, cfg in cells:
            accs += [r["final_test_accuracy"] for r, _, _ in train_cell(cfg, seeds, strategy, quiet=True)]
        torch.cuda.synchronize()
        print(f"quick config on GPU, precision={precision}, strategy={strategy}: {len(cells)} cells, {len(accs)} runs, "
              f"{time.perf_counter() - t0:.1f} s, mean test accuracy {sum(accs) / len(accs):.4f}", flush=True)


if __name__ == "__main__":
    main()
