"""The command line: exit codes, error lines, JSON output, --set, diff, compare."""

import json

import pytest
from click.testing import CliRunner

from regspec.cli import main
from tests.conftest import ROOT


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_reports_every_error_of_every_file_and_exits_2(at_root):
    result = run("validate", "tests/cases/invalid/ranges.yaml", "tests/cases/invalid/type_errors.yaml",
                 "specs/iris/base.yaml")
    assert result.exit_code == 2
    out = result.output.splitlines()
    assert "ok: specs/iris/base.yaml (iris-base: 5 layers, 152,515 params)" in out
    expected = (ROOT / "tests/cases/invalid/ranges.err").read_text().splitlines()
    expected += (ROOT / "tests/cases/invalid/type_errors.err").read_text().splitlines()
    assert [line for line in out if ": error: " in line] == expected
    assert "Traceback" not in result.output


def test_validate_json_format(at_root):
    result = run("validate", "--format", "json", "tests/cases/invalid/shapes.yaml", "specs/iris/base.yaml")
    assert result.exit_code == 2
    data = json.loads(result.output)
    assert data["valid"][0]["name"] == "iris-base"
    assert data["errors"] == [{"file": "tests/cases/invalid/shapes.yaml", "line": 7, "column": 5, "path": "layers[2]",
                               "message": "kernel 5 is larger than the input dimension 3 (input shape [3, 3, 8], "
                                          "kernel_size [5, 5])", "hint": None}]


def test_set_overrides_from_the_command_line(at_root):
    result = run("resolve", "specs/iris/base.yaml", "--set", "layers.fc1.kernel_regularizer={l2: 0.01}",
                 "--set", "training.epochs=3")
    assert result.exit_code == 0
    assert "kernel_regularizer: {l1: null, l2: 0.01}" in result.output and "epochs: 3" in result.output
    bad = run("resolve", "specs/iris/base.yaml", "--set", "training.epochs=0", "--set", "layers.fc9.units=3")
    assert bad.exit_code == 2
    assert "training.epochs: must be >= 1 (got 0)" in bad.output
    assert "no item named 'fc9' in layers (did you mean 'fc1'?)" in bad.output


def test_diff_lists_paths(at_root):
    result = run("diff", "specs/model3.yaml", "specs/model5.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "~ name: 'model3' -> 'model5'",
        "~ description: 'model1 with 3x3 kernels and kernel L1(0.001) on the third conv layer (just before flattening)'"
        " -> 'L1(0.001) on the 2nd conv and the 52-unit dense layer (3x3 kernels)'",
        "~ layers.conv2.kernel_regularizer: null -> {l1: 0.001}",  # layers by name, as the specs write them
        "~ layers.conv3.kernel_regularizer: {l1: 0.001} -> null",
        "~ layers.fc2.kernel_regularizer: null -> {l1: 0.001}",
    ]
    assert run("diff", "specs/model5.yaml", "specs/model5.yaml").exit_code == 0


def test_summary_without_tensorflow(at_root):
    result = run("summary", "specs/rps/dropout.yaml")
    assert result.exit_code == 0
    assert "dense_dropout (dropout)" in result.output and "Total params: 9,699,395" in result.output


