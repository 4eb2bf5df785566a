"""Nothing wrong goes unnoticed, and nothing echoed can forge output: escaped diagnostics,
--set errors at their item, YAML syntax errors at the right line, special files refused by
name, variants written anywhere, compare that groups by layer paths and refuses typos."""

import os
import time

import pytest
from click.testing import CliRunner

from regspec.api import load
from regspec.cli import main
from regspec.diagnostics import Diagnostic

from .conftest import SPECS


def run(*args: str, **kw):
    return CliRunner().invoke(main, list(args), **kw)


@pytest.mark.parametrize("evil", ["\n", "\r", "\x1b[2K", "\x07", "\x85", "\u202e", "\u2066"])
def test_diagnostics_escape_every_control_character(evil):
    line = Diagnostic("x.yaml", 1, 1, ("layers", 0, f"a{evil}ok: specs/x.yaml (fine)"), f"unknown key {evil!r}").format()
    assert evil not in line and "\n" not in line
    assert len(Diagnostic("x.yaml", 1, 1, (), "v" * 5000).format()) < 700  # long values are cut


def test_a_key_with_a_newline_cannot_forge_an_ok_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text('regspec: 1\nname: x\ninput: {shape: [2]}\nlayers: [{type: dense, units: 1, "b\\nok: evil.yaml (x)": 1}]\n'
                    "compile: {loss: mse}\n")
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.startswith("ok:")] == []
    assert "b\\nok: evil.yaml (x)" in result.output


def test_set_errors_point_at_the_item_and_one_value_per_item(at_root):
    result = run("resolve", "specs/iris/base.yaml", "--set", "training.epochs=0")
    assert result.exit_code == 2
    assert result.output.startswith("--set training.epochs=0:1:17: error: training.epochs: must be >= 1 (got 0)")
    forged = run("resolve", "specs/iris/base.yaml", "--set", "training.epochs=5\nname: evil")
    assert forged.exit_code == 2 and "a --set value is one line" in forged.output


@pytest.mark.parametrize("parser", ["libyaml", "ruamel"])
def test_yaml_syntax_errors_at_their_line(tmp_path, monkeypatch, parser):
    monkeypatch.setenv("REGSPEC_YAML_PARSER", parser)
    (tmp_path / "colon.yaml").write_text("regspec: 1\nname x\nlayers: []\n")
    (tmp_path / "tab.yaml").write_text("regspec: 1\nname: x\nlayers:\n\t- {type: dense}\n")
    out = run("validate", str(tmp_path / "colon.yaml"), str(tmp_path / "tab.yaml")).output
    assert f"{tmp_path}/colon.yaml:2:1: error: invalid YAML: could not find expected ':'" in out
    assert f"{tmp_path}/tab.yaml:4:1: error: invalid YAML: a tab character (YAML indents with spaces, never tabs)" in out


def test_special_files_in_a_folder_are_refused_by_name_fast(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "ok.yaml").write_text((SPECS / "iris" / "base.yaml").read_text())
    start = time.perf_counter()
    result = run("validate", str(tmp_path))
    assert time.perf_counter() - start < 5  # it never opens the FIFO (which would wait forever)
    assert result.exit_code == 2
    assert f"{tmp_path}/pipe.yaml:1:1: error: not a regular file" in result.output


def test_a_variant_is_written_into_a_new_folder_with_its_schema_line_rebased(tmp_path):
    variant = load(SPECS / "model5.yaml").with_overrides({"layers.fc2.dropout": 0.25}, name="v")
    target = tmp_path / "a" / "b" / "v.yaml"
    variant.write(target)
    first = target.read_text().splitlines()[0]
    schema = first.split("$schema=")[1]
    assert (target.parent / schema).resolve() == (SPECS.parent / "schemas" / "regspec.schema.json").resolve()
    assert load(target).hash == variant.hash


