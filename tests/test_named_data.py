"""Several inputs and outputs fed from named CSV columns: checked against the model at validate time,
trained end to end with preprocessing adapted on the train split only, served from raw rows by
predict, evaluate and a SavedModel that takes a dict of raw strings."""

import csv
import json
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from regspec.cli import main
from tests.conftest import SPECS

ROOT = SPECS.parent
TICKETS = SPECS / "tickets" / "tickets.yaml"
CENSUS = SPECS / "wide_deep" / "census.yaml"


def tickets_in(tmp_path: Path, rows: int = 160, extra: str = "") -> Path:
    """The tickets spec beside a small CSV this test makes (the shipped script's generator)."""
    make = runpy.run_path(str(ROOT / "scripts" / "make_tickets_data.py"))
    with open(tmp_path / "tickets.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "body", *(f"tag_{i}" for i in range(12)), "priority", "department"])
        w.writerows(make["rows"](rows, 3))
    spec = tmp_path / "tickets.yaml"
    spec.write_text(TICKETS.read_text().replace("epochs: 10", "epochs: 2") + extra)
    return spec


def validate(path: Path) -> list[str]:
    result = CliRunner().invoke(main, ["validate", str(path)])
    return [line.replace(str(path.parent) + "/", "") for line in result.output.splitlines()]


def _trained(spec: Path, out: Path, run_name: str) -> Path:
    """`regspec compile SPEC --train`, which must succeed; the run directory it made."""
    result = CliRunner().invoke(main, ["compile", str(spec), "--train", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return next(out.glob(f"{run_name}-*"))


def test_the_data_is_checked_against_the_model_at_its_lines(tmp_path):
    spec = tickets_in(tmp_path, rows=20)
    assert validate(spec)[0].startswith("ok: tickets.yaml")
    text = spec.read_text()
    bad = (text.replace("    title: title\n", "    titel: title\n")
               .replace("    body: body\n", "    body: bodyy\n")
               .replace("{priority: priority, department: department}", "{priority: priority, departement: department}")
               .replace("  - {name: tags, shape: [12]}", "  - {name: tags, shape: [12]}\n  - {name: extra, shape: [1]}"))
    spec.write_text(bad)
    assert validate(spec) == [
        "tickets.yaml:33:5: error: data.inputs.titel: 'titel' is not a model input (did you mean 'title'?)",
        "tickets.yaml:33:5: error: data.inputs: model input(s) 'title', 'extra' have no column "
        "(map every model input to its column(s))",
        "tickets.yaml:34:11: error: data.inputs.body: columns ['bodyy'] not in the header of tickets.csv "
        "(the file's first line names its columns)",
        "tickets.yaml:36:12: error: data.outputs: output 'department' has no label column "
        "(map every output to its label column)",
        "tickets.yaml:36:33: error: data.outputs.departement: 'departement' is not a model output "
        "(did you mean 'department'?)",
    ]


def test_a_text_column_into_a_number_input_and_labels_for_one_of_two_outputs(tmp_path):
    spec = tickets_in(tmp_path, rows=20)
    spec.write_text(spec.read_text()
                    .replace("tags: [tag_0, tag_1", "tags: [title, tag_1")
                    .replace("  outputs: {priority: priority, department: department}", "  label: priority"))
    assert validate(spec) == [
        "tickets.yaml:34:11: error: data.inputs.tags: column 'title' holds text (tickets.csv:2); input 'tags' takes "
        "float32 (text goes into an input with dtype: string (then a text_vectorization or string_lookup layer))",
        "tickets.yaml:35:10: error: data.label: the model has 2 outputs (priority, department): one label column "
        "feeds one (map each output to its labels in data.outputs)",
    ]


@pytest.mark.tf
def test_tickets_train_from_raw_text_and_serve_the_same_outputs(tmp_path):
    spec = tickets_in(tmp_path)
    out = tmp_path / "runs"
    run = _trained(spec, out, "tickets-text")
    metrics = json.loads((run / "metrics.json").read_text())
    # Per output: each output's loss and metric, on train and test.
    assert {"loss", "priority_loss", "department_loss", "priority_accuracy", "department_accuracy"} <= set(metrics["test"])
    history = json.loads((run / "history.json").read_text())
    assert len(history["val_department_accuracy"]) == 2
    listing = CliRunner().invoke(main, ["compare", str(out)])
    assert "test department_accuracy" in listing.output

    # New raw rows, without labels: predict reads the trained columns by name (in another order).
    rows = list(csv.reader(open(tmp_path / "tickets.csv")))
    header = rows[0]
    keep = ["body", *(f"tag_{i}" for i in range(12)), "title"]
    with open(tmp_path / "new.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(keep)
        for r in rows[1:9]:
            w.writerow([r[header.index(c)] for c in keep])
    predicted = CliRunner().invoke(main, ["predict", str(run), str(tmp_path / "new.csv"), "--format", "json"])
    assert predicted.exit_code == 0, predicted.output
    table = json.loads(predicted.output)
    assert len(table) == 8 and table[0]["line"] == 2
    assert table[0]["department"] in {"account", "billing", "shipping", "technical"}
    assert set(table[0]) >= {"priority", "priority_probability_1", "department_probability_billing"}

    evaluated = CliRunner().invoke(main, ["evaluate", str(run), str(tmp_path / "tickets.csv"), "--format", "json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert {"priority_loss", "department_accuracy"} <= set(json.loads(evaluated.output)["metrics"])

    # A SavedModel that takes a dict of raw strings gives what predict gave.
    exported = CliRunner().invoke(main, ["export", str(run), "--format", "saved_model"])
    assert exported.exit_code == 0, exported.output
    import tensorflow as tf

    loaded = tf.saved_model.load(str(run / "export" / "saved_model"))
    cols = {c: [r[header.index(c)] for r in rows[1:9]] for c in header}
    raw = {"title": tf.constant([[t] for t in cols["title"]]), "body": tf.constant([[t] for t in cols["body"]]),
           "tags": tf.constant([[float(cols[f"tag_{i}"][j]) for i in range(12)] for j in range(8)])}
    served = loaded.serve(raw)
    np.testing.assert_allclose(np.asarray(served["department"])[:, 1],
                               [r["department_probability_billing"] for r in table], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(served["priority"])[:, 0],
                               [r["priority_probability_1"] for r in table], rtol=1e-5, atol=1e-6)


@pytest.mark.tf
def test_wide_and_deep_fits_its_vocabularies_on_the_train_split_only(tmp_path):
    for name in ("census.yaml", "census_train.csv", "census_test.csv"):
        shutil.copy(CENSUS.parent / name, tmp_path / name)
    spec = tmp_path / "census.yaml"
    spec.write_text(spec.read_text().replace("epochs: 20", "epochs: 2"))
    out = tmp_path / "runs"
    run = _trained(spec, out, "census-wide-deep")
    import keras

    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    lookup = model.get_layer("workclass_onehot")
    vocabulary = lookup.get_vocabulary()
    assert "private" in vocabulary and "never_worked" not in vocabulary  # only in the test split
    # The test-only value maps to the out-of-vocabulary id (0): its one-hot column is the first.
    np.testing.assert_array_equal(np.asarray(lookup(np.array([["never_worked"], ["private"]]))).argmax(axis=1),
                                  [0, vocabulary.index("private")])
    region = model.get_layer("region_onehot").get_vocabulary()
    assert sorted(int(v) for v in region[1:]) == [1, 2, 3, 4, 5, 6]
    # The normalization saw the train split's ages and hours only.
    train = np.loadtxt(tmp_path / "census_train.csv", delimiter=",", skiprows=1, usecols=(0, 1))
    np.testing.assert_allclose(np.asarray(model.get_layer("numeric_norm").mean).ravel(), train.mean(axis=0), rtol=1e-5)
    predicted = CliRunner().invoke(main, ["predict", str(run), str(tmp_path / "census_test.csv")])
    assert predicted.exit_code == 0, predicted.output
    assert predicted.output.splitlines()[0] == "line,income,income_probability_<=50k,income_probability_>50k"
    # Their converters write lookup tables that onnxruntime and LiteRT refuse: said, not written.
    for fmt in ("onnx", "litert"):
        refused = CliRunner().invoke(main, ["export", str(run), "--format", fmt])
        assert refused.exit_code == 2 and "cannot hold the vocabulary tables of IntegerLookup, StringLookup" in \
            refused.output, refused.output
    assert not (run / "export").exists()


def _text_copy(tmp_path: Path, *names: str) -> None:
    for name in names:
        shutil.copy(SPECS / "text" / name, tmp_path / name)


@pytest.mark.tf
def test_a_text_classifier_on_raw_strings_trains_and_predicts_raw_text(tmp_path):
    make = runpy.run_path(str(ROOT / "scripts" / "make_reviews_data.py"))
    with open(tmp_path / "reviews.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["review", "sentiment"])
        w.writerows(make["reviews"](200, 5))
    _text_copy(tmp_path, "reviews.yaml")
    spec = tmp_path / "reviews.yaml"
    spec.write_text(spec.read_text().replace("epochs: 8", "epochs: 2"))
    out = tmp_path / "runs"
    run = _trained(spec, out, "reviews-text-cnn")
    (tmp_path / "new.csv").write_text("review\nA wonderful brilliant film.\nThe worst and most boring movie.\n")
    predicted = CliRunner().invoke(main, ["predict", str(run), str(tmp_path / "new.csv"), "--format", "json"])
    assert predicted.exit_code == 0, predicted.output
    rows = json.loads(predicted.output)
    assert [r["line"] for r in rows] == [2, 3] and all(0 <= r["sentiment_probability_1"] <= 1 for r in rows)


@pytest.mark.tf
def test_an_imdb_style_sequence_classifier_trains_on_a_local_copy(tmp_path):
    # A local copy in imdb's layout, as the test writes it: ids by frequency from 4, 1 starts, 0 pads.
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 40, size=120)
    y = rng.integers(0, 2, size=120)
    x = np.zeros((120, 40), dtype="int32")
    for i, (n, label) in enumerate(zip(lengths, y)):
        words = rng.integers(4, 900, size=n)
        words[: n // 3] = 4 + label  # the label's word, often
        x[i, -n - 1:] = [1, *words]
    np.savez(tmp_path / "imdb_small.npz", x_train=x[:90], y_train=y[:90], x_test=x[90:], y_test=y[90:])
    _text_copy(tmp_path, "imdb.yaml", "imdb_small.yaml")
    spec = tmp_path / "imdb_small.yaml"
    spec.write_text(spec.read_text().replace("training.epochs: 4", "training.epochs: 1"))
    from regspec.api import load
    from regspec.backend.keras.data import load_data

    loaded = load(spec)
    data = load_data(loaded.program, 1)
    words, _ = next(iter(data.train_eval))
    assert words.shape[1] == 60 and words.dtype.name == "int32"
    assert int(np.max(words)) < 500 and 2 in np.asarray(words)  # ids past num_words: the out-of-vocabulary id
    first = np.asarray(words)[0]
    assert first[0] == 0 and first[-1] != 0  # padded at the start, as keras.utils.pad_sequences does
    result = CliRunner().invoke(main, ["compile", str(spec), "--train", "--out", str(tmp_path / "runs"), "-q"])
    assert result.exit_code == 0, result.output
    assert "imdb-small-bilstm: finished" in result.output


@pytest.mark.tf
def test_the_imdb_bilstm_is_what_keras_io_builds_by_hand():
    from regspec.api import load
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import described
    from regspec.backend.keras.env import keras

    k = keras()
    ours = build_model(load(SPECS / "text" / "imdb.yaml").program)
    # keras-io examples/nlp/bidirectional_lstm_imdb.py
    inputs = k.Input(shape=(None,), dtype="int32")
    x = k.layers.Embedding(20000, 128)(inputs)
    x = k.layers.Bidirectional(k.layers.LSTM(64, return_sequences=True))(x)
    x = k.layers.Bidirectional(k.layers.LSTM(64))(x)
    theirs = k.Model(inputs, k.layers.Dense(1, activation="sigmoid")(x))
    assert ours.count_params() == theirs.count_params() == 2_757_761
    assert described(ours) == described(theirs)


def test_imdb_needs_maxlen_and_image_sets_take_no_text_settings(tmp_path):
    from regspec.api import load
    from regspec.diagnostics import SpecError

    spec = tmp_path / "m.yaml"
    spec.write_text((SPECS / "text" / "imdb.yaml").read_text().replace("  maxlen: 200\n", ""))
    with pytest.raises(SpecError) as info:
        load(spec)
    assert "imdb's sequences differ in length: set maxlen (e.g. 200)" in info.value.diagnostics[0].message
    spec.write_text((SPECS / "text" / "imdb.yaml").read_text().replace("name: imdb\n", "name: mnist\n"))
    with pytest.raises(SpecError) as info:
        load(spec)
    assert "num_words and maxlen apply to imdb and reuters, not mnist" in info.value.diagnostics[0].message


TWO_BY_TWO = """regspec: 1
name: two-by-two
inputs:
  - {name: a, shape: [3]}
  - {name: b, shape: [2]}
layers:
  - {type: concatenate, name: ab, inputs: [a, b]}
  - {type: dense, name: hidden, units: 8, activation: relu}
  - {type: dense, name: kind, inputs: hidden, units: 3, activation: softmax}
  - {type: dense, name: amount, inputs: hidden, units: 1}
outputs: [kind, amount]
compile:
  loss: {kind: sparse_categorical_crossentropy, amount: mse}
  metrics: {kind: [accuracy], amount: [mae]}
data: {type: npz, path: arrays.npz, inputs: {a: left, b: right}, outputs: {kind: kind, amount: size}}
training: {epochs: 2, batch_size: 16, seed: 1}
"""


@pytest.mark.tf
def test_named_arrays_of_an_npz_feed_two_inputs_and_two_outputs(tmp_path):
    rng = np.random.default_rng(0)
    left, right = rng.normal(size=(80, 3)).astype("float32"), rng.normal(size=(80, 2)).astype("float32")
    kind = (left[:, 0] > 0).astype("int64") + (right[:, 0] > 0)
    np.savez(tmp_path / "arrays.npz", left_train=left[:60], right_train=right[:60], kind_train=kind[:60],
             size_train=left[:60].sum(axis=1), left_test=left[60:], right_test=right[60:], kind_test=kind[60:],
             size_test=left[60:].sum(axis=1))
    (tmp_path / "m.yaml").write_text(TWO_BY_TWO)
    assert validate(tmp_path / "m.yaml")[0].startswith("ok: m.yaml")
    out = tmp_path / "runs"
    run = _trained(tmp_path / "m.yaml", out, "two-by-two")
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"kind_loss", "kind_accuracy", "amount_loss", "amount_mae"} <= set(metrics["test"])
    np.savez(tmp_path / "new.npz", left=left[:4], right=right[:4])
    predicted = CliRunner().invoke(main, ["predict", str(run), str(tmp_path / "new.npz"), "--format", "json"])
    assert predicted.exit_code == 0, predicted.output
    rows = json.loads(predicted.output)
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert set(rows[0]) == {"index", "kind", "kind_probability_0", "kind_probability_1", "kind_probability_2", "amount"}
    # A NaN in a named array is refused before training, naming the input.
    bad = left.copy()
    bad[3, 1] = np.nan
    np.savez(tmp_path / "arrays.npz", left_train=bad[:60], right_train=right[:60], kind_train=kind[:60],
             size_train=left[:60].sum(axis=1))
    refused = CliRunner().invoke(main, ["compile", str(tmp_path / "m.yaml"), "--train", "--out", str(out), "-q"])
    assert refused.exit_code == 2 and "m.yaml:15:49: error: data.inputs.a: " in refused.output, refused.output
    assert "of input 'a' has a NaN or infinite value" in refused.output  # in the train or the test split
    # An output without labels is refused at validate time, at its line.
    (tmp_path / "m.yaml").write_text(TWO_BY_TWO.replace(", amount: size}", "}"))
    assert validate(tmp_path / "m.yaml") == [
        "m.yaml:15:75: error: data.outputs: output 'amount' has no label column (map every output to its label column)"]


@pytest.mark.tf
def test_the_shipped_text_and_tabular_models_are_what_keras_by_hand_builds():
    from regspec.api import load
    from regspec.backend.keras.build import build_model
    from regspec.backend.keras.compare import described
    from regspec.backend.keras.env import keras

    k, layers = keras(), keras().layers
    # specs/text/reviews.yaml
    review = k.Input((1,), dtype="string", name="review")
    x = layers.TextVectorization(max_tokens=2000, output_sequence_length=80, name="tokens")(review)
    x = layers.Embedding(2000, 32, name="embed")(x)
    x = layers.Conv1D(32, 5, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(0.3)(layers.Dense(32, activation="relu")(x))
    reviews = k.Model(review, layers.Dense(1, activation="sigmoid", name="sentiment")(x))
    # specs/wide_deep/census.yaml
    age, hours = k.Input((1,), name="age"), k.Input((1,), name="hours_per_week")
    work, edu = k.Input((1,), dtype="string", name="workclass"), k.Input((1,), dtype="string", name="education")
    region = k.Input((1,), dtype="int64", name="region")
    work_1h = layers.StringLookup(output_mode="one_hot", max_tokens=8, pad_to_max_tokens=True, name="workclass_onehot")(work)
    region_1h = layers.IntegerLookup(output_mode="one_hot", max_tokens=8, pad_to_max_tokens=True,
                                     name="region_onehot")(region)
    age_bins = layers.Discretization(num_bins=5, output_mode="one_hot", name="age_bins")(age)
    edu_vec = layers.Flatten(name="education_vec")(layers.Embedding(8, 4, name="education_emb")(
        layers.StringLookup(name="education_ids")(edu)))
    numeric = layers.Normalization(name="numeric_norm")(layers.Concatenate(name="numeric")([age, hours]))
    wide = layers.Concatenate(name="wide")([work_1h, region_1h, age_bins])
    deep = layers.Concatenate(name="deep_in")([edu_vec, numeric, work_1h, region_1h])
    deep = layers.Dropout(0.1, name="deep1_dropout")(layers.Dense(32, activation="relu", name="deep1")(deep))
    deep = layers.Dense(16, activation="relu", name="deep2")(deep)
    out = layers.Dense(1, activation="sigmoid", name="income")(layers.Concatenate(name="both")([wide, deep]))
    census = k.Model([age, hours, work, edu, region], out)
    for path, theirs in (("text/reviews.yaml", reviews), ("wide_deep/census.yaml", census)):
        ours = build_model(load(SPECS / path).program)
        assert ours.count_params() == theirs.count_params(), path
        assert sorted(described(ours)) == sorted(described(theirs)), path


def test_a_sweep_ranks_by_one_outputs_metric(tmp_path):
    from regspec.diagnostics import SpecError
    from regspec.sweep.plan import plan

    spec = tickets_in(tmp_path, rows=20)
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"regspec-sweep: 1\nname: t\nbase: {spec}\naxes:\n  layers.x.dropout: [0.0, 0.5]\n"
                     "metric: test.department_accuracy\n")
    assert len(plan(str(sweep)).trials) == 2
    sweep.write_text(sweep.read_text().replace("test.department_accuracy", "test.departmnt_accuracy"))
    with pytest.raises(SpecError) as info:
        plan(str(sweep))
    assert info.value.diagnostics[0].hint == "did you mean 'test.department_accuracy'?"


@pytest.mark.tf
def test_text_cells_cost_their_own_length_not_the_longest(tmp_path):
    from regspec.api import load
    from regspec.backend.keras.data import load_data

    spec = tickets_in(tmp_path, rows=40)
    rows = list(csv.reader(open(tmp_path / "tickets.csv")))
    rows[1][1] = "word " * 20_000  # one 100 KB body: fixed-width text would make every body 400 KB
    with open(tmp_path / "tickets.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    data = load_data(load(spec).program, 1)
    body = data.train_inputs["body"]
    assert body.dtype == object and body.shape[1:] == (1,)
    assert sum(len(v) for v in body.ravel()) < 120_000


def test_new_named_data_is_refused_at_its_cell():
    """predict/evaluate read named columns: a missing column, a bad number, a bad target, each named (no TensorFlow)."""
    import tempfile

    from regspec.rundir.records import NamedInput, NamedOutput, NamedRecord
    from regspec.serving.named import read_named
    from regspec.serving.record import ServingError

    record = NamedRecord(inputs={"a": NamedInput(columns=("a", "b"), dtype="float32", shape=(2,)),
                                 "t": NamedInput(columns=("t",), dtype="string", shape=(1,))},
                         outputs={"y": NamedOutput(label="y", loss="mse")})
    folder = Path(tempfile.mkdtemp())
    cases = {"a,t,y\n1,x,2\n": "lacks the column(s) the model was trained on: 'b'",
             "a,b,t,y\n1,2,x,2.5\n2,inf,z,1\n": "d.csv:3:2: error: column 'b' is not finite ('inf')",
             "a,b,t,y\n1,2,x,2.5\n2,3,z,oops\n": "d.csv:3:4: error: label column 'y' is not a number ('oops')"}
    for text, message in cases.items():
        (folder / "d.csv").write_text(text)
        with pytest.raises(ServingError) as info:
            read_named([str(folder / "d.csv")], record, labels=True)
        assert message in info.value.diagnostics[0].format(), info.value.diagnostics[0].format()
    (folder / "d.csv").write_text("t,b,a,extra\nhello,2,1,9\n")
    got = read_named([str(folder / "d.csv")], record, labels=False)
    assert got.x["a"].tolist() == [[1.0, 2.0]] and got.x["t"].tolist() == [["hello"]] and got.examples == [2]
