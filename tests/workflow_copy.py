"""A scratch copy of the workflow for the workflow tests (imported by test_workflow*.py; not a test module)."""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def copy_workflow(dest: Path) -> Path:
    for item in ("Snakefile", "workflow", "config", "environment.yml"):
        src = ROOT / item
        shutil.copytree(src, dest / item) if src.is_dir() else shutil.copy(src, dest / item)
    return dest
