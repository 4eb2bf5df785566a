"""Every article model exists as a spec and compiles to the model the article wrote by hand.

The hand-written code below is the articles' own, modernised only where Keras 3
removed the old API: `input_shape=` -> `keras.Input`, `Dense(output_dim=...)` ->
`Dense(units)`, `keras.layers.core.Dropout` -> `keras.layers.Dropout`.
"""

from pathlib import Path

import pytest
from click.testing import CliRunner

from regspec.api import load
from regspec.backend.keras.build import build_model, compile_model
from regspec.backend.keras.env import keras
from regspec.cli import main
from tests.conftest import ROOT, SPECS

pytestmark = pytest.mark.tf

k = keras()
Sequential, Input = k.Sequential, k.Input
Conv2D, MaxPooling2D, Flatten, Dense, Dropout = (k.layers.Conv2D, k.layers.MaxPooling2D, k.layers.Flatten,
                                                 k.layers.Dense, k.layers.Dropout)
regularizers = k.regularizers
img_row = img_col = 150


def model1():
    m = Sequential()
    m.add(Input(shape=(img_row, img_col, 3)))
    m.add(Conv2D(64, (5, 5), activation="relu"))
    m.add(MaxPooling2D(pool_size=(2, 2)))
    m.add(Conv2D(32, (5, 5), activation="relu"))
    m.add(MaxPooling2D(pool_size=(2, 2)))
    m.add(Conv2D(16, (5, 5), activation="relu"))
    m.add(MaxPooling2D(pool_size=(2, 2)))
    m.add(Flatten())
    m.add(Dense(126, activation="relu"))
    m.add(Dense(52, activation="relu"))
    m.add(Dense(1, activation="sigmoid"))
    return m


def elephants_3x3(conv2=None, conv3=None, fc2=None):
    m = Sequential()
    m.add(Input(shape=(img_row, img_col, 3)))
    m.add(Conv2D(64, (3, 3), activation="relu"))
    m.add(MaxPooling2D(pool_size=(2, 2)))
    m.add(Conv2D(32, (3, 3), activation="relu", kernel_regularizer=conv2))
    m.add(MaxPooling2D(pool_size=(2, 2)))
    m.add(Conv2D(16, (3, 3), activation="relu", kernel_regularizer=conv3))
    m.add(MaxPooling2D(pool_size=(2, 2)))
    m.add(Flatten())
    m.add(Dense(126, activation="relu"))
    m.add(Dense(52, activation="relu", kernel_regularizer=fc2))
    m.add(Dense(1, activation="sigmoid"))
    return m


def rps(reg=None, dropout=False):
    layers = [
        Input(shape=(224, 224, 3)),
        Conv2D(64, (3, 3), activation="relu"), MaxPooling2D(2, 2),
        Conv2D(64, (3, 3), activation="relu"), MaxPooling2D(2, 2),
        Conv2D(128, (3, 3), activation="relu", kernel_regularizer=reg() if reg else None), MaxPooling2D(2, 2),
        Conv2D(128, (3, 3), activation="relu", kernel_regularizer=reg() if reg else None), MaxPooling2D(2, 2),
        Flatten(),
        Dense(512, activation="relu", kernel_regularizer=reg() if reg else None),
    ]
    if dropout:
        layers.append(Dropout(0.2))
    layers.append(Dense(3, activation="softmax"))
    return Sequential(layers)


input_num_units, hidden_num_units, output_num_units = 784, 500, 10


def mnist(reg=None, dropout=False, first=()):
    layers = [Input(shape=(input_num_units,)), *first]
    for _ in range(5):
        layers.append(Dense(hidden_num_units, activation="relu", kernel_regularizer=reg() if reg else None))
        if dropout:
            layers.append(Dropout(0.25))
    layers.append(Dense(output_num_units, activation="softmax"))
    return Sequential(layers)


