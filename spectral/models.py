"""Feed-forward models built from spectral, restricted or dense layers, one name per training scheme.

Giambagli et al. (2021): a network of L layers is L transfer operators; each scheme says which of phi
(eigenvectors) and lambda (eigenvalues) train, or, in direct space, which weights train.

Implementation choices:
- Every layer owns its own lambda_in and lambda_out (N_k + N_{k+1} eigenvalues per layer, as in the paper's
  per-layer operators); `direct-restricted` gets exactly that many trainable weights per layer.
- Dense layers are `nn.Linear(bias=False)` re-drawn Glorot-uniform, the init the restricted layers share.
- All draws come from one CPU `torch.Generator` seeded with `seed`, so a model is the same on every device.
- No activation after the last layer: the model returns logits, the loss applies the softmax.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import RestrictedLinear, SpectralInit, SpectralLinear, _uniform, glorot_bound

SCHEMES = ("spectral-eigvals", "spectral-eigvecs", "spectral-full", "direct-full", "direct-restricted")
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}

# (train_eigvals_in, train_eigvals_out, train_eigvecs) of each spectral scheme
_SPECTRAL_FLAGS = {
    "spectral-eigvals": (True, True, False),
    "spectral-eigvecs": (False, False, True),
    "spectral-full": (True, True, True),
}


def check_sizes(sizes) -> list[int]:
    """Validate a layer-size list such as [784, 500, 10]."""
    sizes = list(sizes)
    if len(sizes) < 2 or any(not isinstance(n, int) or n < 1 for n in sizes):
        raise ValueError(f"sizes must be at least two positive integers, got {sizes!r}")
    return sizes


def make_layer(n_in: int, n_out: int, scheme: str, generator: torch.Generator, *, bias: bool = False,
               init: SpectralInit = SpectralInit(), device=None, dtype=None) -> nn.Module:
    """One layer n_in -> n_out trained according to `scheme`."""
    if scheme in _SPECTRAL_FLAGS:
        vals_in, vals_out, vecs = _SPECTRAL_FLAGS[scheme]
        return SpectralLinear(n_in, n_out, train_eigvals_in=vals_in, train_eigvals_out=vals_out, train_eigvecs=vecs,
                              bias=bias, init=init, generator=generator, device=device, dtype=dtype)
    if scheme == "direct-full":
        layer = nn.Linear(n_in, n_out, bias=bias, device=device, dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(_uniform(layer.weight.shape, glorot_bound(n_in, n_out), generator,
                                        layer.weight.device, layer.weight.dtype))
            if bias:
                layer.bias.zero_()
        return layer
    if scheme == "direct-restricted":
        return RestrictedLinear(n_in, n_out, n_in + n_out, generator=generator, bias=bias, device=device, dtype=dtype)
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def build_model(sizes, scheme: str, activation: str = "relu", seed: int = 0, *, bias: bool = False,
                device=None, dtype=None, **init) -> nn.Sequential:
    """Stack of layers sizes[0] -> ... -> sizes[-1] with `activation` between them (none after the last)."""
    sizes = check_sizes(sizes)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    generator = torch.Generator().manual_seed(int(seed))
    spectral_init = SpectralInit(**init)
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if k:
            layers.append(ACTIVATIONS[activation]())
        layers.append(make_layer(n_in, n_out, scheme, generator, bias=bias, init=spectral_init,
                                 device=device, dtype=dtype))
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module) -> list[nn.Module]:
    """The weight-carrying layers of `model`, input to output."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, SpectralLinear, RestrictedLinear))]


def count_trainable(model: nn.Module) -> int:
    """Number of scalar parameters that an optimizer changes."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def expected_trainable(sizes, scheme: str) -> int:
    """Closed-form trainable count of `build_model(sizes, scheme)` without bias."""
    pairs = list(zip(check_sizes(sizes)[:-1], sizes[1:]))
    if scheme in ("spectral-eigvals", "direct-restricted"):
        return sum(a + b for a, b in pairs)
    if scheme in ("spectral-eigvecs", "direct-full"):
        return sum(a * b for a, b in pairs)
    if scheme == "spectral-full":
        return sum(a * b + a + b for a, b in pairs)
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


@torch.no_grad()
def retract(model: nn.Sequential) -> nn.Linear:
    """Collapse a stack with identity activations into the single perceptron it computes (the paper's retraction)."""
    bad = [m for m in model if not isinstance(m, (nn.Identity, nn.Linear, SpectralLinear, RestrictedLinear))]
    if bad:
        raise ValueError(f"retract needs identity activations only, found {type(bad[0]).__name__}")
    layers = linear_layers(model)
    weight = layers[0].weight.detach().clone()
    bias = None if layers[0].bias is None else layers[0].bias.detach().clone()
    for layer in layers[1:]:
        w = layer.weight.detach()
        weight = w @ weight  # (out, in0)
        bias = None if bias is None else w @ bias
        if layer.bias is not None:
            bias = layer.bias.detach().clone() if bias is None else bias + layer.bias.detach()
    out = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device=weight.device, dtype=weight.dtype)
    out.weight.copy_(weight)
    if bias is not None:
        out.bias.copy_(bias)
    return out
