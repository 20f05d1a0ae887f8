"""Spectral and restricted linear layers.

Giambagli et al., "Machine learning in spectral domain", Nat. Commun. 12, 1330 (2021): the paper's equations
could not be read here (only its abstract, introduction and Fig. 4 caption; docs/evidence.md), so this is our
reading of the abstract's operator, checked against SpectralLayer.py@39a4c47 and FourierLayer.py@0c297f5 of
Buffoni/spectral_learning: the layer k -> k+1 is the lower-left block of the transfer operator A = Phi Lambda Phi^-1 that acts on the
N_k + N_{k+1} nodes of both layers, with Phi = I + phi (phi in the lower-left block, so Phi^2 = 2 Phi - I and
Phi^-1 = 2I - Phi) and Lambda = diag(lambda_in, lambda_out). Hence

    w_ij = (lambda_in_j - lambda_out_i) * phi_ij.

Implementation choices:
- The forward pass builds W (out x in) once per call and applies one matmul; the (in+out)^2 operator is only
  built on request by `transfer_operator()` (analysis and tests).
- W is rebuilt at every call (one fused elementwise pass over out x in): whatever is frozen, something in it
  trains in every scheme, and a cache would go stale under in-place edits such as pruning.
- `RestrictedLinear` stores the frozen Glorot matrix as a buffer and the n trainable entries as a parameter;
  the forward scatters the trainable entries into the frozen matrix (out-of-place, differentiable).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

EIGVEC_INITS = ("glorot", "uniform")


@dataclass(frozen=True)
class SpectralInit:
    """How a `SpectralLinear` draws its eigenvectors and eigenvalues."""

    eigvecs: str = "glorot"  # the authors' later public code; "uniform" = their first code, U(-eigvec_range, +)
    eigvec_range: float = 0.2  # the authors' first code: phi ~ U(-0.2, 0.2)
    eigval_range: float = 0.5  # the authors' public code: lambda ~ U(-0.5, 0.5) (SpectralLayer.py@39a4c47)
    # None: lambda_in ~ U(-eigval_range, +) like lambda_out. A number c: lambda_in = c everywhere and
    # lambda_out ~ c + U(-eigval_range, +), so that W = -mu * phi at the start whatever c is (the authors' code:
    # c = 1 with 1 + mu at SpectralLayer.py@39a4c47, c = 0 at SpectralLayer.py@84b0246).
    eigvals_in_value: float | None = None

    def __post_init__(self):
        if self.eigvecs not in EIGVEC_INITS:
            raise ValueError(f"eigvecs init must be one of {EIGVEC_INITS}, got {self.eigvecs!r}")
        if self.eigvec_range <= 0 or self.eigval_range <= 0:
            raise ValueError(f"init ranges must be > 0, got {self.eigvec_range!r}, {self.eigval_range!r}")


def glorot_bound(in_features: int, out_features: int) -> float:
    """Half-width of the Glorot (Xavier) uniform distribution for an out x in matrix."""
    return math.sqrt(6.0 / (in_features + out_features))


class _SpectralWeight(torch.autograd.Function):
    """W = phi * (lambda_in[None, :] - lambda_out[:, None]) with a backward that reduces before it negates.

    Autograd's SubBackward negates the whole (out x in) gradient before summing it to lambda_out's shape; here
    dlambda_out = -(sum_j dW_ij phi_ij) negates the summed vector instead, one full pass fewer (0.76 ms of a 22 ms
    784-2000-10 step on one thread). Negation is exact, so every gradient is bit-identical to autograd's
    (tests/test_layers.py). The difference is saved only when phi trains (its gradient is dW * difference).
    """

    @staticmethod
    def forward(ctx, eigvecs, eigvals_in, eigvals_out):
        diff = eigvals_in[..., None, :] - eigvals_out[..., :, None]
        ctx.save_for_backward(eigvecs, diff if ctx.needs_input_grad[0] else None)
        return eigvecs * diff

    @staticmethod
    def backward(ctx, grad):
        eigvecs, diff = ctx.saved_tensors
        g_vecs = grad * diff if ctx.needs_input_grad[0] else None
        g_in = g_out = None
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            g = grad * eigvecs
            g_in = g.sum(-2) if ctx.needs_input_grad[1] else None
            g_out = -g.sum(-1) if ctx.needs_input_grad[2] else None
        return g_vecs, g_in, g_out


def spectral_weight(eigvecs: torch.Tensor, eigvals_in: torch.Tensor, eigvals_out: torch.Tensor) -> torch.Tensor:
    """w_ij = (lambda_in_j - lambda_out_i) * phi_ij, (..., out, in); leading dimensions (stacked seeds) broadcast."""
    return _SpectralWeight.apply(eigvecs, eigvals_in, eigvals_out)


def restricted_weight(frozen: torch.Tensor, index: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """`frozen` (..., out, in) with the flat entries `index` (..., n) replaced by `values` (..., n)."""
    return frozen.flatten(-2).scatter(-1, index, values).view(frozen.shape)


def _uniform(shape, bound: float, generator, device, dtype) -> torch.Tensor:
    """U(-bound, bound) drawn on the CPU from `generator` (device-independent), then moved."""
    values = (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
    return values.to(device=device, dtype=dtype or torch.get_default_dtype())


class SpectralLinear(nn.Module):
    """y = x W^T (+ b) with W = phi * (lambda_in[None, :] - lambda_out[:, None]); mirrors `nn.Linear`."""

    def __init__(self, in_features: int, out_features: int, *, train_eigvals_in: bool = True,
                 train_eigvals_out: bool = True, train_eigvecs: bool = False, bias: bool = False,
                 init: SpectralInit = SpectralInit(), generator: torch.Generator | None = None,
                 device=None, dtype=None):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"features must be >= 1, got in={in_features!r}, out={out_features!r}")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        factory = {"device": device, "dtype": dtype}
        self.eigvecs = nn.Parameter(torch.empty(out_features, in_features, **factory), requires_grad=train_eigvecs)
        self.eigvals_in = nn.Parameter(torch.empty(in_features, **factory), requires_grad=train_eigvals_in)
        self.eigvals_out = nn.Parameter(torch.empty(out_features, **factory), requires_grad=train_eigvals_out)
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw phi, lambda_in, lambda_out (and a zero bias) from `self.init`."""
        init, dev, dt = self.init, self.eigvecs.device, self.eigvecs.dtype
        bound = glorot_bound(self.in_features, self.out_features) if init.eigvecs == "glorot" else init.eigvec_range
        self.eigvecs.copy_(_uniform(self.eigvecs.shape, bound, generator, dev, dt))
        centre = 0.0 if init.eigvals_in_value is None else init.eigvals_in_value
        if init.eigvals_in_value is None:
            self.eigvals_in.copy_(_uniform(self.eigvals_in.shape, init.eigval_range, generator, dev, dt))
        else:
            self.eigvals_in.fill_(centre)
        self.eigvals_out.copy_(centre + _uniform(self.eigvals_out.shape, init.eigval_range, generator, dev, dt))
        if self.bias is not None:
            self.bias.zero_()

    @property
    def weight(self) -> torch.Tensor:
        """Direct-space matrix W (out x in), as `nn.Linear.weight`."""
        return spectral_weight(self.eigvecs, self.eigvals_in, self.eigvals_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)

    def eigenvector_matrix(self) -> torch.Tensor:
        """Phi = I + phi (phi in the lower-left block), (in+out) x (in+out), node order [inputs, outputs]."""
        n_in, n = self.in_features, self.in_features + self.out_features
        phi = torch.eye(n, dtype=self.eigvecs.dtype, device=self.eigvecs.device)
        phi[n_in:, :n_in] = self.eigvecs
        return phi

    def transfer_operator(self) -> torch.Tensor:
        """A = Phi Lambda Phi^-1 with Phi^-1 = 2I - Phi, (in+out) x (in+out), node order [inputs, outputs]."""
        phi = self.eigenvector_matrix()
        lam = torch.diag(torch.cat([self.eigvals_in, self.eigvals_out]))
        return phi @ lam @ (2 * torch.eye(len(phi), dtype=phi.dtype, device=phi.device) - phi)

    def extra_repr(self) -> str:
        flags = (f"train_eigvals_in={self.eigvals_in.requires_grad}, train_eigvals_out={self.eigvals_out.requires_grad}, "
                 f"train_eigvecs={self.eigvecs.requires_grad}")
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, {flags}"


