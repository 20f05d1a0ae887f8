"""Tests for spectral.models: schemes, trainable counts, activations, retraction."""
import pytest
import torch
from torch import nn

from spectral.layers import RestrictedLinear, SpectralLinear
from spectral.models import (EIGVALS, SCHEMES, build_model, count_trainable, eigvals_per_layer, expected_trainable,
                            linear_layers, retract)

SIZES = [[784, 10], [784, 500, 10], [784, 500, 128, 10], [20, 7, 3]]


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("eigvals", EIGVALS)
def test_trainable_counts_match_formulas(sizes, scheme, eigvals):
    """count_trainable equals the closed form of each scheme under each eigenvalue layout."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(a * b for a, b in pairs)
    values = {"per-node": sum(sizes), "per-layer": sum(a + b for a, b in pairs), "out-only": sum(sizes[1:])}[eigvals]
    formula = {"spectral-eigvals": values, "direct-restricted": values, "spectral-eigvecs": weights,
               "direct-full": weights, "spectral-full": weights + values}[scheme]
    model = build_model(sizes, scheme, seed=0, eigvals=eigvals)
    assert count_trainable(model) == formula == expected_trainable(sizes, scheme, eigvals)


@pytest.mark.parametrize("eigvals,per_layer", [("per-node", [784 + 100, 10]), ("per-layer", [884, 110]),
                                               ("out-only", [100, 10])])
def test_restricted_matches_layout_layer_by_layer(eigvals, per_layer):
    """direct-restricted trains, in each layer, as many weights as that layer's new eigenvalues."""
    assert eigvals_per_layer([784, 100, 10], eigvals) == per_layer
    restricted = [m.n_trainable for m in linear_layers(build_model([784, 100, 10], "direct-restricted", eigvals=eigvals))]
    assert restricted == per_layer
    spectral = build_model([784, 100, 10], "spectral-eigvals", eigvals=eigvals)
    assert count_trainable(spectral) == sum(per_layer)


def test_per_node_blocks_of_the_global_nested_operator():
    """Each layer's W is the sub-diagonal block of one operator Phi Lambda Phi^-1 over all nodes (real inverse)."""
    sizes = [6, 5, 4, 3]
    model = build_model(sizes, "spectral-eigvals", "identity", seed=3, eigvals="per-node", dtype=torch.float64)
    layers = linear_layers(model)
    offsets = [sum(sizes[:k]) for k in range(len(sizes) + 1)]
    phi = torch.eye(offsets[-1], dtype=torch.float64)
    for k, layer in enumerate(layers):
        phi[offsets[k + 1]:offsets[k + 2], offsets[k]:offsets[k + 1]] = layer.eigvecs.detach()
    nodes = torch.cat([layers[0].eigvals_in] + [layer.eigvals_out for layer in layers]).detach()
    operator = phi @ torch.diag(nodes) @ torch.linalg.inv(phi)
    for k, layer in enumerate(layers):
        block = operator[offsets[k + 1]:offsets[k + 2], offsets[k]:offsets[k + 1]]
        torch.testing.assert_close(block, layer.weight.detach())
    assert not torch.allclose(operator[offsets[2]:offsets[3], :offsets[1]], torch.zeros(4, 6, dtype=torch.float64))


