"""The resolved form every later stage reads: a graph program.

Input nodes (name, shape, dtype), layer nodes (id, the ids of their inputs, the
resolved layer with its kind and arguments), and output ids. Every node keeps
the spec path it came from, and the program keeps the source map, so summary,
compile, run and export report problems at the line that caused them without
ever reading the raw document. A stack is the graph in which each node takes
the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from regspec.diagnostics import Diagnostic, Position, SpecError
from regspec.lang.compile import CompileSection
from regspec.lang.data import AnyData
from regspec.lang.layers import Layer
from regspec.lang.layers.operations import Operation
from regspec.lang.training import TrainingSection
from regspec.paths import Path


@dataclass(frozen=True, slots=True)
class InputNode:
    id: str
    shape: tuple[int | None, ...]
    dtype: str
    path: Path


@dataclass(frozen=True, slots=True)
class LayerNode:
    #: Unique in the program: the layer's name when it has one, else its spec path ("layers[3]").
    id: str
    layer: Layer
    #: Ids of the input nodes or layer nodes this layer takes, in order.
    inputs: tuple[str, ...]
    #: The spec item it came from; a dropout annotation's node ends in "dropout".
    path: Path
    #: Which copy of a `repeat`ed item this is (0 for the first or only one).
    copy: int = 0
    #: A `reuse` node: the id of the node whose layer (and weights) it calls again.
    shares: str | None = None

    @property
    def type(self) -> str:
        return self.layer.tag

    @property
    def name(self) -> str | None:
        return self.layer.name


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each spec path was written: file, line, column (1-based)."""

    file: str
    locate: Callable[[Path], Position]

    def position(self, path: Path) -> Position:
        return self.locate(path)

    def error(self, path: Path, message: str, hint: str | None = None) -> SpecError:
        file, line, col = self.locate(path)
        return SpecError([Diagnostic(file, line, col, path, message, hint)])


@dataclass(frozen=True)
class Program:
    name: str
    inputs: tuple[InputNode, ...]
    nodes: tuple[LayerNode, ...]
    outputs: tuple[str, ...]
    compile: CompileSection
    data: AnyData | None
    training: TrainingSection
    source: SourceMap = field(compare=False)

    @cached_property
    def by_id(self) -> dict[str, InputNode | LayerNode]:
        out: dict[str, InputNode | LayerNode] = {i.id: i for i in self.inputs}
        out.update((n.id, n) for n in self.nodes)
        return out

    @cached_property
    def splits_loss(self) -> bool:
        """Whether training reports the data loss and the penalty beside the loss (lang.penalty)."""
        from regspec.lang.penalty import splits_loss

        return splits_loss(self.compile, len(self.outputs), (n.layer for n in self.nodes))

    @cached_property
    def is_stack(self) -> bool:
        """One input, each layer takes the one before, the last layer is the one output."""
        if len(self.inputs) != 1 or len(self.outputs) != 1 or not self.nodes:
            return False
        previous = self.inputs[0].id
        for node in self.nodes:
            if (node.inputs != (previous,) or len(node.layer.output_names()) > 1 or isinstance(node.layer, Operation)
                    or node.shares is not None):
                # Sequential takes layers with one output (an operation is not a layer)
                return False
            previous = node.id
        return self.outputs == (previous,)

    def layer_node(self, node_id: str) -> LayerNode:
        node = self.by_id[node_id]
        assert isinstance(node, LayerNode), node_id
        return node

    def to_dict(self) -> dict:
        """The wiring as plain data (`regspec resolve --graph`, resolve fixtures)."""
        return {
            "inputs": [{"id": i.id, "shape": list(i.shape), "dtype": i.dtype} for i in self.inputs],
            "nodes": [{"id": n.id, "type": n.type, "inputs": list(n.inputs)} for n in self.nodes],
            "outputs": list(self.outputs),
        }