def iris(activity=None):
    return Sequential([
        Input(shape=(4,)),
        Dense(512, activation="tanh", activity_regularizer=activity),
        Dense(512 // 2, activation="tanh"),
        Dense(512 // 8, activation="tanh"),
        Dense(32, activation="relu"),
        Dense(3, activation="softmax"),
    ])


ARTICLES = {
    "model1.yaml": model1,
    "model3.yaml": lambda: elephants_3x3(conv3=regularizers.l1(0.001)),
    "model5.yaml": lambda: elephants_3x3(conv2=regularizers.l1(0.001), fc2=regularizers.l1(0.001)),
    "model2.yaml": lambda: elephants_3x3(conv3=regularizers.l2(0.001)),
    "model4.yaml": lambda: elephants_3x3(conv2=regularizers.l2(0.001), fc2=regularizers.l2(0.001)),
    "rps/base.yaml": rps,
    "rps/l1.yaml": lambda: rps(reg=lambda: regularizers.l1(0.01)),
    "rps/l2.yaml": lambda: rps(reg=lambda: regularizers.l2(0.01)),
    "rps/dropout.yaml": lambda: rps(dropout=True),
    "mnist/base.yaml": mnist,
    "mnist/l2.yaml": lambda: mnist(reg=lambda: regularizers.l2(0.0001)),
    "mnist/l1.yaml": lambda: mnist(reg=lambda: regularizers.l1(0.0001)),
    "mnist/dropout.yaml": lambda: mnist(dropout=True),
    "mnist/augmented_dropout.yaml": lambda: mnist(dropout=True, first=(k.layers.Normalization(),)),
    "mnist/early_stopping.yaml": lambda: mnist(dropout=True),
    "iris/base.yaml": iris,
    "iris/activity.yaml": lambda: iris(activity=regularizers.l1(l1=0.001)),
}


def configs(model) -> list[tuple[str, dict]]:
    out = []
    for layer in model.layers:
        c = layer.get_config()
        c.pop("name")
        out.append((type(layer).__name__, c))
    return out


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_spec_compiles_to_the_articles_model(name):
    ours = build_model(load(SPECS / name).program)
    theirs = ARTICLES[name]()
    assert configs(ours) == configs(theirs)
    assert ours.count_params() == theirs.count_params()


def test_rps_has_the_articles_parameter_count():
    assert build_model(load(SPECS / "rps/base.yaml").program).count_params() == 9_699_395


ALL_SPECS = sorted(p for p in SPECS.rglob("*") if p.suffix in (".yaml", ".json") and p.parent.name != "sweeps")


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: str(p.relative_to(SPECS)))
def test_static_summary_totals_match_keras(path):
    spec = load(path)
    rows = spec.summary_rows()
    model = compile_model(spec.program)
    assert sum(r.trainable + r.non_trainable for r in rows) == model.count_params()
    assert sum(r.trainable for r in rows) == sum(int(w.numpy().size) for w in model.trainable_weights)
    assert tuple(rows[-1].output_shape) == tuple(model.layers[-1].output.shape[1:])


def test_every_article_spec_is_tested():
    tested = {str(Path(n)) for n in ARTICLES}
    # digits: the articles' twins; graphs, applications, text, tickets, wide_deep: models people write,
    # each against its hand-written Keras in test_graphs, test_applications and test_named_data.
    others = ("digits", "graphs", "applications", "text", "tickets", "wide_deep")
    article_specs = {str(p.relative_to(SPECS)) for p in ALL_SPECS if p.parent.name not in others}
    assert article_specs == tested


def test_training_without_the_data_says_where_it_goes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["compile", "specs/model5.yaml", "--train", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "specs/model1.yaml:" in result.output and "error: data.train:" in result.output
    assert "data/elephants/train does not exist" in result.output
    assert 'Kaggle dataset "Asian vs African Elephants"' in result.output  # the hint says where to get it


def test_compile_without_train_builds_and_saves(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["compile", "specs/model5.yaml", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Total params: 614,287" in result.output
    assert (tmp_path / "model5.keras").exists()
    loaded = k.saving.load_model(tmp_path / "model5.keras", safe_mode=True)
    assert loaded.count_params() == 614_287
