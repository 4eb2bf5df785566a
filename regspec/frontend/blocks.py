"""Expand block uses into layers, on raw data, before validation.

A spec may define named blocks::

    blocks:
      bottleneck:
        params: {filters: null, stride: 1}     # null: the use must give it
        layers:
          - {type: conv2d, name: 1_conv, filters: $filters, kernel_size: 1, strides: $stride}
          - ...
          - {type: add, name: add, inputs: [$input, 3_bn]}

and use one like a layer: ``{block: bottleneck, name: conv2_block1, filters: 64}``. The use
becomes the block's layers: every inner name is prefixed with the instance name
(``conv2_block1_1_conv``, so Keras names can match a known model), a value that is exactly
``$param`` takes the parameter's value, ``$input`` in `inputs:` is what the block takes (the
use's `inputs:`, else the layer before), and later layers name the block by its instance name
(meaning its last layer). Values are substituted whole: a spec never evaluates expressions.

Each expanded value keeps its position: inside the block definition, or at the use for a
substituted parameter; a problem in an expanded layer also names the use it came from.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from regspec.diagnostics import Collector, Diagnostic, Position
from regspec.frontend.source import Document
from regspec.paths import Path

USE_KEYS = frozenset({"block", "name", "inputs"})
MAX_EXPANDED = 10_000


@dataclass(frozen=True)
class Expansion:
    """Where an expanded layer came from: the block and the use."""

    block: str
    use: Path
    at: Position


def expand_blocks(doc: Document) -> tuple[Document, list[Diagnostic]]:
    data = doc.data
    layers = data.get("layers")
    if not isinstance(layers, list) or not (data.get("blocks") or any(isinstance(it, dict) and "block" in it
                                                                      for it in layers)):
        return doc, []
    return _Expander(doc).run()


class _Expander:
    def __init__(self, doc: Document):
        self.doc = doc
        self.found = Collector(doc.position, lambda p: doc.keys.get(p))  # keys: only when asked (a lazy document)
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.origins: dict[int, Expansion] = {}
        self.alias: dict[str, str] = {}  # instance name -> the name of its last layer
        #: instance name -> its expanded layers, and what it took (for `reuse` of a whole instance)
        self.instances: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
        #: positions by the layer item they sit under (values, keys), built on the first copy
        self._under: tuple[dict[Path, list[tuple[Path, Position]]], dict[Path, list[tuple[Path, Position]]]] | None = None

    def err(self, path: Path, message: str, hint: str | None = None, key: bool = False) -> None:
        self.found.add(path, message, hint, key=key)

    def run(self) -> tuple[Document, list[Diagnostic]]:
        doc = self.doc
        blocks = doc.data.get("blocks")
        blocks = blocks if isinstance(blocks, dict) else {}
        out: list[Any] = []
        previous: str | None = _model_input(doc.data)  # what the first layer takes
        used: set[str] = set()
        for i, item in enumerate(doc.data["layers"]):
            if isinstance(item, dict) and item.get("type") == "reuse" and item.get("layer") in self.instances:
                out += self._reuse_instance(i, item, previous, len(out))
                name = item.get("name")
                previous = self.alias.get(name) if isinstance(name, str) else None
                continue
            if not (isinstance(item, dict) and "block" in item):
                self._copy(("layers", i), ("layers", len(out)))
                out.append(self._renamed_inputs(item))
                previous = item.get("name") if isinstance(item, dict) else None
                previous = self.alias.get(previous, previous) if isinstance(previous, str) else None
                if previous is None and isinstance(item, dict) and item.get("type") == "input":
                    previous = "input"  # an input layer is the model's input
                continue
            if isinstance(item.get("block"), str):
                used.add(item["block"])
            if previous is None and out and isinstance(out[-1], dict) and _takes_input(blocks.get(item.get("block"))):
                previous = self._name_previous(out, item)
            expanded = self._use(i, item, blocks, previous, len(out))
            out += expanded
            if len(out) > MAX_EXPANDED:
                self.err(("layers", i), f"blocks expand to more than {MAX_EXPANDED} layers")
                break
            name = item.get("name")
            previous = self.alias.get(name) if isinstance(name, str) else None
        for kind in blocks:
            if kind not in used:
                self._check_unused(kind, blocks[kind])
        data = dict(doc.data, layers=out)
        outputs = data.get("outputs")
        if isinstance(outputs, list):
            data["outputs"] = [self.alias.get(o, o) if isinstance(o, str) else o for o in outputs]
        for p, pos in doc.values.items():
            if p[:1] != ("layers",) or len(p) == 1:
                self.values.setdefault(p, pos)
        for p, pos in doc.keys.items():
            if p[:1] != ("layers",):
                self.keys.setdefault(p, pos)
        return Document(doc.file, data, self.values, self.keys, origins=self.origins), self.found.found

    def _name_previous(self, out: list[Any], use: dict) -> str:
        """A block's `$input` is the layer before the use; one without a name gets `<use>_input`."""
        names = {it.get("name") for it in out if isinstance(it, dict)}
        base = f"{use.get('name') or use.get('block')}_input"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}{n}"
        out[-1] = dict(out[-1], name=name)
        return name

    def _check_unused(self, kind: str, definition: Any) -> None:
        """A block no layer uses is still read: an unknown type or key in it is reported (its
        values may be `$parameters`, checked when a use gives them)."""
        from regspec.lang.layers import LAYERS

        layers = definition.get("layers") if isinstance(definition, dict) else None
        if not isinstance(layers, list):
            self.err(("blocks", kind), f"block {kind!r} needs `layers:` (and may have `params:`)")
            return
        for j, inner in enumerate(layers):
            at: Path = ("blocks", kind, "layers", j)
            if not isinstance(inner, dict):
                self.err(at, "a block's layer must be a mapping")
                continue
            tag = inner.get("type")
            cls = LAYERS.get(tag) if isinstance(tag, str) else None
            if cls is None:
                if isinstance(tag, str) and not tag.startswith("$"):
                    close = difflib.get_close_matches(tag, list(LAYERS), n=1)
                    self.err(at + ("type",), f"unknown type {tag!r}", f"did you mean {close[0]!r}?" if close else None)
                continue
            for key in inner:
                if key not in cls.model_fields and key not in cls.own_keys and key != "block":
                    close = difflib.get_close_matches(str(key), list(cls.model_fields), n=1)
                    self.err(at + (key,), f"unknown key {key!r} for {tag}",
                             f"did you mean {close[0]!r}?" if close else None, key=True)

    def _copy(self, src: Path, dst: Path) -> None:
        """The positions under a layer item (`layers[i]` or `blocks.b.layers[j]`) moved to ``dst``."""
        if self._under is None:  # indexed once: a ResNet copies ~750 items out of ~5,000 positions
            self._under = ({}, {})
            for table, index in ((self.doc.values, self._under[0]), (self.doc.keys, self._under[1])):
                for p, pos in table.items():
                    for n in (2, 4):
                        if len(p) >= n:
                            index.setdefault(p[:n], []).append((p[n:], pos))
        n = len(src)
        for suffix, pos in self._under[0].get(src, []) if n in (2, 4) else []:
            self.values[dst + suffix] = pos
        for suffix, pos in self._under[1].get(src, []) if n in (2, 4) else []:
            self.keys[dst + suffix] = pos

    def _renamed_inputs(self, item: Any) -> Any:
        """A plain layer that names a block instance in `inputs:` takes the block's last layer."""
        if not isinstance(item, dict) or "inputs" not in item:
            return item
        refs = item["inputs"]
        if isinstance(refs, str):
            return dict(item, inputs=self.alias.get(refs, refs))
        if isinstance(refs, list):
            return dict(item, inputs=[self.alias.get(r, r) if isinstance(r, str) else r for r in refs])
        return item

    def _use(self, i: int, item: dict, blocks: dict, previous: str | None, start: int) -> list[Any]:
        here: Path = ("layers", i)
        kind, name = item.get("block"), item.get("name")
        if not isinstance(kind, str) or kind not in blocks:
            close = difflib.get_close_matches(str(kind), [str(b) for b in blocks], n=1)
            self.err(here + ("block",), f"no block named {kind!r}",
                     f"did you mean {close[0]!r}?" if close else "define it under `blocks:`")
            return []
        if not isinstance(name, str) or not name:
            self.err(here, f"a use of block {kind!r} needs a `name` (it prefixes the names of its layers)")
            return []
        definition = blocks[kind]
        bpath: Path = ("blocks", kind)
        if not isinstance(definition, dict) or not isinstance(definition.get("layers"), list):
            self.err(bpath, f"block {kind!r} needs `layers:` (and may have `params:`)")
            return []
        params = definition.get("params") or {}
        if not isinstance(params, dict):
            self.err(bpath + ("params",), "params must be a mapping of name -> default (null: required)")
            return []
        values: dict[str, tuple[Any, Path]] = {p: (v, bpath + ("params", p)) for p, v in params.items()}
        for key, v in item.items():
            if key in USE_KEYS:
                continue
            if key not in params:
                close = difflib.get_close_matches(str(key), [str(p) for p in params], n=1)
                self.err(here + (key,), f"block {kind!r} has no parameter {key!r}",
                         f"did you mean {close[0]!r}?" if close else f"parameters: {', '.join(map(str, params)) or 'none'}",
                         key=True)
                continue
            values[key] = (v, here + (key,))
        missing = [p for p, (v, _) in values.items() if v is None]
        if missing:
            self.err(here, f"block {kind!r} needs {', '.join(map(repr, missing))}")
            return []
        given = item.get("inputs")
        block_input: list[str] | None
        if given is not None:
            refs = [given] if isinstance(given, str) else list(given) if isinstance(given, list) else []
            block_input = [self.alias.get(r, r) for r in refs]
        else:
            block_input = [previous] if previous else None
        inner_names = {lay.get("name") for lay in definition["layers"] if isinstance(lay, dict)}
        use_at = self.doc.position(here)
        out: list[dict[str, Any]] = []
        for j, inner in enumerate(definition["layers"]):
            src: Path = bpath + ("layers", j)
            dst: Path = ("layers", start + len(out))
            if not isinstance(inner, dict):
                self.err(src, "a block's layer must be a mapping")
                continue
            self._copy(src, dst)
            layer: dict[str, Any] = {}
            for key, v in inner.items():
                if key == "name" and isinstance(v, str):
                    layer[key] = f"{name}_{v}"
                elif key == "layer" and isinstance(v, str) and v in inner_names:
                    layer[key] = f"{name}_{v}"  # a reuse of one of the block's own layers
                elif key == "inputs":
                    layer[key] = self._inner_inputs(v, name, inner_names, block_input, src + (key,), kind)
                else:
                    layer[key] = self._substitute(v, values, src + (key,), dst + (key,))
            if j == 0 and "inputs" not in layer and given is not None and block_input:
                layer["inputs"] = block_input[0] if len(block_input) == 1 else block_input
            self.origins[start + len(out)] = Expansion(kind, here, use_at)
            out.append(layer)
        last = out[-1].get("name") if out else None
        if isinstance(last, str):
            self.alias[name] = last
        self.instances[name] = (out, block_input or [])
        return out

    def _reuse_instance(self, i: int, item: dict, previous: str | None, start: int) -> list[Any]:
        """`{type: reuse, layer: <block instance>}`: the instance's layers applied again with their
        weights (a shared tower), wired as the block wires them, named `<name>_<layer>`."""
        here: Path = ("layers", i)
        instance, name = item["layer"], item.get("name")
        layers, block_input = self.instances[instance]
        if not isinstance(name, str) or not name:
            self.err(here, f"reusing block instance {instance!r} needs a `name` (it prefixes the names of its calls)")
            return []
        unnamed = [j for j, lay in enumerate(layers) if not isinstance(lay.get("name"), str)]
        if unnamed or any("dropout" in lay for lay in layers):
            self.err(here + ("layer",), f"block instance {instance!r} can be reused when each of its layers has a "
                     "name and none takes a dropout annotation", "name the block's layers; use dropout layers")
            return []
        given = item.get("inputs")
        refs = [given] if isinstance(given, str) else list(given) if isinstance(given, list) else (
            [previous] if previous else [])
        mapping = dict(zip(block_input, refs))  # what the instance took -> what this call takes
        inner = {lay["name"] for lay in layers}
        out: list[dict[str, Any]] = []
        for j, lay in enumerate(layers):
            call: dict[str, Any] = {"type": "reuse", "layer": lay["name"], "name": f"{name}_{lay['name'][len(instance) + 1:]}"}
            taken = lay.get("inputs")
            if taken is None and j == 0 and refs:
                call["inputs"] = refs[0] if len(refs) == 1 else refs
            elif taken is not None:
                mapped = []
                for r in [taken] if isinstance(taken, str) else taken:
                    base, dot, rest = str(r).partition(".")
                    if base in mapping:
                        mapped.append(mapping[base] + dot + rest)
                    elif base in inner:
                        mapped.append(f"{name}_{base[len(instance) + 1:]}{dot}{rest}")
                    else:
                        mapped.append(r)
                call["inputs"] = mapped[0] if isinstance(taken, str) else mapped
            self._copy(here, ("layers", start + len(out)))
            out.append(call)
        self.alias[name] = out[-1]["name"]
        return out

    def _inner_inputs(self, refs: Any, name: str, inner: set, block_input: list[str] | None, at: Path,
                      kind: str) -> Any:
        items = [refs] if isinstance(refs, str) else refs if isinstance(refs, list) else None
        if items is None:
            return refs
        out: list[Any] = []
        for r in items:
            if r == "$input":
                if not block_input:
                    self.err(at, f"block {kind!r} uses $input, but nothing names what the block takes",
                             "give the use `inputs:`, or name the layer before it")
                    continue
                out += block_input
            elif isinstance(r, str) and r in inner:
                out.append(f"{name}_{r}")
            else:
                out.append(r)  # a model input or an outer layer, by its own name
        return out[0] if isinstance(refs, str) and len(out) == 1 else out

    def _substitute(self, v: Any, values: dict[str, tuple[Any, Path]], src: Path, dst: Path) -> Any:
        if isinstance(v, str) and v.startswith("$") and v != "$input":
            key = v[1:]
            if key not in values:
                self.err(src, f"unknown parameter {v!r}", f"parameters: {', '.join(values) or 'none'}")
                return v
            value, origin = values[key]
            pos = self.doc.position(origin)
            for p in [p for p in self.values if p[:len(dst)] == dst]:
                del self.values[p]
            self.values[dst] = pos
            return value
        if isinstance(v, dict):
            return {k: self._substitute(x, values, src + (k,), dst + (k,)) for k, x in v.items()}
        if isinstance(v, list):
            return [self._substitute(x, values, src + (n,), dst + (n,)) for n, x in enumerate(v)]
        return v


def _model_input(spec: dict) -> str | None:
    """The name of the model's one input, which the first layer takes (None with several)."""
    section = spec.get("input")
    if isinstance(section, dict):
        name = section.get("name")
        return name if isinstance(name, str) and name else "input"
    many = spec.get("inputs")
    if isinstance(many, list) and len(many) == 1 and isinstance(many[0], dict) and isinstance(many[0].get("name"), str):
        return many[0]["name"]
    return None


def _takes_input(definition: Any) -> bool:
    """Whether a block's layers name `$input` (then the layer before the use needs a name)."""
    layers = definition.get("layers") if isinstance(definition, dict) else None
    if not isinstance(layers, list):
        return False
    refs = [it.get("inputs") for it in layers if isinstance(it, dict)]
    return any(r == "$input" or (isinstance(r, list) and "$input" in r) for r in refs)
