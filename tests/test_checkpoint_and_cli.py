"""Checkpoints round-trip and fail loudly; `verifrag generate` honours DESIGN.md section 4 on the real
default model, and its greedy Medusa output equals next-token output."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import torch

from verifrag.cli import main
from verifrag.errors import UserError
from verifrag.model.checkpoint import (
    DEFAULT_CHECKPOINT,
    HEADS_FILE,
    CheckpointConfig,
    load_checkpoint,
    read_config,
    save_checkpoint,
)
from verifrag.model.engine import Engine
from verifrag.model.heads import MedusaHeads
from verifrag.model.sampling import DecodeConfig
from verifrag.model.stopping import end_of_statement
from tests.tiny_models import byte_tokenizer


def write_tiny_checkpoint(directory, hidden=16, heads=2):
    tokenizer = byte_tokenizer()
    module = MedusaHeads(hidden, heads, 1)
    for parameter in module.parameters():
        torch.nn.init.normal_(parameter)
    config = CheckpointConfig(base_model="unused", hidden_size=hidden, num_heads=heads, tree=[[0], [0, 0]])
    save_checkpoint(directory, config, module, tokenizer)
    return module


def test_checkpoint_round_trip(tmp_path):
    saved = write_tiny_checkpoint(tmp_path)
    saved.set_candidates(torch.tensor([7, 3, 3, 250]))
    save_checkpoint(tmp_path, read_config(tmp_path), saved, byte_tokenizer())
    loaded = load_checkpoint(tmp_path)
    assert loaded.heads.candidate_ids.tolist() == [3, 7, 250]
    assert loaded.config.tree == [[0], [0, 0]]
    for name, tensor in saved.state_dict().items():
        assert torch.equal(tensor, loaded.heads.state_dict()[name])


def test_corrupt_and_mismatched_checkpoints_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_checkpoint(tmp_path / "missing")
    write_tiny_checkpoint(tmp_path)
    (tmp_path / HEADS_FILE).write_bytes(b"not safetensors")
    with pytest.raises(UserError, match="cannot read"):
        load_checkpoint(tmp_path)
    write_tiny_checkpoint(tmp_path)
    data = json.loads((tmp_path / "verifrag.json").read_text())
    data["hidden_size"] = 32
    (tmp_path / "verifrag.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="does not match"):
        load_checkpoint(tmp_path)
    (tmp_path / "verifrag.json").write_text("{broken")
    with pytest.raises(UserError, match="not valid JSON"):
        read_config(tmp_path)


def test_heads_for_another_hidden_size_are_refused_at_load(tmp_path):
    shutil.copytree(DEFAULT_CHECKPOINT, tmp_path / "ckpt")
    write_tiny_checkpoint(tmp_path / "ckpt", hidden=16)
    data = json.loads((tmp_path / "ckpt/verifrag.json").read_text())
    data["base_model"] = read_config(DEFAULT_CHECKPOINT).base_model
    (tmp_path / "ckpt/verifrag.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="hidden size"):
        Engine.load(tmp_path / "ckpt")


@pytest.fixture(scope="module")
def default_engine():
    return Engine.load()


def test_default_model_medusa_is_lossless(default_engine):
    prompt = "// 4-bit counter with synchronous reset\nmodule counter(input clk, input rst, output reg [3:0] q);\n"
    config = DecodeConfig(max_new_tokens=48, snap_fragments=False)
    expected = default_engine.generate(prompt, "ntp", config)
    got = default_engine.generate(prompt, "medusa", config)
    assert got.token_ids == expected.token_ids
    assert got.stats.steps <= expected.stats.steps


def test_default_model_answers_a_repeated_statement_from_the_prefill_pass(default_engine):
    """Ghost text where the file repeats itself: the document's own continuation, drafted in the prompt
    pass, is the whole answer, so no decoding step runs; the answer is the one every decoder gives.
    The pass may verify more of the draft than the statement the stop rule keeps (the next line repeats
    too), so the kept draft covers the answer rather than equals it."""
    block = "  always @(posedge clk) begin\n    if (rst) begin\n      q <= 0;\n    end else begin\n      q <= q + d;\n    end\n  end\n"
    prompt = ("module m(input clk, input rst, input [3:0] d, output reg [3:0] q, output reg [3:0] r);\n"
              + block + block.replace("q", "r") + "  always @(posedge clk) begin\n    if (rs")
    plain = DecodeConfig(max_new_tokens=48, heal_prompt=True, stop_rule=end_of_statement)
    expected = default_engine.generate(prompt, "ntp", plain)
    assert expected.text == "t) begin" and expected.stats.steps == 4
    drafted = DecodeConfig(max_new_tokens=48, heal_prompt=True, stop_rule=end_of_statement, prefill_lookup=8)
    for decoder in ("ntp", "medusa", "hybrid"):
        got = default_engine.generate(prompt, decoder, drafted)
        assert got.token_ids == expected.token_ids
        assert got.stats.steps == 0 and got.stats.prefill_draft_tokens >= len(expected.token_ids)


def test_default_model_copies_the_rest_of_a_repeated_comment_in_few_steps(default_engine):
    """The prefill draft, copied after the latest "a registered", stops at the number the model writes
    otherwise (it proposes "5"; the model writes another width); next-token steps with a lookup draft
    then copy the rest of the earlier comment a few tokens a pass, same text."""
    stage = ("// {n}: a registered {w}-bit accumulator with enable and synchronous clear\n"
             "module acc{n} #(parameter W = {w}) (\n  input              clk,\n  input              rst,\n"
             "  input              en,\n  input  [W-1:0]     d,\n  output reg [W-1:0] q\n);\n"
             "  always @(posedge clk) begin\n    if (rst) begin\n      q <= {{W{{1'b0}}}};\n"
             "    end else if (en) begin\n      q <= q + d;\n    end\n  end\nendmodule\n\n")
    prompt = stage.format(n=0, w=4) + stage.format(n=1, w=5) + "// 2: a registered"
    plain = DecodeConfig(max_new_tokens=48, heal_prompt=True, stop_rule=end_of_statement)
    expected = default_engine.generate(prompt, "ntp", plain)
    assert re.match(r" \d+-bit accumulator with enable", expected.text) and not expected.text.startswith(" 5-bit")
    drafted = DecodeConfig(max_new_tokens=48, heal_prompt=True, stop_rule=end_of_statement, prefill_lookup=8, step_lookup=4)
    got = default_engine.generate(prompt, "ntp", drafted)
    assert got.token_ids == expected.token_ids
    assert got.stats.steps <= expected.stats.steps // 2 and got.stats.mean_accepted > 2


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_generate_json_contract(capsys):
    code, out, _ = run_cli(["generate", "--prompt", r"// and gate\nmodule and_gate(", "--decoder", "medusa",
                            "--max-new-tokens", "16", "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    for key in ("text", "new_tokens", "steps", "mean_accepted", "frag_discarded", "seconds", "tokens_per_s", "decoder"):
        assert key in payload
    assert payload["decoder"] == "medusa" and 0 < payload["new_tokens"] <= 16


def test_generate_spec_asks_for_a_whole_module_as_eval_does(capsys):
    code, out, _ = run_cli(["generate", "--spec", "A 2-input AND gate with inputs a, b and output y.",
                            "--decoder", "ntp", "--max-new-tokens", "24", "--json"], capsys)
    assert code == 0
    text = json.loads(out)["text"]
    assert text.startswith("module TopModule") and "```" not in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "--prompt", "   "], "prompt is empty"),
        (["generate", "--prompt-file", "/nonexistent/prompt.v"], "cannot read prompt file"),
        (["generate", "--prompt", "x", "--checkpoint", "/nonexistent/ckpt"], "does not exist"),
        (["generate", "--prompt", "x", "--max-new-tokens", "0"], "at least 1"),
    ],
)
def test_generate_bad_input_is_one_line(args, message, capsys):
    code, _, err = run_cli(args, capsys)
    assert code != 0
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_flag_exits_with_usage_error():
    result = subprocess.run([sys.executable, "-m", "verifrag", "generate", "--prompt", "x", "--bogus"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr and "Traceback" not in result.stderr