def test_unexpected_error_has_no_traceback(at_root, monkeypatch):
    import regspec.api

    def boom(path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(regspec.api, "load", boom)
    result = CliRunner().invoke(main, ["summary", "specs/iris/base.yaml"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: RuntimeError: disk on fire (run with --debug for a traceback)"


@pytest.mark.tf
def test_compare_table_formats_and_groups(tmp_path, at_root):
    from regspec.api import load
    from regspec.runtime.train import train

    base = load("specs/iris/base.yaml")
    for seed in (1, 2):
        for l1 in (None, {"l1": 0.001}):
            spec = base.with_overrides({"training.epochs": 2, "training.seed": seed,
                                        "layers.fc1.activity_regularizer": l1},
                                       name=f"iris-{'act' if l1 else 'base'}-s{seed}")
            train(spec, str(tmp_path), verbose=0)
    runs = sorted(str(p) for p in tmp_path.iterdir() if p.is_dir())
    text = run("compare", *runs)
    assert text.exit_code == 0
    # The activity-regularized runs bring the data loss and the penalty beside each loss (issue 13).
    assert text.output.splitlines()[0].split() == ["model", "params", "epochs", "train", "loss", "train", "data_loss",
                                                   "train", "penalty", "train", "acc", "test", "loss", "test",
                                                   "data_loss", "test", "penalty", "test", "acc", "status"]
    assert len(text.output.splitlines()) == 6
    md = run("compare", "--format", "markdown", *runs).output.splitlines()
    assert md[0] == ("| model | params | epochs | train loss | train data_loss | train penalty | train acc | test loss "
                     "| test data_loss | test penalty | test acc | status |")
    plain = [r for r in runs if "base" in r]
    md_plain = run("compare", "--format", "markdown", *plain).output.splitlines()
    assert md_plain[0] == "| model | params | epochs | train loss | train acc | test loss | test acc | status |"
    csv_out = run("compare", "--format", "csv", "--plot", str(tmp_path / "overlay.png"), *plain)
    assert csv_out.output.splitlines()[0] == "model,params,epochs,train loss,train acc,test loss,test acc,status,run"
    assert csv_out.output.splitlines()[1].endswith("," + plain[0])  # the run directory, for tools
    assert (tmp_path / "overlay.png").read_bytes()[:4] == b"\x89PNG"
    grouped = run("compare", "--mean-over", "training.seed", *runs).output.splitlines()
    assert len(grouped) == 4 and grouped[2].split()[:2] in (["iris-act", "2"], ["iris-base", "2"])
    assert "±" in grouped[2]
    whole = run("compare", str(tmp_path))  # the runs folder stands for the runs in it
    assert whole.exit_code == 0 and whole.output == text.output
    (tmp_path / "empty").mkdir()
    bad = run("compare", str(tmp_path / "empty"))
    assert bad.exit_code == 2 and "not a run directory" in bad.output


def test_validate_a_folder(at_root):
    result = run("validate", "specs")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("ok: ")]
    assert "ok: specs/model5.yaml (model5: 10 layers, 614,287 params)" in lines
    assert "ok: specs/sweeps/iris_seeds.yaml (sweep iris-seeds: 10 trials)" in lines
    assert len(lines) == len(list((ROOT / "specs").rglob("*.yaml")))
    # Data not downloaded here is a warning (training needs it), said once for the parent that names it.
    warnings = [line for line in result.output.splitlines() if ": warning: " in line]
    assert len(warnings) == len(set(warnings)) and any("data/elephants/train" in w and "Kaggle" in w for w in warnings)


def test_every_command_module_is_listed_and_loads_only_itself():
    """Commands load lazily: each module of regspec/cli with a `command` must be in COMMANDS
    under its click name, or users could not reach it."""
    import importlib
    import subprocess
    import sys

    from regspec.cli import COMMANDS

    modules = {p.stem for p in (ROOT / "regspec" / "cli").glob("*.py")} - {"__init__", "edge"}
    assert set(COMMANDS.values()) == modules
    for name, module in COMMANDS.items():
        assert importlib.import_module(f"regspec.cli.{module}").command.name == name
    listed = run("--help").output
    assert all(f"  {name} " in listed for name in COMMANDS if name != "docs") and "  docs " not in listed
    probe = ("import sys; sys.argv = ['regspec', 'validate', 'specs/iris/base.yaml']; import regspec.cli as c\n"
             "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('regspec.cli.')), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "['regspec.cli.edge', 'regspec.cli.validate']"


def test_the_program_exits_with_the_command_s_code_and_all_its_output(tmp_path):
    """`regspec` leaves without the interpreter's teardown: exit codes and piped output must
    be exactly what the command made."""
    import subprocess
    import sys

    def prog(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "regspec", *args], cwd=ROOT, capture_output=True)

    ok = prog("validate", "specs/iris/base.yaml")
    assert ok.returncode == 0 and ok.stdout == b"ok: specs/iris/base.yaml (iris-base: 5 layers, 152,515 params)\n"
    bad = prog("validate", "tests/cases/invalid/ranges.yaml")
    expected = (ROOT / "tests/cases/invalid/ranges.err").read_text()
    assert bad.returncode == 2 and bad.stderr.decode() == expected
    assert prog("nosuch").returncode == 2  # click's usage error
    schema = prog("schema", "-o", "-")  # ~100 KB through a pipe: every byte flushed before the exit
    assert schema.returncode == 0 and json.loads(schema.stdout) == json.loads((ROOT / "schemas/regspec.schema.json").read_text())
    head = subprocess.run(f"{sys.executable} -m regspec schema -o - | head -c 10", shell=True, cwd=ROOT, capture_output=True)
    assert head.stdout == schema.stdout[:10] and head.stderr == b""
    many = " ".join(["specs"] * 40)  # more lines than a pipe holds, to a reader that leaves at once
    first = subprocess.run(f"{sys.executable} -m regspec validate {many} | head -1", shell=True, cwd=ROOT,
                           capture_output=True)
    assert first.stdout.startswith(b"ok: specs/") and first.stdout.count(b"\n") == 1 and first.stderr == b""


def test_validate_takes_set_as_every_other_spec_command_does(at_root):
    ok = run("validate", "specs/iris/base.yaml", "--set", "layers.fc1.units=8")
    assert ok.exit_code == 0 and "20,971 params" in ok.output  # the override applied: fewer parameters
    bad = run("validate", "specs/iris/base.yaml", "--set", "training.epochs=x")
    assert bad.exit_code == 2 and "--set training.epochs=x:1:17: error: training.epochs: must be an integer" in bad.output


def test_validate_caps_a_key_bomb_and_warns_of_a_softmax_over_one_unit(tmp_path):
    keys = "\n".join(f"  k{i}: 1" for i in range(1000))
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("regspec: 1\nname: b\ninput: {shape: [4]}\nlayers: [{type: dense, units: 2}]\ncompile:\n" + keys + "\n")
    result = run("validate", str(bomb))
    assert result.exit_code == 2 and len(result.output.splitlines()) == 201
    assert result.output.splitlines()[-1] == "... and 800 more (--format json lists every one)"
    assert len(json.loads(run("validate", "--format", "json", str(bomb)).output)["errors"]) == 1000
    one = tmp_path / "one.yaml"
    one.write_text("regspec: 1\nname: o\ninput: {shape: [4]}\nlayers: [{type: dense, units: 1, activation: softmax}]\n"
                   "compile: {loss: binary_crossentropy}\n")
    result = run("validate", str(one))
    assert result.exit_code == 0
    assert "4:46: warning: layers[0].activation: softmax over one unit always outputs 1.0" in result.output


def test_validate_refuses_weights_larger_than_this_machines_memory(tmp_path, monkeypatch):
    from regspec import pipeline

    monkeypatch.setattr(pipeline, "physical_memory", lambda: 8 * 2**30)
    huge = tmp_path / "huge.yaml"
    huge.write_text("regspec: 1\nname: h\ninput: {shape: [224, 224, 3]}\nlayers:\n  - {type: flatten}\n"
                    "  - {type: dense, name: big, units: 100000}\ncompile: {loss: mse}\n")
    result = run("validate", str(huge))
    assert result.exit_code == 2
    assert "6:5: error: layers[1]: the model's weights alone need 56.08 GB (15,052,900,000 parameters" in result.output
    assert "this machine has 8.00 GB" in result.output
    assert "Total params: 152,515 (595.76 KB)" in run("summary", str(ROOT / "specs/iris/base.yaml")).output


def test_a_long_hostile_value_is_cut_in_the_message(tmp_path):
    long = tmp_path / "long.yaml"
    long.write_text("regspec: 1\nname: l\ninput: {shape: [4]}\nlayers: [{type: dense, units: 2}]\n"
                    f"compile: {{loss: {'x' * 300}}}\n")
    (line,) = [ln for ln in run("validate", str(long)).output.splitlines() if ": error: " in ln]
    message = line.split(": error: ", 1)[1].split(" (expected one of")[0]
    assert message == f"compile.loss: unknown value '{'x' * 40}'... (300 characters)"


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path):
    spec = tmp_path / "q.yaml"
    spec.write_text('regspec: 1\nname: q\ninput: {shape: [4]}\nlayers: [{type: dense, units: 2}]\ncompile: {loss: mse}\n'
                    'description: "an unclosed quote\n')
    assert run("validate", str(spec)).output.strip() == f"{spec}:6:14: error: invalid YAML: a quote that is never closed"
