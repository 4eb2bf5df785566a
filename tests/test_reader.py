"""The reader refuses hostile and malformed input fast, with a position and no traceback."""

import os
import time

import pytest

from regspec.diagnostics import SpecError
from regspec.frontend.source import MAX_BYTES, MAX_DEPTH, MAX_NODES, read_bytes, read_file, read_text

ALIAS_BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""

HOSTILE = {
    "python_tag": ("a: !!python/object/apply:os.system ['echo pwned']\n", "1:4: error: a: YAML tags are not allowed"),
    "local_tag": ("layers: !include other.yaml\n", "1:9: error: layers: YAML tags are not allowed (found !include)"),
    "binary_tag": ("a: !!binary aGVsbG8=\n", "YAML tags are not allowed (found tag:yaml.org,2002:binary)"),
    "yaml11_directive": ("%YAML 1.1\n---\na: 1\n", "1:1: error: YAML directives (%YAML, %TAG) are not allowed"),
    "tag_directive": ("%TAG !e! tag:example.com,2000:\n---\na: 1\n", "1:1: error: YAML directives"),
    "duplicate_key": ("a: 1\nb: 2\na: 3\n", "3:1: error: a: duplicate key 'a' (first defined at line 1)"),
    "alias_bomb": (ALIAS_BOMB, "too many nodes after expanding aliases"),
    "cyclic_alias": ("a: &x\n  b: *x\n", "cyclic alias *x"),
    "deep_nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", f"nesting too deep (the limit is {MAX_DEPTH} levels)"),
    "deep_mappings": ("".join(" " * i + f"k{i}:\n" for i in range(200)), "nesting too deep"),
    "long_integer": ("a: " + "9" * 5000 + "\n", "1:4: error: a: integer literal too long (5000 digits)"),
    "non_string_key": ("1: a\n", "1:1: error: mapping keys must be strings (got '1')"),
    "null_key": ("~: a\n", "mapping keys must be strings"),
    "complex_key": ("? [a, b]\n: c\n", "mapping keys must be strings"),
    "several_documents": ("a: 1\n---\nb: 2\n", "2:1: error: several YAML documents in one file"),
    "control_char": ("a: b\x07c\n", "1:5: error: control character U+0007 in file"),
    "nul_byte": ("a: b\x00\n", "control character U+0000"),
    "empty": ("", "empty spec"),
    "only_comment": ("# nothing\n", "empty spec"),
    "syntax_error": ("a: [1, 2\nb: 3\n", "error: invalid YAML"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_is_refused_fast(name):
    text, expected = HOSTILE[name]
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        read_text(text, "x.yaml")
    elapsed = time.perf_counter() - start
    out = "\n".join(d.format() for d in info.value.diagnostics)
    assert expected in out
    assert out.startswith("x.yaml:")
    assert elapsed < 1.0, f"{name} took {elapsed:.2f}s"


JSON_HOSTILE = {
    "nan": ('{"a": NaN}', "NaN is not a number in a spec"),
    "infinity": ('{"a": -Infinity}', "-Infinity is not a number in a spec"),
    "duplicate": ('{"a": 1,\n "a": 2}', "2:2: error: a: duplicate key 'a'"),
    "deep": ('{"a": ' + "[" * 100000 + "]" * 100000 + "}", "nesting too deep"),
    "medium_deep": ('{"a": ' + "[" * 500 + "]" * 500 + "}", "nesting too deep"),
    "trailing_comma": ('{"a": 1,}', "invalid JSON"),
    "single_quotes": ("{'a': 1}", "invalid JSON"),
    "long_int": ('{"a": ' + "1" * 5000 + "}", "integer literal too long"),
}


@pytest.mark.parametrize("name", sorted(JSON_HOSTILE))
def test_hostile_json_is_refused_fast(name):
    text, expected = JSON_HOSTILE[name]
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        read_text(text, "x.json", is_json=True)
    out = "\n".join(d.format() for d in info.value.diagnostics)
    assert expected in out, out
    assert time.perf_counter() - start < 1.0


def test_invalid_utf8_points_at_the_byte():
    with pytest.raises(SpecError) as info:
        read_bytes(b"a: 1\nb: caf\xe9\n", "x.yaml")
    assert info.value.diagnostics[0].format() == "x.yaml:2:7: error: file is not valid UTF-8 (byte 0xe9)"


def test_huge_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" + b"#" * (MAX_BYTES + 10))
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        read_file(big)
    assert "file too large" in info.value.diagnostics[0].message
    assert time.perf_counter() - start < 1.0


def test_largest_allowed_file_parses_in_time(tmp_path):
    # A file just under the size cap, full of nodes: refused by the node cap well under a second.
    text = "a: [" + ", ".join(["1"] * (MAX_BYTES // 3)) + "]\n"
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        read_text(text[: MAX_BYTES - 10] + "]\n", "x.yaml")
    assert f"too many nodes (the limit is {MAX_NODES})" in str(info.value)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("target", ["fifo", "dev_zero", "directory", "missing"])
def test_special_files_are_refused(tmp_path, target):
    if target == "fifo":
        path = tmp_path / "spec.yaml"
        os.mkfifo(path)
        expected = "not a regular file"
    elif target == "dev_zero":
        path = "/dev/zero"
        expected = "not a regular file"
    elif target == "directory":
        path = tmp_path
        expected = "not a regular file"
    else:
        path = tmp_path / "nope.yaml"
        expected = "cannot read file"
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        read_file(path)
    assert expected in info.value.diagnostics[0].message
    assert time.perf_counter() - start < 1.0


def test_yaml_12_scalars():
    doc = read_text("a: 1e-3\nb: no\nc: 0x1F\nd: 0o17\ne: ~\nf: '1'\ng: 1.5\nh: True\ni: .5\n", "x.yaml")
    assert doc.data == {"a": 0.001, "b": "no", "c": 31, "d": 15, "e": None, "f": "1", "g": 1.5, "h": True, "i": 0.5}
    assert doc.values[("b",)] == ("x.yaml", 2, 4)
    assert doc.keys[("c",)] == ("x.yaml", 3, 1)


def test_modest_aliases_are_allowed():
    doc = read_text("reg: &r {l1: 0.001}\nother: *r\n", "x.yaml")
    assert doc.data["other"] == {"l1": 0.001}


def test_every_error_of_a_file_is_reported():
    with pytest.raises(SpecError) as info:
        read_text("a: !!str 1\nb: 1\nb: 2\nc: !tag x\n", "x.yaml")
    assert [d.line for d in info.value.diagnostics] == [1, 3, 4]


def _corpus_files():
    from tests.conftest import ROOT

    return sorted(p for p in (ROOT / "specs").rglob("*") if p.suffix in (".yaml", ".json")) + sorted(
        p for p in (ROOT / "tests" / "cases").rglob("*") if p.suffix in (".yaml", ".json"))


@pytest.mark.parametrize("parser", ["libyaml", "ruamel"])
def test_both_event_parsers_read_the_corpus_identically(monkeypatch, parser):
    """libyaml (fast) and ruamel (fallback) must give the same data and positions everywhere."""
    from regspec.frontend import source

    if parser == "libyaml" and not source._LIBYAML:
        pytest.skip("PyYAML without libyaml here")
    results = {}
    for name in ("libyaml", "ruamel"):
        monkeypatch.setenv("REGSPEC_YAML_PARSER", name)
        out = []
        for path in _corpus_files():
            try:
                doc = read_file(path)
                out.append((str(path), repr(doc.data), doc.values, doc.keys))  # repr: nan == nan
            except SpecError as exc:
                out.append((str(path), [d.format() for d in exc.diagnostics]))
        for name_, (text, _) in sorted(HOSTILE.items()):
            try:
                read_text(text, "x.yaml")
                out.append((name_, "accepted"))
            except SpecError as exc:
                out.append((name_, "refused", exc.diagnostics[0].line))
        results[name] = out
    assert results["libyaml"] == results["ruamel"]
