"""Tests for spectral.layers: the operator identity, frozen sets, restricted layers, gradients."""
import pytest
import torch

from spectral.layers import RestrictedLinear, SpectralInit, SpectralLinear


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (3, 2), (7, 5), (20, 4)])
def test_weight_is_lower_left_block_of_operator(n_in, n_out, generator):
    """W equals the lower-left block of Phi Lambda Phi^-1 computed with a real matrix inverse."""
    layer = SpectralLinear(n_in, n_out, dtype=torch.float64, generator=generator)
    n = n_in + n_out
    phi = torch.eye(n, dtype=torch.float64)
    phi[n_in:, :n_in] = layer.eigvecs.detach()
    lam = torch.diag(torch.cat([layer.eigvals_in, layer.eigvals_out]).detach())
    a = phi @ lam @ torch.linalg.inv(phi)
    torch.testing.assert_close(torch.linalg.inv(phi), 2 * torch.eye(n, dtype=torch.float64) - phi)
    torch.testing.assert_close(layer.weight.detach(), a[n_in:, :n_in])
    op = layer.transfer_operator().detach()
    torch.testing.assert_close(op, a)
    torch.testing.assert_close(torch.diagonal(op), torch.cat([layer.eigvals_in, layer.eigvals_out]).detach())
    torch.testing.assert_close(op[:n_in, n_in:], torch.zeros(n_in, n_out, dtype=torch.float64))


def test_forward_matches_dense_matmul(generator):
    """forward(x) = x W^T + b, as nn.Linear."""
    layer = SpectralLinear(6, 3, bias=True, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        layer.bias.uniform_(-1, 1, generator=generator)
    x = torch.randn(4, 6, dtype=torch.float64, generator=generator)
    torch.testing.assert_close(layer(x), x @ layer.weight.T + layer.bias)


@pytest.mark.parametrize("flags", [(True, True, False), (False, False, True), (True, False, False), (True, True, True)])
def test_gradcheck_and_frozen_sets(flags, generator):
    """Gradients are correct (gradcheck) and exist exactly for the trainable sets."""
    vin, vout, vecs = flags
    layer = SpectralLinear(5, 3, train_eigvals_in=vin, train_eigvals_out=vout, train_eigvecs=vecs,
                           dtype=torch.float64, generator=generator)
    x = torch.randn(4, 5, dtype=torch.float64, generator=generator)
    trainable = [p for p in layer.parameters() if p.requires_grad]
    assert [layer.eigvals_in.requires_grad, layer.eigvals_out.requires_grad, layer.eigvecs.requires_grad] == list(flags)

    def f(*params):
        w = params_to_weight(layer, dict(zip([n for n, p in layer.named_parameters() if p.requires_grad], params)))
        return x @ w.T

    assert torch.autograd.gradcheck(f, tuple(p.detach().clone().requires_grad_() for p in trainable))
    layer(x).sum().backward()
    for p in layer.parameters():
        assert (p.grad is not None) == p.requires_grad


def params_to_weight(layer, override):
    get = lambda name: override.get(name, getattr(layer, name).detach())
    return get("eigvecs") * (get("eigvals_in")[None, :] - get("eigvals_out")[:, None])


def test_optimizer_leaves_frozen_tensors_unchanged(generator):
    """After Adam steps the frozen eigenvectors are bit-identical and the eigenvalues moved."""
    layer = SpectralLinear(8, 4, generator=generator)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    opt = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.randn(16, 8, generator=generator)).pow(2).mean().backward()
        opt.step()
    assert torch.equal(layer.eigvecs, before["eigvecs"])
    assert not torch.equal(layer.eigvals_in, before["eigvals_in"])
    assert not torch.equal(layer.eigvals_out, before["eigvals_out"])