@pytest.mark.tf
def test_compare_groups_by_layer_paths_and_refuses_typos(tmp_path, at_root):
    from regspec.runtime.train import train

    base = load("specs/iris/base.yaml")
    for seed in (1, 2):
        for rate in (None, 0.5):
            train(base.with_overrides({"training.epochs": 1, "training.seed": seed, "layers.fc1.dropout": rate},
                                      name=f"iris-d{int((rate or 0) * 10)}-s{seed}"), str(tmp_path), verbose=0)
    grouped = run("compare", "--mean-over", "layers.fc1.dropout", str(tmp_path))
    assert grouped.exit_code == 0, grouped.output
    rows = grouped.output.splitlines()[2:]
    assert len(rows) == 2 and {r.split()[1] for r in rows} == {"2"}  # by seed: two groups of two runs
    typo = run("compare", "--mean-over", "training.sed", str(tmp_path))
    assert typo.exit_code == 2 and "no run's spec has this path" in typo.output
    csv_out = run("compare", "--format", "csv", str(tmp_path)).output.splitlines()
    assert csv_out[1].split(",")[1] == "152515"  # plain numbers, no thousands separators
    assert run("compare", "--plot", str(tmp_path / "o.svg"), str(tmp_path)).exit_code == 0
    assert (tmp_path / "o.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.tf
def test_one_class_only_is_refused(tmp_path):
    from regspec.diagnostics import SpecError
    from regspec.runtime.train import train

    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},1\n" for i in range(20)))
    (tmp_path / "s.yaml").write_text("regspec: 1\nname: one\ninput: {shape: [1]}\nlayers: [{type: dense, units: 2, "
                                     "activation: softmax}]\ncompile: {loss: sparse_categorical_crossentropy}\n"
                                     "data: {type: csv, train: d.csv, label: y}\n")
    with pytest.raises(SpecError, match="the train labels hold one class only"):
        train(load(tmp_path / "s.yaml"), str(tmp_path / "runs"), verbose=0)


def test_diff_names_an_inserted_layer_instead_of_shifting_every_index(tmp_path, at_root):
    (tmp_path / "drop.yaml").write_text(f"regspec: 1\nextends: {SPECS / 'iris' / 'base.yaml'}\nname: iris-dropout\n"
                                        "overrides:\n  layers.fc1.dropout: 0.5\n")
    result = run("diff", "specs/iris/base.yaml", str(tmp_path / "drop.yaml"))
    assert result.exit_code == 1
    assert result.output.splitlines() == [  # the annotation as the user wrote it, not the layer it became
        "~ name: 'iris-base' -> 'iris-dropout'",
        "~ layers.fc1.dropout: null -> 0.5",
    ]
    body = "input: {shape: [4]}\ncompile: {loss: mse}\nlayers:\n  - {type: dense, name: fc1, units: 8}\n"
    (tmp_path / "a.yaml").write_text("regspec: 1\nname: a\n" + body + "  - {type: dense, units: 8}\n"
                                     "  - {type: dense, units: 1}\n")
    (tmp_path / "b.yaml").write_text("regspec: 1\nname: a\n" + body + "  - {type: batch_normalization, name: bn}\n"
                                     "  - {type: dense, units: 8}\n  - {type: dense, units: 16}\n")
    lines = run("diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")).output.splitlines()
    assert lines[0].startswith("+ layers.bn: batch_normalization inserted after fc1: {")
    assert lines[1:] == ["~ layers[3].units: 1 -> 16"]  # the later layers keep their place


CONTROLS = [chr(c) for c in [*range(0, 32), *range(127, 160)]] + ["\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)),
                                                                  *map(chr, range(0x2066, 0x206A))]


def test_no_control_character_survives_a_diagnostic():
    """The whole class, not examples: every C0/C1 control and every bidi control."""
    for c in CONTROLS:
        line = Diagnostic(f"f{c}.yaml", 1, 1, (f"a{c}b",), f"m{c}", f"h{c}").format()
        assert c not in line, repr(c)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "/dev/stdin", "/proc/self/status", "/etc"])