def test_per_node_eigenvalue_is_one_tensor_with_summed_gradient():
    """A hidden node's eigenvalue is one Parameter in both layers; its gradient adds both layers' terms."""
    model = build_model([7, 5, 3], "spectral-eigvals", "tanh", seed=1, eigvals="per-node", dtype=torch.float64)
    first, second = linear_layers(model)
    assert first.eigvals_out is second.eigvals_in
    assert len([p for p in model.parameters() if p.requires_grad]) == 3  # lambda of input, hidden, output nodes
    x = torch.randn(11, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model(x).square().sum().backward()
    lam_in, hidden, lam_out = (t.detach().clone().requires_grad_() for t in
                               (first.eigvals_in, first.eigvals_out, second.eigvals_out))
    w1 = first.eigvecs.detach() * (lam_in[None, :] - hidden[:, None])
    w2 = second.eigvecs.detach() * (hidden[None, :] - lam_out[:, None])
    (torch.tanh(x @ w1.T) @ w2.T).square().sum().backward()
    torch.testing.assert_close(first.eigvals_out.grad, hidden.grad)
    torch.testing.assert_close(first.eigvals_in.grad, lam_in.grad)
    torch.testing.assert_close(second.eigvals_out.grad, lam_out.grad)


def test_per_layer_and_out_only_do_not_share():
    """per-layer keeps two independent sets per layer; out-only freezes lambda_in at its constant."""
    first, second = linear_layers(build_model([7, 5, 3], "spectral-eigvals", seed=1, eigvals="per-layer"))
    assert first.eigvals_out is not second.eigvals_in and second.eigvals_in.requires_grad
    first, second = linear_layers(build_model([7, 5, 3], "spectral-full", seed=1, eigvals="out-only",
                                              eigvals_in_value=1.0))
    for layer in (first, second):
        assert not layer.eigvals_in.requires_grad and torch.equal(layer.eigvals_in, torch.ones_like(layer.eigvals_in))
        assert layer.eigvals_out.requires_grad and layer.eigvecs.requires_grad
    with pytest.raises(ValueError, match="eigvals must be one of"):
        build_model([7, 3], "spectral-eigvals", eigvals="per-edge")
    with pytest.raises(ValueError, match="only the out-only layout"):
        build_model([7, 3], "spectral-eigvals", eigvals="per-node", eigvals_in_value=1.0)


def test_paper_perceptron_counts():
    """perceptron counts quoted by the paper: 794 eigenvalues, 7840 weights."""
    assert count_trainable(build_model([784, 10], "spectral-eigvals")) == 794
    assert count_trainable(build_model([784, 10], "direct-full")) == 7840
    assert count_trainable(build_model([784, 10], "direct-restricted")) == 794


@pytest.mark.parametrize("activation,cls", [("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid), ("identity", nn.Identity)])
def test_layout_and_activation(activation, cls):
    """Activations sit between layers only; the last layer returns logits."""
    model = build_model([784, 50, 20, 10], "spectral-eigvals", activation)
    kinds = [type(m) for m in model]
    assert kinds == [SpectralLinear, cls, SpectralLinear, cls, SpectralLinear]
    assert model(torch.rand(3, 784)).shape == (3, 10)


def test_layer_types_per_scheme():
    assert isinstance(build_model([5, 3], "direct-full")[0], nn.Linear)
    assert isinstance(build_model([5, 3], "direct-restricted")[0], RestrictedLinear)
    layer = build_model([5, 3], "spectral-eigvecs")[0]
    assert layer.eigvecs.requires_grad and not layer.eigvals_in.requires_grad


def test_seed_determines_model():
    """Same seed, same weights; another seed, other weights."""
    a, b, c = (build_model([784, 30, 10], "direct-restricted", seed=s) for s in (5, 5, 6))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize("bad,match", [([784], "at least two"), ([784, 0, 10], "at least two"),
                                       ([784, 10.5], "at least two")])
def test_bad_sizes(bad, match):
    with pytest.raises(ValueError, match=match):
        build_model(bad, "direct-full")


@pytest.mark.parametrize("bad", [{"scheme": "spectral"}, {"activation": "gelu"}])
def test_bad_names(bad):
    kwargs = {"sizes": [4, 2], "scheme": "direct-full", "activation": "relu", **bad}
    with pytest.raises(ValueError, match="must be one of"):
        build_model(**kwargs)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("bias", [False, True])
def test_retraction_gives_identical_logits(scheme, bias):
    """A linear stack and its retracted perceptron give the same logits."""
    model = build_model([784, 64, 32, 10], scheme, "identity", seed=3, bias=bias, dtype=torch.float64)
    if bias:
        with torch.no_grad():
            for m in model:
                if getattr(m, "bias", None) is not None:
                    m.bias.uniform_(-1, 1)
    x = torch.rand(50, 784, dtype=torch.float64)
    perceptron = retract(model)
    assert perceptron.weight.shape == (10, 784)
    torch.testing.assert_close(perceptron(x), model(x))


def test_retraction_refuses_nonlinear():
    with pytest.raises(ValueError, match="identity activations"):
        retract(build_model([6, 4, 2], "direct-full", "relu"))