def test_init_options():
    """Glorot and uniform ranges, a fixed lambda_in with lambda_out drawn around it, and bad init names are refused."""
    g = torch.Generator().manual_seed(0)
    layer = SpectralLinear(300, 100, init=SpectralInit(eigvecs="uniform", eigvec_range=0.2, eigvals_in_value=0.0), generator=g)
    assert layer.eigvecs.abs().max() <= 0.2 and layer.eigvecs.abs().max() > 0.19
    assert torch.equal(layer.eigvals_in, torch.zeros(300))
    assert 0.45 < layer.eigvals_out.abs().max() <= 0.5
    one = SpectralLinear(300, 100, init=SpectralInit(eigvecs="uniform", eigvals_in_value=1.0),
                         generator=torch.Generator().manual_seed(0))
    assert torch.equal(one.eigvals_in, torch.ones(300))
    torch.testing.assert_close(one.weight, layer.weight)  # W = -mu * phi whatever the fixed lambda_in is
    glorot = SpectralLinear(300, 100, generator=g)
    bound = (6 / 400) ** 0.5
    assert bound * 0.95 < glorot.eigvecs.abs().max() <= bound
    with pytest.raises(ValueError, match="eigvecs init must be one of"):
        SpectralInit(eigvecs="normal")


def test_same_generator_seed_same_layer():
    """A layer is a pure function of its generator's seed."""
    a = SpectralLinear(10, 5, generator=torch.Generator().manual_seed(3))
    b = SpectralLinear(10, 5, generator=torch.Generator().manual_seed(3))
    c = SpectralLinear(10, 5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)


@pytest.mark.parametrize("n_trainable", [0, 1, 17, 60])
def test_restricted_layer_trains_only_its_entries(n_trainable):
    """Exactly n entries train; every other entry keeps its initial (non-zero) value after optimizer steps."""
    layer = RestrictedLinear(12, 5, n_trainable, seed=7)
    assert layer.mask.sum().item() == n_trainable
    assert sum(p.numel() for p in layer.parameters() if p.requires_grad) == n_trainable
    w0 = layer.weight.detach().clone()
    assert (w0 != 0).all()
    if n_trainable:
        opt = torch.optim.SGD(layer.parameters(), lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            layer(torch.randn(8, 12)).pow(2).sum().backward()
            opt.step()
    w1 = layer.weight.detach()
    assert torch.equal(w1[~layer.mask], w0[~layer.mask])
    assert (w1[layer.mask] != w0[layer.mask]).all()


def test_restricted_subset_depends_on_seed():
    """Different seeds draw different trainable subsets; bad counts are refused."""
    assert not torch.equal(RestrictedLinear(30, 10, 40, seed=1).mask, RestrictedLinear(30, 10, 40, seed=2).mask)
    with pytest.raises(ValueError, match="n_trainable must lie in"):
        RestrictedLinear(3, 2, 7, seed=0)


@pytest.mark.parametrize("shape", [(), (3,)])  # one layer, and a stack of 3 seeds
@pytest.mark.parametrize("flags", [(False, True, True), (True, True, True), (True, False, False), (False, False, True)])
def test_spectral_weight_backward_is_bit_identical_to_autograd(shape, flags):
    """The hand-written backward gives autograd's gradients exactly (not approximately) for every trainable subset."""
    from spectral.layers import spectral_weight
    g = torch.Generator().manual_seed(0)
    vecs, vin, vout = (torch.rand(*shape, *dims, generator=g) for dims in ((40, 30), (30,), (40,)))
    grad = torch.randn(*shape, 40, 30, generator=g)
    mine = [t.clone().requires_grad_(f) for t, f in zip((vecs, vin, vout), flags)]
    ref = [t.clone().requires_grad_(f) for t, f in zip((vecs, vin, vout), flags)]
    w = spectral_weight(*mine)
    w_ref = ref[0] * (ref[1][..., None, :] - ref[2][..., :, None])
    assert torch.equal(w, w_ref)
    w.backward(grad)
    w_ref.backward(grad)
    for a, b, f in zip(mine, ref, flags):
        assert (a.grad is None) == (not f)
        if f:
            assert torch.equal(a.grad, b.grad)
