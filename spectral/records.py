"""What a training run leaves on disk: its arrays (`snapshot`: each layer's weight and, for spectral layers, its
eigenvalues and eigenvectors) and its JSON record beside them, written atomically (`save_run`): both go to temporary
names and are renamed into place only when both are complete, so a failed write leaves nothing partial.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .layers import RestrictedLinear, SpectralLinear
from .models import linear_layers


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
