"""The run directory's records: what training writes is what every reader accepts, and nothing else."""

from __future__ import annotations

import json

import pytest

from regspec.lang.compile import CompileSection
from regspec.rundir import records


def test_a_record_written_reads_back_the_same(tmp_path) -> None:
    prep = records.PreprocessingRecord(
        source="csv", raw_shape=(4,), input_shape=(4,), features=("a", "b", "c", "d"), label="kind",
        classes=("x", "y"), standardize=records.Standardize(mean=(0.0, 1.0, 2.0, 3.0), scale=(1.0, 1.0, 2.0, 0.5)),
        loss="sparse_categorical_crossentropy")
    records.write(str(tmp_path), prep)
    assert json.loads((tmp_path / "preprocessing.json").read_text())["raw_shape"] == [4]
    assert records.read(str(tmp_path), records.PreprocessingRecord) == prep
    run = records.RunRecord(name="m", spec_hash="ab", source="/m.yaml", status="running", started="2026-01-01T00:00:00")
    records.write(str(tmp_path), run)
    assert records.read(str(tmp_path), records.RunRecord).status == "running"


@pytest.mark.parametrize("kind, change, problem", [
    (records.RunRecord, {"status": "done"}, "status: Input should be 'running', 'interrupted'"),
    (records.RunRecord, {"name": 3}, "name: Input should be a valid string"),
    (records.Metrics, {"params": True}, "params: Input should be a valid integer"),
    (records.Metrics, {"train": {"loss": "0.3"}}, "train.loss: Input should be a valid number"),
    (records.PreprocessingRecord, {"raw_shape": [4, 0]}, "raw_shape[1]: Input should be greater than 0"),
    (records.PreprocessingRecord, {"standardize": {"mean": [0] * 4, "scale": [1, 1, 0, 1]}},
     "standardize: standardize has a zero scale"),
    (records.PreprocessingRecord, {"standardize": {"mean": [0] * 3, "scale": [1] * 3}},
     "standardize holds something other than 4"),
    (records.PreprocessingRecord, {"image": {"size": [8, 8], "color_mode": "cmyk", "interpolation": "nearest"}},
     "image.color_mode: Input should be 'grayscale', 'rgb' or 'rgba'"),
])
def test_a_tampered_record_is_refused_with_the_field_named(tmp_path, kind, change, problem) -> None:
    good = {
        records.RunRecord: {"name": "m", "spec_hash": "ab", "source": "/m.yaml", "status": "finished", "started": "t"},
        records.Metrics: {"params": 10, "epochs_run": 2, "train": {"loss": 0.5, "accuracy": None}},
        records.PreprocessingRecord: {"format": 1, "source": "npz", "raw_shape": [4], "input_shape": [None]},
    }[kind]
    kind.model_validate(good)  # the untouched record is accepted (a null score: one that was not finite)
    (tmp_path / kind.FILE).write_text(json.dumps({**good, **change}))
    with pytest.raises(records.RecordError) as info:
        records.read(str(tmp_path), kind)
    assert str(info.value).startswith(f"{kind.FILE}: ") and problem in str(info.value)
    assert not info.value.unreadable


def test_a_missing_record_is_unreadable(tmp_path) -> None:
    with pytest.raises(records.RecordError) as info:
        records.read(str(tmp_path), records.Metrics)
    assert info.value.unreadable


@pytest.mark.parametrize("loss, classifier", [
    ("sparse_categorical_crossentropy", True), ("binary_focal_crossentropy", True),
    ({"type": "categorical_crossentropy", "from_logits": True}, True), ("mse", False), ("hinge", False), (None, False),
])
def test_what_a_task_is_is_decided_from_the_loss_once(loss, classifier) -> None:
    task = CompileSection.model_validate({"loss": loss}).task
    assert task.classifier is classifier
    prep = records.PreprocessingRecord(source="npz", raw_shape=(2,), input_shape=(2,), loss=task.loss,
                                       from_logits=task.from_logits)
    assert prep.classifier is classifier  # serving reads the same answer back from the record
    assert task.from_logits is isinstance(loss, dict)


def test_weight_statistics_and_history_are_records_too(tmp_path) -> None:
    stats = {"zero_threshold": 1e-3, "layers": [{"layer": "fc1", "class": "Dense", "weights": [
        {"name": "kernel", "shape": [4, 3], "count": 12, "l1": 1.5, "l2": 0.9, "mean_abs": 0.125, "zero_fraction": 0.0,
         "histogram": {"edges": [0.0, 0.5, 1.0], "counts": [7, 5]}},
        {"name": "bias", "shape": [3], "count": 3, "l1": 0.0, "l2": 0.0, "mean_abs": 0.0, "zero_fraction": 1.0}]}]}
    records.write(str(tmp_path), records.WeightStats.model_validate(stats))
    assert json.loads((tmp_path / "weights.json").read_text()) == stats  # `class` by its name, nothing unset written
    with pytest.raises(Exception, match="count"):
        records.WeightStats.model_validate({**stats, "layers": [{**stats["layers"][0], "weights": [
            {**stats["layers"][0]["weights"][1], "count": "3"}]}]})
    records.write(str(tmp_path), records.History.model_validate({"loss": [0.9, float("nan")], "accuracy": [0.5, 0.6]}))
    assert json.loads((tmp_path / "history.json").read_text()) == {"loss": [0.9, None], "accuracy": [0.5, 0.6]}
    assert records.read(str(tmp_path), records.History).root["loss"] == [0.9, None]
