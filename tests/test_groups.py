"""--mean-over names each group by what sets it apart, whatever the order of the sweep's axes
(the group was named by the common prefix of its run names, which lost every axis after the
averaged one), and an empty comparison is an error. Run directories are made here as training
writes them; no TensorFlow."""

import itertools
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from regspec.cli import main
from regspec.report.diff import diff, format_diff

L2 = [0.0001, 0.001, 0.01]
DROPOUT = [0.2, 0.5]
SEEDS = [1, 2]


def sweep_runs(root: Path, order: tuple[str, ...]) -> None:
    """A 3 x 2 x 2 sweep's run directories, named as a sweep names its trials (axes in ``order``),
    with a test accuracy that depends on l2 and dropout, plus a little noise per seed."""
    for l2, rate, seed in itertools.product(L2, DROPOUT, SEEDS):
        value = {"l2": f"l2_{l2:g}", "dropout": f"dropout_{rate:g}", "seed": f"seed_{seed}"}
        name = "sw-" + "-".join(value[axis] for axis in order)
        run = root / name
        run.mkdir(parents=True)
        acc = 0.9 - 5 * l2 - 0.1 * rate + 0.001 * seed
        (run / "run.json").write_text(json.dumps({"name": name, "status": "finished"}))
        (run / "metrics.json").write_text(json.dumps({"params": 10, "epochs_run": 3,
                                                      "test": {"loss": 1 - acc, "accuracy": acc}}))
        (run / "spec.yaml").write_text(
            f"regspec: 1\nname: {name}\nlayers:\n"
            f"- {{type: dense, name: fc1, units: 8, kernel_regularizer: {{l1: null, l2: {l2}}}, dropout: null}}\n"
            f"- {{type: dropout, name: fc1_dropout, rate: {rate}, seed: null, repeat: 1}}\n"
            "- {type: dense, name: out, units: 3, dropout: null}\n"
            f"training: {{seed: {seed}}}\n")


def compare(*args) -> list[dict]:
    result = CliRunner().invoke(main, ["compare", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("order", list(itertools.permutations(("l2", "dropout", "seed"))))
def test_groups_are_named_by_the_axes_not_averaged_in_any_order(tmp_path, order):
    sweep_runs(tmp_path, order)
    rows = compare(tmp_path, "--mean-over", "training.seed")
    assert len(rows) == 6 and {r["runs"] for r in rows} == {"2"}
    assert len({r["model"] for r in rows}) == 6  # six groups, six names
    named = set()
    for row in rows:
        (l2, rate), = [(a, b) for a, b in itertools.product(L2, DROPOUT) if has(row["model"], a) and has(row["model"], b)]
        named.add((l2, rate))
        acc = [0.9 - 5 * l2 - 0.1 * rate + 0.001 * s for s in SEEDS]
        assert row["test acc"].startswith(f"{sum(acc) / 2:.4f}")  # the group holds the runs its name says
    assert named == set(itertools.product(L2, DROPOUT))


def has(label: str, value: float) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(f'{value:g}')}(?![\d])", label) is not None


@pytest.mark.parametrize("order", [("seed", "l2", "dropout"), ("l2", "seed", "dropout"), ("l2", "dropout", "seed")])
def test_two_averaged_axes(tmp_path, order):
    sweep_runs(tmp_path, order)
    rows = compare(tmp_path, "--mean-over", "training.seed,layers.fc1.dropout")
    assert [r["runs"] for r in rows] == ["4", "4", "4"]
    assert sorted(next(v for v in L2 if has(r["model"], v)) for r in rows) == L2
    for row in rows:
        assert not any(has(row["model"], rate) for rate in DROPOUT), row["model"]  # averaged: not in the name


def test_a_group_named_by_values_is_a_baseline_and_its_verdicts_are_there(tmp_path):
    sweep_runs(tmp_path, ("seed", "l2", "dropout"))  # the averaged axis first: names do not tell groups apart
    rows = compare(tmp_path, "--mean-over", "training.seed")
    base = rows[0]["model"]
    assert base == "layers.fc1.kernel_regularizer.l2=0.0001, layers.fc1.dropout=0.2"
    verdicts = compare(tmp_path, "--mean-over", "training.seed", "--baseline", base)
    accuracy = [d for d in verdicts if d["metric"] == "test accuracy"]
    assert len(accuracy) == 5 and all(d["baseline"] == base for d in accuracy)
    assert {d["verdict"] for d in accuracy} == {"worse"}  # more l2 or more dropout: lower accuracy here


def test_an_empty_comparison_is_an_error(tmp_path):
    sweep_runs(tmp_path, ("l2", "dropout", "seed"))
    one = [p for p in tmp_path.iterdir() if "l2_0.0001-dropout_0.2" in p.name]
    result = CliRunner().invoke(main, ["compare", *map(str, one), "--mean-over", "training.seed",
                                       "--baseline", "sw-l2_0.0001-dropout_0.2"])
    assert result.exit_code == 2 and "nothing to compare it with" in result.output
    report = CliRunner().invoke(main, ["report", *map(str, one), "-o", str(tmp_path / "r.html"), "--mean-over",
                                       "training.seed", "--baseline", "sw-l2_0.0001-dropout_0.2"])
    assert report.exit_code == 2 and "nothing to compare it with" in report.output
    missing = CliRunner().invoke(main, ["compare", str(tmp_path), "--mean-over", "training.seed,training.sed"])
    assert missing.exit_code == 2 and "--mean-over training.sed: no run's spec has this path" in missing.output


def test_differences_use_the_paths_the_user_wrote():
    a = {"layers": [{"type": "dense", "name": "fc1", "units": 8, "dropout": None},
                    {"type": "dropout", "name": "fc1_dropout", "rate": 0.2, "seed": None, "repeat": 1},
                    {"type": "dense", "name": None, "units": 3}]}
    b = {"layers": [{"type": "dense", "name": "fc1", "units": 16, "dropout": None},
                    {"type": "dense", "name": None, "units": 3}]}
    assert format_diff(diff(a, b)).splitlines() == ["~ layers.fc1.units: 8 -> 16", "~ layers.fc1.dropout: 0.2 -> null"]
    c = {"layers": [*a["layers"][:2], {"type": "dense", "name": None, "units": 4}]}
    assert format_diff(diff(a, c)) == "~ layers[1].units: 3 -> 4"  # an unnamed layer: its index as written
