"""Tests for spectral.models: schemes, trainable counts, activations, retraction."""
import pytest
import torch
from torch import nn

from spectral.layers import RestrictedLinear, SpectralLinear
from spectral.models import SCHEMES, build_model, count_trainable, expected_trainable, retract

SIZES = [[784, 10], [784, 500, 10], [784, 500, 128, 10], [20, 7, 3]]


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_trainable_counts_match_formulas(sizes, scheme):
    """count_trainable equals the closed form of each scheme."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    formula = {"spectral-eigvals": sum(a + b for a, b in pairs), "direct-restricted": sum(a + b for a, b in pairs),
               "spectral-eigvecs": sum(a * b for a, b in pairs), "direct-full": sum(a * b for a, b in pairs),
               "spectral-full": sum(a * b + a + b for a, b in pairs)}[scheme]
    model = build_model(sizes, scheme, seed=0)
    assert count_trainable(model) == formula == expected_trainable(sizes, scheme)


def test_paper_perceptron_counts():
    """E1 counts quoted by the paper: 794 eigenvalues, 7840 weights."""
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
