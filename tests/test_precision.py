"""bf16 matmuls (spectral.precision): one step's loss and gradients stay near fp32's, a device without native bf16
matmuls is refused in one line, and the records name the precision."""
import pytest
import torch
from torch import nn

from spectral import precision as precision_mod
from spectral.models import SCHEMES, build_model
from spectral.precision import autocast, bf16_matmul, check_precision
from spectral.train import TrainConfig, train_cell

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
LOSS_RTOL = 2e-2  # bf16 keeps 8 significant bits: about 0.4 % per product, summed over 784 inputs
GRAD_COSINE = 0.99  # each gradient's direction within ~8 degrees of fp32's
GRAD_RTOL = 0.1  # and its norm within 10 %


def step(scheme: str, precision: str, device: str):
    """(loss, {name: gradient}) of one forward and backward of a 784-64-10 ReLU network on a fixed batch."""
    torch.manual_seed(0)
    x, y = torch.rand(128, 784, device=device), torch.randint(0, 10, (128,), device=device)
    model = build_model([784, 64, 10], scheme, "relu", seed=3, device=torch.device(device))
    with autocast(precision, torch.device(device)):
        logits = model(x).float()
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    return loss.item(), {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_bf16_step_is_close_to_fp32(scheme, device):
    """For every scheme, bf16's loss is within LOSS_RTOL of fp32's and each gradient points the same way (cosine >=
    GRAD_COSINE) with a norm within GRAD_RTOL; a wrong gradient (here: negated) fails the same check."""
    loss32, grads32 = step(scheme, "fp32", device)
    loss16, grads16 = step(scheme, "bf16", device)
    assert abs(loss16 - loss32) <= LOSS_RTOL * abs(loss32)
    assert grads32.keys() == grads16.keys() and grads32
    for name, g in grads32.items():
        h = grads16[name]
        assert h.dtype == torch.float32, name  # gradients (and so the optimizer state) stay fp32
        cosine = nn.functional.cosine_similarity(g.flatten(), h.flatten(), dim=0).item()
        assert cosine >= GRAD_COSINE, (name, cosine)
        assert abs(h.norm() / g.norm() - 1) <= GRAD_RTOL, name
        assert nn.functional.cosine_similarity(g.flatten(), -h.flatten(), dim=0).item() < GRAD_COSINE


def test_bf16_really_multiplies_in_bf16():
    """Under the bf16 context a linear layer's output is bf16 (so the matmul ran in bf16), and fp32's is fp32."""
    layer = nn.Linear(8, 4)
    x = torch.rand(2, 8)
    with autocast("bf16", torch.device("cpu")):
        assert layer(x).dtype == torch.bfloat16
    with autocast("fp32", torch.device("cpu")):
        assert layer(x).dtype == torch.float32


def test_a_device_without_native_bf16_is_refused_in_one_line(monkeypatch):
    """When torch reports no native bf16 matmul, bf16 stops before any data are read, naming what torch said; fp32
    still runs, and an unknown precision names the allowed ones."""
    no = lambda device: (False, "torch reports AMX tiles False, AVX512-BF16 False")  # noqa: E731
    with pytest.raises(ValueError, match="needs native bf16 matmuls.*AMX tiles False") as err:
        check_precision("bf16", torch.device("cpu"), probe=no)
    assert "\n" not in str(err.value)
    check_precision("fp32", torch.device("cpu"), probe=no)
    with pytest.raises(ValueError, match="one of"):
        check_precision("fp16", torch.device("cpu"))
    monkeypatch.setattr(precision_mod, "bf16_matmul", no)
    monkeypatch.setattr(precision_mod.check_precision, "__defaults__", (no,))
    cfg = TrainConfig(sizes=[784, 10], epochs=1, train_subset=50, test_subset=20, precision="bf16")
    with pytest.raises(ValueError, match="use precision fp32"):
        train_cell(cfg, [0], quiet=True)
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig(precision="fp8")


@pytest.mark.skipif(not bf16_matmul(torch.device("cpu"))[0], reason="this CPU has no native bf16 matmul")
@pytest.mark.parametrize("strategy", ["sequential", "batched"])
def test_records_name_the_precision(strategy):
    """A bf16 run's records say bf16 (settings.precision), a default run's fp32; both train to similar accuracy."""
    runs = {p: train_cell(TrainConfig(sizes=[784, 16, 10], epochs=1, train_subset=600, test_subset=200, precision=p),
                          [0, 1], strategy, quiet=True) for p in ("fp32", "bf16")}
    for p, out in runs.items():
        assert [r["settings"]["precision"] for r, _, _ in out] == [p, p]
    for (a, _, _), (b, _, _) in zip(runs["fp32"], runs["bf16"]):
        assert abs(a["final_test_accuracy"] - b["final_test_accuracy"]) < 0.05
