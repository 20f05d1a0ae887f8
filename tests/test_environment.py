"""environment.yml (conda) and pyproject.toml (pip) pin the same packages at the same versions."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pip_pins() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", dep).groups()
        pins[name.lower()] = version
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*={1,2}\s*([^\s=]+)", item)
            if m:
                pins[m.group(1).lower()] = m.group(2)
    return pins


def test_same_packages_and_versions():
    """Every pip pin is in environment.yml with the same version, and vice versa (python aside)."""
    conda = conda_pins()
    assert conda.pop("python") == "3.11"
    assert pip_pins() == conda


def test_python_version_agrees():
    """pip accepts 3.11-3.13 (the versions CI's matrix runs); the conda environment pins one of them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    conda_python = conda_pins()["python"]
    assert conda_python in ("3.11", "3.12", "3.13")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "smoke.yml").read_text())
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]


def test_pins_are_installed():
    """The running environment is the pinned one."""
    from importlib.metadata import version
    for name, pinned in pip_pins().items():
        assert version(name).split("+")[0] == pinned, name
