"""What a training run leaves on disk: its arrays (`snapshot`: each layer's weight and, for spectral layers, its
eigenvalues and eigenvectors) and its JSON record (`make_record`: settings, seeds, per-epoch metrics, final
accuracies, time, versions, device, data) beside them, written atomically (`save_run`): both go to temporary names
and are renamed into place only when both are complete, so a failed write leaves nothing partial.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .layers import RestrictedLinear, SpectralLinear
from .models import count_trainable, evaluate, linear_layers, retract
from .provenance import code_commit


def write_atomic(path, text: str) -> None:
    """Write `text` to a temporary name beside `path` and rename it into place: never a half-written file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    """Each layer's direct-space weight and, for spectral layers, eigenvalues and eigenvectors, as numpy."""
    def to_numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy().copy()  # a copy: never a view of a live parameter

    arrays = {}
    for k, layer in enumerate(linear_layers(model)):
        arrays[f"layer{k}.weight"] = to_numpy(layer.weight)
        if isinstance(layer, SpectralLinear):
            for name in ("eigvals_in", "eigvals_out", "eigvecs"):
                arrays[f"layer{k}.{name}"] = to_numpy(getattr(layer, name))
        if isinstance(layer, RestrictedLinear):
            arrays[f"layer{k}.mask"] = to_numpy(layer.mask)
    return arrays


class WriteError(OSError):
    """A run record could not be written; nothing partial was left behind."""


def save_run(record: dict, final: dict, initial: dict, json_path, npz_path) -> None:
    """Write the JSON record and the npz (final arrays, initial ones prefixed `init.`), atomically.

    Both go to temporary names first and are renamed into place only when both are complete; on any OSError
    (e.g. ENOSPC) the temporary files are removed and WriteError names the path that failed.
    """
    json_path, npz_path = Path(json_path), Path(npz_path)
    tmp_npz = npz_path.with_name(npz_path.name + ".tmp.npz")
    tmp_json = json_path.with_name(json_path.name + ".tmp")
    target = npz_path
    try:
        for path in (json_path, npz_path):
            path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp_npz, **final, **{f"init.{k}": v for k, v in initial.items() if k.endswith((".eigvals_in", ".eigvals_out", ".weight"))})
        target = json_path
        tmp_json.write_text(json.dumps(record, indent=1))
        os.replace(tmp_npz, npz_path)
        os.replace(tmp_json, json_path)
    except OSError as err:
        for tmp in (tmp_npz, tmp_json):
            tmp.unlink(missing_ok=True)
        raise WriteError(err.errno, f"cannot write {target} ({err.strerror or err})") from None


def kept_run(keep: Path, settings: dict, seed: int, checksums: dict):
    """(record, final, initial) of `seed` saved in `keep` by an earlier job of its cell (spectral.train), or None
    unless its record has these settings (the TrainConfig as a dict), seed and data checksums and was trained at
    this clean commit. A taken-back record says `"kept": true`."""
    path = Path(keep) / f"seed{seed}.json"
    commit = code_commit()
    if not path.is_file() or commit is None or commit.endswith("-dirty"):
        return None
    try:
        record = json.loads(path.read_text())
        with np.load(path.with_suffix(".npz")) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError):  # a torn or corrupt file: train the seed again
        return None
    same = (record.get("settings") == json.loads(json.dumps(settings)) and record.get("seed") == seed
            and record.get("git_commit") == commit and record.get("data", {}).get("sha256") == checksums)
    if not same:
        return None
    final = {k: v for k, v in arrays.items() if not k.startswith("init.")}
    initial = {k.removeprefix("init."): v for k, v in arrays.items() if k.startswith("init.")}
    return record | {"kept": True}, final, initial


def kept_note(output, cell) -> Path:
    """Where a resumed training job notes the seconds of the seeds it took back: OUTPUT/benchmarks/kept/<cell>.json
    (written by workflow/scripts/train_cell.py, read by spectral.publish.job_times)."""
    return (Path(output) / "benchmarks" / "kept" / cell).with_suffix(".json")


def epoch_metrics(epoch, train_loss, train_acc, val, test, seconds) -> dict:
    """One epoch's row: running train metrics, then (loss, accuracy) on validation and test."""
    return {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc, "val_loss": val[0],
            "val_accuracy": val[1], "test_loss": test[0], "test_accuracy": test[1], "seconds": seconds}


def make_record(cfg, seed, data_seed, model, data, history, final_train, n_train, wall, strategy, members) -> dict:
    """Run record: settings, seed, counts, per-epoch metrics, final accuracies, time, versions, device, data."""
    device = next(model.parameters()).device
    record = {
        "settings": dataclasses.asdict(cfg), "seed": seed, "data_seed": data_seed,
        "trainable": count_trainable(model), "history": history,
        "final_train_loss": final_train[0], "final_train_accuracy": final_train[1],
        "final_val_accuracy": history[-1]["val_accuracy"], "final_test_loss": history[-1]["test_loss"],
        "final_test_accuracy": history[-1]["test_accuracy"], "retracted_test_accuracy": None,
        "wall_time_s": wall, "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(), "strategy": {"name": strategy, "members": members},
        "kept": False,  # True: trained by an earlier, killed job of its cell and taken back (kept_run)
        "device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "git_commit": code_commit(),
        "data": {"dataset": cfg.dataset, "sha256": data.checksums, "n_train": n_train,
                 "n_val": len(data.y_train) - n_train, "n_test": len(data.y_test)},
    }
    if cfg.activation == "identity" and len(cfg.sizes) > 2:
        record["retracted_test_accuracy"] = evaluate(retract(model), data.x_test, data.y_test)[1]
    return record