def test_extends_of_a_special_or_system_file_is_reported_at_the_extends_line(tmp_path, target):
    (tmp_path / "child.yaml").write_text(f"regspec: 1\nname: c\nextends: {target}\n")
    start = time.perf_counter()
    result = run("validate", str(tmp_path / "child.yaml"), input="")
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first.startswith(f"{tmp_path}/child.yaml:3:10: error: extends: parent spec "), first


def test_validate_of_a_never_closing_stdin_returns(tmp_path):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "regspec", "validate", "/dev/stdin"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60)  # stdin stays open: a reader that opened it would wait forever
    finally:
        proc.kill()
    assert proc.returncode == 2 and "/dev/stdin:1:1: error: not a regular file" in err


STATIC = {
    "schedule_and_plateau": ("compile: {optimizer: {type: adam, learning_rate: {type: exponential_decay, "
                             "initial_learning_rate: 0.1, decay_steps: 10, decay_rate: 0.9}}, loss: mse}\n"
                             "training: {callbacks: [{type: reduce_lr_on_plateau}]}\n",
                             "training.callbacks[0]: reduce_lr_on_plateau cannot change a learning-rate schedule"),
    "categorical_on_one_unit": ("compile: {loss: categorical_crossentropy}\n",
                                "compile.loss: categorical_crossentropy needs one output unit per class"),
    "sparse_on_one_unit": ("compile: {loss: {type: sparse_categorical_crossentropy, from_logits: true}}\n",
                           "compile.loss: sparse_categorical_crossentropy needs one output unit per class"),
}


@pytest.mark.parametrize("case", sorted(STATIC))
def test_what_would_fail_mid_training_is_caught_by_validate(tmp_path, case):
    body, expected = STATIC[case]
    (tmp_path / "s.yaml").write_text("regspec: 1\nname: s\ninput: {shape: [3]}\nlayers: [{type: dense, units: 1}]\n" + body)
    result = run("validate", str(tmp_path / "s.yaml"))
    assert result.exit_code == 2 and expected in result.output, result.output


def test_a_data_file_is_never_echoed(tmp_path):
    """A spec naming any file as data must not print its content (say, /etc/passwd's first line)."""
    (tmp_path / "secret.csv").write_text("root:x:0:0:root:/root:/bin/bash,SECRET\n1,2\n")
    (tmp_path / "s.yaml").write_text("regspec: 1\nname: s\ninput: {shape: [1]}\nlayers: [{type: dense, units: 1}]\n"
                                     "compile: {loss: mse}\ndata: {type: csv, train: secret.csv, label: y}\n")
    pytest.importorskip("tensorflow")
    from regspec.diagnostics import SpecError
    from regspec.runtime.train import train

    with pytest.raises(SpecError) as info:
        train(load(tmp_path / "s.yaml"), str(tmp_path / "runs"), verbose=0)
    assert "root:x" not in str(info.value) and "SECRET" not in str(info.value)
    assert "column 'y' not in the header" in str(info.value)


@pytest.mark.tf
def test_classes_only_in_the_test_split_are_reported(tmp_path, capsys):
    from regspec.runtime.train import train

    (tmp_path / "train.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    (tmp_path / "test.csv").write_text("a,y\n1,0\n2,2\n")
    (tmp_path / "s.yaml").write_text("regspec: 1\nname: unseen\ninput: {shape: [1]}\nlayers: [{type: dense, units: 3, "
                                     "activation: softmax}]\ncompile: {loss: sparse_categorical_crossentropy}\n"
                                     "data: {type: csv, train: train.csv, test: test.csv, label: y}\ntraining: {epochs: 1}\n")
    train(load(tmp_path / "s.yaml"), str(tmp_path / "runs"), verbose=0)
    assert "warning: the test split has class(es) [2] that training never sees" in capsys.readouterr().err
