"""Matmul precision: `fp32` (the reference) or `bf16` (matmuls under torch.autocast, everything else fp32).

Implementation choices:
- `bf16` wraps the training forward in `torch.autocast(device_type, dtype=torch.bfloat16)`: autocast casts the
  inputs of matmul-type ops (linear, mm, bmm) to bf16 and keeps elementwise ops in fp32, so the spectral weight
  w_ij = (lambda_in_j - lambda_out_i) phi_ij is formed in fp32 from fp32 parameters, and its backward (which
  autocast's cast returns as fp32) reduces in fp32. Parameters, gradients, optimizer state and the loss stay fp32:
  the logits are cast to fp32 before the cross-entropy. Evaluation passes run in fp32.
- bf16 is only fast where the hardware multiplies bf16 natively. What torch reports decides it, never the CPU's
  name: on CPU `torch.cpu._is_amx_tile_supported()` or `torch.cpu._is_avx512_bf16_supported()`, on CUDA
  `torch.cuda.is_bf16_supported()`. Elsewhere `check_precision` stops the run with one line (bf16 would run, but
  emulated, slower than fp32: never a silent slow-down).
"""
from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("fp32", "bf16")


def bf16_matmul(device: torch.device) -> tuple[bool, str]:
    """(does `device` multiply bf16 natively, what torch reports)."""
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        return ok, f"torch.cuda.is_bf16_supported() is {ok}"
    amx, avx = torch.cpu._is_amx_tile_supported(), torch.cpu._is_avx512_bf16_supported()
    return amx or avx, f"torch reports AMX tiles {amx}, AVX512-BF16 {avx}"


def check_precision(precision: str, device: torch.device, probe=bf16_matmul) -> None:
    """Raise ValueError (one line) for an unknown precision, or bf16 where the device has no native bf16 matmul."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "bf16":
        ok, reason = probe(device)
        if not ok:
            raise ValueError(f"precision bf16 needs native bf16 matmuls, and this {device.type} has none ({reason}): "
                             "it would run slower than fp32; use precision fp32")


def autocast(precision: str, device: torch.device):
    """The training forward's context: bf16 autocast, or nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