class RestrictedLinear(nn.Module):
    """Dense layer, Glorot-uniform init, of which exactly `n_trainable` random entries train; the rest stay put."""

    def __init__(self, in_features: int, out_features: int, n_trainable: int, *, seed: int | None = None,
                 generator: torch.Generator | None = None, bias: bool = False, device=None, dtype=None):
        super().__init__()
        size = in_features * out_features
        if not 0 <= n_trainable <= size:
            raise ValueError(f"n_trainable must lie in [0, {size}] for a {out_features}x{in_features} layer, "
                             f"got {n_trainable!r}")
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        self.in_features, self.out_features, self.n_trainable = in_features, out_features, n_trainable
        factory = {"device": device, "dtype": dtype}
        bound = glorot_bound(in_features, out_features)
        initial = _uniform((out_features, in_features), bound, generator, device, dtype)
        index = torch.randperm(size, generator=generator)[:n_trainable].sort().values.to(device)
        self.register_buffer("frozen_weight", initial)
        self.register_buffer("index", index)  # flat indices of the trainable entries
        self.values = nn.Parameter(initial.flatten()[index].clone())
        self.bias = nn.Parameter(torch.zeros(out_features, **factory)) if bias else None

    @property
    def mask(self) -> torch.Tensor:
        """Boolean (out x in) mask of the trainable entries."""
        mask = torch.zeros(self.in_features * self.out_features, dtype=torch.bool, device=self.index.device)
        mask[self.index] = True
        return mask.view(self.out_features, self.in_features)

    @property
    def weight(self) -> torch.Tensor:
        return restricted_weight(self.frozen_weight, self.index, self.values)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"n_trainable={self.n_trainable}, bias={self.bias is not None}")
