"""Shared fixtures: the real data come from `make data` (resources/data), fetched and verified by the setup."""
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _cache_dir(monkeypatch):
    """Point the data cache at the project's resources/data whatever the working directory."""
    monkeypatch.setenv("SPECTRAL_CACHE_DIR", str(ROOT / "resources" / "data"))
    monkeypatch.delenv("SPECTRAL_DATA_DIR", raising=False)


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(1234)
