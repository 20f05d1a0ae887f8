"""Feed-forward models built from spectral, restricted or dense layers, one name per training scheme.

Giambagli et al. (2021): a network of L layers is L transfer operators; each scheme says which of phi
(eigenvectors) and lambda (eigenvalues) train, or, in direct space, which weights train.

Eigenvalue layouts (`eigvals`, one name in the library, CLI and config):
- "per-node": one eigenvalue per node of the whole network, the paper's single nested operator (abstract: "nested
  indentation" of the eigenvectors; Fig. 4 caption: N1 + N2 eigenvalues for the perceptron). A hidden node's
  eigenvalue is the lambda_out of the layer feeding it and the lambda_in of the layer it feeds: one Parameter,
  registered in both layers, so `model.parameters()` yields it once and its gradient sums both layers' terms.
- "per-layer": every layer owns lambda_in and lambda_out, the two-sets-per-mapping variant of Phys. Rev. E 104,
  054312 (2021); SpectralLayer.py@e3ae148 (`diag_start`, `diag_end`).
- "out-only": lambda_in frozen at `SpectralInit.eigvals_in_value`, only the receiving nodes' eigenvalues train, as
  in the authors' code of the paper's period (SpectralLayer.py@39a4c47, @84b0246).
`direct-restricted` trains, per layer, as many random weights as the eigenvalues that layer introduces
(`eigvals_per_layer`), so network totals match spectral-eigvals under the same layout.

Implementation choices:
- Dense layers are `nn.Linear(bias=False)` re-drawn Glorot-uniform, the init the restricted layers share.
- All draws come from one CPU `torch.Generator` seeded with `seed`, so a model is the same on every device.
- No activation after the last layer: the model returns logits, the loss applies the softmax.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import RestrictedLinear, SpectralInit, SpectralLinear, _uniform, glorot_bound, restricted_weight, spectral_weight

SCHEMES = ("spectral-eigvals", "spectral-eigvecs", "spectral-full", "direct-full", "direct-restricted")
EIGVALS = ("per-node", "per-layer", "out-only")
DEFAULT_EIGVALS = "per-node"  # the paper's nested operator (see the module docstring)
EVAL_CHUNK = 10_000  # rows per evaluation forward pass; bounds activation memory at N2 = 2000
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


def check_eigvals(eigvals: str) -> str:
    if eigvals not in EIGVALS:
        raise ValueError(f"eigvals must be one of {EIGVALS}, got {eigvals!r}")
    return eigvals


def eigvals_per_layer(sizes, eigvals: str = DEFAULT_EIGVALS) -> list[int]:
    """Eigenvalues each layer introduces: the trainable count of spectral-eigvals and direct-restricted per layer."""
    pairs = list(zip(check_sizes(sizes)[:-1], sizes[1:]))
    check_eigvals(eigvals)
    if eigvals == "per-layer":
        return [a + b for a, b in pairs]
    if eigvals == "out-only":
        return [b for _, b in pairs]
    return [a * (k == 0) + b for k, (a, b) in enumerate(pairs)]  # per-node: a hidden node counts once


def make_layer(n_in: int, n_out: int, scheme: str, generator: torch.Generator, *, n_restricted: int | None = None,
               train_eigvals_in: bool = True, bias: bool = False, init: SpectralInit = SpectralInit(), device=None,
               dtype=None) -> nn.Module:
    """One layer n_in -> n_out trained according to `scheme` (`n_restricted`: direct-restricted's trainable count)."""
    if scheme in _SPECTRAL_FLAGS:
        vals_in, vals_out, vecs = _SPECTRAL_FLAGS[scheme]
        return SpectralLinear(n_in, n_out, train_eigvals_in=vals_in and train_eigvals_in, train_eigvals_out=vals_out,
                              train_eigvecs=vecs, bias=bias, init=init, generator=generator, device=device,
                              dtype=dtype)
    if scheme == "direct-full":
        layer = nn.Linear(n_in, n_out, bias=bias, device=device, dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(_uniform(layer.weight.shape, glorot_bound(n_in, n_out), generator,
                                        layer.weight.device, layer.weight.dtype))
            if bias:
                layer.bias.zero_()
        return layer
    if scheme == "direct-restricted":
        n = n_in + n_out if n_restricted is None else n_restricted
        return RestrictedLinear(n_in, n_out, n, generator=generator, bias=bias, device=device, dtype=dtype)
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def build_model(sizes, scheme: str, activation: str = "relu", seed: int = 0, *, eigvals: str = DEFAULT_EIGVALS,
                bias: bool = False, device=None, dtype=None, **init) -> nn.Sequential:
    """Stack of layers sizes[0] -> ... -> sizes[-1] with `activation` between them (none after the last).

    `init` holds `SpectralInit` fields; "out-only" defaults `eigvals_in_value` to 0 when it is not given.
    """
    sizes = check_sizes(sizes)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
    counts = eigvals_per_layer(sizes, eigvals)
    if eigvals == "out-only" and init.get("eigvals_in_value") is None:
        init = {**init, "eigvals_in_value": 0.0}
    elif eigvals != "out-only" and init.get("eigvals_in_value") is not None:
        raise ValueError(f"eigvals_in_value fixes lambda_in, which only the out-only layout does; got eigvals={eigvals!r}")
    generator = torch.Generator().manual_seed(int(seed))
    spectral_init = SpectralInit(**init)
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if k:
            layers.append(ACTIVATIONS[activation]())
        layer = make_layer(n_in, n_out, scheme, generator, n_restricted=counts[k], bias=bias, init=spectral_init,
                           train_eigvals_in=eigvals != "out-only", device=device, dtype=dtype)
        if k and eigvals == "per-node" and isinstance(layer, SpectralLinear):
            layer.eigvals_in = layers[-2].eigvals_out  # the hidden nodes' one eigenvalue each, shared
        layers.append(layer)
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module) -> list[nn.Module]:
    """The weight-carrying layers of `model`, input to output."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, SpectralLinear, RestrictedLinear))]


def count_trainable(model: nn.Module) -> int:
    """Number of scalar parameters that an optimizer changes."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def expected_trainable(sizes, scheme: str, eigvals: str = DEFAULT_EIGVALS) -> int:
    """Closed-form trainable count of `build_model(sizes, scheme, eigvals=eigvals)` without bias.

    Eigenvalues: per-node sum(sizes); per-layer sum(N_k + N_k+1); out-only sum(sizes[1:]).
    """
    sizes = check_sizes(sizes)
    check_eigvals(eigvals)
    n_eigvals = {"per-node": sum(sizes), "per-layer": sum(sizes[:-1]) + sum(sizes[1:]),
                 "out-only": sum(sizes[1:])}[eigvals]
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if scheme in ("spectral-eigvals", "direct-restricted"):
        return n_eigvals
    if scheme in ("spectral-eigvecs", "direct-full"):
        return n_weights
    if scheme == "spectral-full":
        return n_weights + n_eigvals
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


_TENSORS = {SpectralLinear: ("eigvecs", "eigvals_in", "eigvals_out", "bias"),
            RestrictedLinear: ("frozen_weight", "index", "values", "bias"), nn.Linear: ("weight", "bias")}


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on (x, y)."""
    if len(y) == 0:
        return float("nan"), float("nan")
    loss, correct = 0.0, 0
    for xs, ys in zip(x.split(EVAL_CHUNK), y.split(EVAL_CHUNK)):
        logits = model(xs)
        loss += nn.functional.cross_entropy(logits, ys, reduction="sum").item()
        correct += (logits.argmax(1) == ys).sum().item()
    return loss / len(y), correct / len(y)


class Stacked(nn.Module):
    """S models of one architecture (from `build_model`) as stacked tensors, run as batched matmuls."""

    def __init__(self, models: list[nn.Sequential]):
        super().__init__()
        self.layout = []  # per position: (layer type, in, out) or an activation module
        self.aliases = {}  # "i_name" -> the registered name of a tensor shared with an earlier layer (per-node)
        seen = {}  # id of member 0's tensor -> its registered name
        for i, module in enumerate(models[0]):
            kind = type(module)
            if kind not in _TENSORS:
                self.layout.append(module)
                continue
            self.layout.append((kind, module.in_features, module.out_features))
            for name in _TENSORS[kind]:
                members = [getattr(m[i], name) for m in models]
                if members[0] is None:
                    continue
                if id(members[0]) in seen:
                    self.aliases[f"{i}_{name}"] = seen[id(members[0])]
                    continue
                seen[id(members[0])] = f"{i}_{name}"
                stacked = torch.stack([t.detach() for t in members])  # (S, ...)
                if isinstance(members[0], nn.Parameter):
                    self.register_parameter(f"{i}_{name}", nn.Parameter(stacked, members[0].requires_grad))
                else:
                    self.register_buffer(f"{i}_{name}", stacked)

    def _get(self, i: int, name: str):
        key = f"{i}_{name}"
        return getattr(self, self.aliases.get(key, key), None)

    def weight(self, i: int) -> torch.Tensor:
        """Direct-space weights of layer position i, (S, out, in)."""
        kind = self.layout[i][0]
        if kind is SpectralLinear:
            return spectral_weight(self._get(i, "eigvecs"), self._get(i, "eigvals_in"), self._get(i, "eigvals_out"))
        if kind is RestrictedLinear:
            return restricted_weight(self._get(i, "frozen_weight"), self._get(i, "index"), self._get(i, "values"))
        return self._get(i, "weight")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, F) shared by all members or (S, B, F) per member -> logits (S, B, C)."""
        h = x
        for i, item in enumerate(self.layout):
            if not isinstance(item, tuple):
                h = item(h)
                continue
            _, n_in, n_out = item
            w = self.weight(i)  # (S, out, in)
            if h.dim() == 2:  # one wide GEMM: (B, in) @ (in, S*out)
                h = (h @ w.reshape(-1, n_in).T).view(h.shape[0], -1, n_out).transpose(0, 1)  # (S, B, out)
            else:
                h = torch.bmm(h, w.transpose(1, 2))  # (S, B, out)
            bias = self._get(i, "bias")
            if bias is not None:
                h = h + bias[:, None, :]
        return h

    @torch.no_grad()
    def unstack_into(self, models: list[nn.Sequential]) -> None:
        """Copy member s of every stacked parameter back into models[s] (a shared one once: it is one tensor there)."""
        for name, p in self.named_parameters():
            i, attr = name.split("_", 1)
            for s, model in enumerate(models):
                getattr(model[int(i)], attr).copy_(p[s])

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor | None = None):
        """Per-member (loss, accuracy) lists on shared (x, y), or on rows `idx` (S, N) of x and y per member."""
        if idx is not None and bool((idx == idx[:1]).all()):  # every member evaluates the same rows: share them
            x, y, idx = x[idx[0]], y[idx[0]], None
        n = y.shape[0] if idx is None else idx.shape[1]
        S = len(next(self.parameters()))
        if n == 0:
            return [(float("nan"), float("nan"))] * S
        loss, correct = torch.zeros(S, device=x.device), torch.zeros(S, device=x.device)
        for a in range(0, n, EVAL_CHUNK):
            if idx is None:
                xs, ys = x[a:a + EVAL_CHUNK], y[a:a + EVAL_CHUNK].expand(S, -1)  # (c, F), (S, c)
            else:
                rows = idx[:, a:a + EVAL_CHUNK]
                xs, ys = x[rows], y[rows]  # (S, c, F), (S, c)
            logits = self(xs)  # (S, c, C)
            loss += nn.functional.cross_entropy(logits.transpose(1, 2), ys, reduction="none").sum(1)
            correct += (logits.argmax(-1) == ys).sum(1)
        return [(l / n, c / n) for l, c in zip(loss.tolist(), correct.tolist())]
