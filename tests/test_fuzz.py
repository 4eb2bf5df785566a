"""Seeded fuzzing: mutated specs, mutated YAML text and random --set items only ever raise
SpecError (a diagnostic), never another exception (a traceback for the user)."""

import copy
import random

import pytest

from regspec.api import from_document, load
from regspec.diagnostics import SpecError
from regspec.frontend.merge import read_spec
from regspec.frontend.settings import parse_sets
from regspec.frontend.source import Document, read_text
from tests.conftest import CASES, SPECS

WEIRD = [None, True, 0, -1, 2**40, 0.0, -0.5, 1e308, "", "x", "conv2d", [], {}, [1, 2], [None], {"l1": 0.1},
         {"type": "dense"}, {"type": "dense", "units": 0}, [[[]]], {"a": {"b": {}}}, "-1", [150, 150, 3], [-1],
         {"type": "input", "shape": [3]}, 3.0]
FILES = [p for p in sorted(SPECS.rglob("*.yaml")) if p.parent.name != "sweeps"] + sorted((CASES / "valid").iterdir())


def _paths(node, prefix=()):
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


def _mutate(rng: random.Random, data: dict) -> dict:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 4)):
        targets = list(_paths(data))[1:]
        path = rng.choice(targets)
        parent = data
        for seg in path[:-1]:
            parent = parent[seg]
        op = rng.random()
        if op < 0.5:
            parent[path[-1]] = copy.deepcopy(rng.choice(WEIRD))
        elif op < 0.7 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "kernal_size", "dropout", "repeat", "name", "type"])] = copy.deepcopy(rng.choice(WEIRD))
        else:
            parent.insert(path[-1], copy.deepcopy(rng.choice(WEIRD)))
    return data


def _only_spec_errors(fn) -> None:
    try:
        fn()
    except SpecError as exc:
        assert all(d.format() for d in exc.diagnostics)


@pytest.mark.parametrize("seed", range(3))
def test_mutated_specs(seed):
    rng = random.Random(seed)
    bases = [read_spec(p)[0] for p in FILES]
    for _ in range(300):
        base = rng.choice(bases)
        doc = Document(base.file, _mutate(rng, base.data), dict(base.values), dict(base.keys))
        _only_spec_errors(lambda doc=doc: from_document(doc).summary_rows())


@pytest.mark.parametrize("seed", range(3))
def test_mutated_yaml_text(seed):
    rng = random.Random(seed)
    texts = [p.read_text() for p in FILES]
    chars = list("[]{}:,-#&*!|>'\"%@`?\n \t.0123456789eE+x~\\") + ["\u00e9", "\ufeff"]
    for _ in range(300):
        text = list(rng.choice(texts))
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(text))
            text[pos:pos + rng.randint(0, 1)] = [rng.choice(chars)]

        def go(t="".join(text)) -> None:
            doc = read_text(t, "f.yaml", is_json=rng.random() < 0.1)
            if isinstance(doc.data, dict):
                from_document(doc)

        _only_spec_errors(go)


def test_random_set_items():
    rng = random.Random(7)
    base = load(SPECS / "model5.yaml")
    segs = ["layers", "conv2", "fc2", "[0]", "[99]", "kernel_regularizer", "l1", "dropout", "training", "epochs",
            "optimizer", "learning_rate", "data", "name", "type", "..", ".", "[", "]", "-", "0"]
    values = ["0.1", "-1", "{l1: 0.1}", "[1, 2]", "null", "adam", "{type: dense}", "!!python/x 1", "&a [*a]", "", "1e999",
              "{", "]"]
    for _ in range(400):
        path = "".join(rng.choice(segs) + rng.choice([".", ""]) for _ in range(rng.randint(1, 5))).strip(".")
        item = f"{path}={rng.choice(values)}"
        _only_spec_errors(lambda item=item: base.with_overrides(parse_sets([item])))
