"""`verifrag.json` is checked against its schema before anything is allocated: each malformed field
is one line on stderr and a non-zero exit, never a traceback or a multi-terabyte allocation."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verifrag.cli import main
from verifrag.errors import UserError
from verifrag.model.checkpoint import load_checkpoint
from verifrag.model.checkpoint_config import CONFIG_FILE, DEFAULT_CHECKPOINT, check_checkpoint


def broken_checkpoint(directory: Path, change) -> Path:
    """A copy of the default checkpoint whose verifrag.json `change` rewrote."""
    target = directory / "ckpt"
    shutil.copytree(DEFAULT_CHECKPOINT, target)
    data = json.loads((target / CONFIG_FILE).read_text())
    (target / CONFIG_FILE).write_text(json.dumps(change(data)))
    return target


def field(name, value):
    def change(data):
        data[name] = value
        return data
    return change


CASES = {
    "list instead of object": (lambda data: [data], "must hold a JSON object"),
    "hidden_size text": (field("hidden_size", "abc"), "hidden_size must be an integer"),
    "num_heads zero": (field("num_heads", 0), "num_heads must be an integer from 1"),
    "num_heads text": (field("num_heads", "4"), "num_heads must be an integer"),
    "tree text": (field("tree", "x"), "tree must be a list"),
    "head_acceptance text": (field("head_acceptance", "x"), "head_acceptance must be a list"),
    "hidden_size huge": (field("hidden_size", 1_000_000), "hidden_size must be an integer from 1 to 65536"),
    "tree deeper than heads": (field("tree", [[0, 0, 0, 0, 0]]), "tree must be"),
    "shared_lm_head text": (field("shared_lm_head", "yes"), "shared_lm_head must be true or false"),
    "missing num_heads": (lambda data: {k: v for k, v in data.items() if k != "num_heads"}, "missing num_heads"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_config_is_one_line_error_from_the_cli(case, tmp_path, capsys):
    change, message = CASES[case]
    checkpoint = broken_checkpoint(tmp_path, change)
    code = main(["generate", "--prompt", "module m(", "--checkpoint", str(checkpoint)])
    err = capsys.readouterr().err
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("case", ["hidden_size huge", "num_heads zero", "list instead of object"])
def test_loader_refuses_before_allocating(case, tmp_path):
    change, message = CASES[case]
    with pytest.raises(UserError, match=message):
        load_checkpoint(broken_checkpoint(tmp_path, change))


def test_default_checkpoint_passes_the_schema():
    assert check_checkpoint(DEFAULT_CHECKPOINT).num_heads >= 1


def test_a_file_given_as_checkpoint_is_called_a_file(tmp_path, capsys):
    design = tmp_path / "some_file.v"
    design.write_text("module m; endmodule\n")
    code = main(["generate", "--prompt", "module m(", "--checkpoint", str(design)])
    err = capsys.readouterr().err
    assert code == 1 and "is a file" in err and "does not exist" not in err


def test_bad_checkpoint_is_reported_without_loading_torch(tmp_path):
    checkpoint = broken_checkpoint(tmp_path, field("num_heads", "4"))
    script = ("import sys\nfrom verifrag.cli import main\ncode = main(['generate', '--prompt', 'x', '--checkpoint', "
              f"{str(checkpoint)!r}])\nprint('torch' in sys.modules)\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1 and "num_heads must be" in done.stderr
    assert done.stdout.strip() == "False"
