"""Tests for the command line: a real run, and every bad input exits non-zero with one line and writes nothing."""
import json
import subprocess
import sys

import pytest

from spectral.cli import main


def test_train_writes_records(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--sizes", "784,10", "--scheme", "direct-full", "--seeds", "0,1", "--epochs", "1",
               "--train-subset", "2000", "--test-subset", "500", "--out", str(out), "--quiet", "--threads", "1"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["seed0.json", "seed0.npz", "seed1.json", "seed1.npz"]
    record = json.loads((out / "seed1.json").read_text())
    assert record["seed"] == 1 and record["trainable"] == 7840 and record["final_test_accuracy"] > 0.5
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("eigvals,extra,trainable", [("per-node", [], 784 + 16 + 10), ("per-layer", [], 784 + 32 + 10),
                                                     ("out-only", ["--eigvals-in-value", "1"], 16 + 10)])
def test_eigvals_flag_sets_the_layout(eigvals, extra, trainable, tmp_path):
    out = tmp_path / eigvals
    assert main(["train", "--sizes", "784,16,10", "--eigvals", eigvals, *extra, "--epochs", "1", "--train-subset", "500",
                 "--test-subset", "100", "--out", str(out), "--quiet", "--threads", "1"]) == 0
    record = json.loads((out / "seed0.json").read_text())
    assert record["trainable"] == trainable and record["settings"]["eigvals"] == eigvals


def test_full_disk_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    """ENOSPC while the record is written: one line naming the file, status 1, no temporary or partial file."""
    import errno
    import json as json_mod

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "run"
    monkeypatch.setattr(json_mod, "dumps", no_space)  # the npz is written, then the JSON fails
    rc = main(["train", "--epochs", "1", "--train-subset", "500", "--test-subset", "100", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "seed0.json" in err and "No space left" in err, err
    assert list(out.iterdir()) == []


BAD = [
    (["--dataset", "kmnist"], "invalid choice: 'kmnist'"), (["--scheme", "spectral"], "invalid choice: 'spectral'"),
    (["--activation", "gelu"], "invalid choice: 'gelu'"), (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["--eigvals", "per-edge"], "invalid choice: 'per-edge'"), (["--eigvals-in-value", "1"], "only --eigvals out-only"),
    (["--sizes", "784,0,10"], "at least two positive"), (["--sizes", "784"], "at least two positive"),
    (["--sizes", "700,10"], "feature count"), (["--sizes", "784,12"], "class count"), (["--sizes", "a,b"], "integers"),
    (["--lr", "0"], "lr must be > 0"), (["--lr", "-0.1"], "lr must be > 0"), (["--epochs", "0"], "epochs must be >= 1"),
    (["--batch-size", "0"], "batch size must be >= 1"), (["--validation-fraction", "1"], r"\[0, 1\)"),
    (["--validation-fraction", "-0.1"], r"\[0, 1\)"), (["--threads", "0"], "threads must be"),
]


@pytest.mark.parametrize("args,message", BAD)
def test_bad_input(args, message, tmp_path, capsys):
    """One line on stderr, status 2, no output directory."""
    out = tmp_path / "never"
    assert main(["train", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    import re
    assert re.search(message, err), err
    assert not out.exists()


def test_unwritable_output(tmp_path, capsys):
    """An output path below a regular file cannot be created."""
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file" / "sub"), "--epochs", "1"]) == 2
    assert "not writable" in capsys.readouterr().err


def test_missing_data(tmp_path, capsys, monkeypatch):
    """Missing data: one line naming the file and fetch-data; nothing written."""
    monkeypatch.setenv("SPECTRAL_CACHE_DIR", str(tmp_path / "nocache"))
    out = tmp_path / "out"
    assert main(["train", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte: not found" in err and "fetch-data" in err and not out.exists()


def test_corrupt_data(tmp_path, capsys):
    """A corrupt file in --data-dir: one line with the checksums; nothing written."""
    (tmp_path / "mnist").mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / "mnist" / name).write_bytes((0x801).to_bytes(4, "big") + (2).to_bytes(4, "big") + b"\x00\x01")
    out = tmp_path / "out"
    assert main(["train", "--data-dir", str(tmp_path), "--out", str(out)]) == 2
    assert "checksum mismatch" in capsys.readouterr().err and not out.exists()


def test_module_entry_point_exit_code(tmp_path):
    """`python -m spectral` itself exits 2 without a traceback."""
    done = subprocess.run([sys.executable, "-m", "spectral", "train", "--scheme", "x", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.startswith("error: argument --scheme")
    done = subprocess.run([sys.executable, "-m", "spectral", "fetch-data", "kmnist"], capture_output=True, text=True)
    assert done.returncode == 2 and "dataset must be one of" in done.stderr


def test_protocol_trains_exactly_the_workflow_cell(tmp_path):
    """`train --protocol P --dataset D --experiment E --scheme S --n2 N` takes its settings from the workflow's
    workflow_cell_config (the paper protocol's uniform phi, its tuned rate); each flag given replaces one setting,
    and the record names it."""
    import dataclasses

    import yaml

    from spectral.experiments import workflow_cell_config
    config = yaml.safe_load(open("config/config.yaml"))
    cell = ["--protocol", "paper", "--dataset", "mnist", "--experiment", "nonlinear", "--scheme", "spectral-eigvals",
            "--n2", "20"]
    out = tmp_path / "cell"
    assert main(["train", *cell, "--epochs", "1", "--train-subset", "600", "--test-subset", "200", "--out", str(out),
                 "--quiet", "--threads", "1"]) == 0
    record = json.loads((out / "seed0.json").read_text())
    workflow = dataclasses.replace(workflow_cell_config(config, "paper", "mnist", "nonlinear", "spectral-eigvals", 20),
                                   epochs=1, train_subset=600, test_subset=200)
    assert record["settings"] == json.loads(json.dumps(dataclasses.asdict(workflow)))
    assert record["settings"]["init"]["eigvecs"] == "uniform" and record["settings"]["sizes"] == [784, 20, 10]
    assert record["cli_cell"]["overrides"] == {"epochs": 1, "train_subset": 600, "test_subset": 200}
    assert record["settings"]["lr"] == config["protocols"]["paper"]["lr"]["spectral-eigvals/nonlinear"]


def test_a_cell_flag_without_protocol_or_a_conflicting_flag_is_one_line(tmp_path, capsys):
    """--n2 without --protocol, or --sizes with it, is refused before anything is written."""
    for args in (["--n2", "20"], ["--protocol", "paper", "--experiment", "nonlinear", "--n2", "20", "--sizes",
                                  "784,20,10"], ["--protocol", "nope", "--experiment", "nonlinear", "--n2", "20"]):
        assert main(["train", *args, "--out", str(tmp_path / "x")]) == 2
        assert capsys.readouterr().err.count("\n") == 1
        assert not (tmp_path / "x").exists()


def test_train_help_shows_every_default(capsys):
    """Every option of `train --help` states its default (docs/cli.md promises it)."""
    import re
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = re.sub(r"\s+", " ", capsys.readouterr().out.split("options:")[1])
    options = re.findall(r"(?:^| )(--[a-z-]+)(?: [A-Z_{][^ ]*)?(?= )", text)
    for flag in ("--seed", "--epochs", "--lr", "--batch-size", "--eigvecs-init", "--n2"):
        assert re.search(re.escape(flag) + r" .*?\(default: ", text), flag
    assert text.count("(default: ") >= len({o for o in options if o not in ("--help", "--quiet")}) - 1
