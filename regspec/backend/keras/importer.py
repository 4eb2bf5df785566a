"""`regspec import MODEL`: a Keras model (.keras file or JSON config) as a readable spec.

The inverse of the lowering. A `.keras` file is a zip holding `config.json`: import reads that
JSON and never deserializes the model, so nothing in the file can run (stricter than Keras'
safe mode, which still builds objects). Each layer maps back through the registries (Keras
class -> regspec type); arguments at their default are left out; `inputs:` is written only
where a layer does not take the previous one; regularizers become annotations and a Dropout
right after a weighted layer its `dropout:` annotation. Whatever regspec cannot express (a
Lambda, a custom class, an argument it has no field for, a shared layer) is reported by layer
name: nothing is dropped or approximated.
"""

from __future__ import annotations

import inspect
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from regspec.backend.keras.env import keras
from regspec.diagnostics import Diagnostic, SpecError
from regspec.lang.compile import LOSS_OF_CLASS, LOSSES, OPTIMIZERS
from regspec.lang.keras_form import UnknownKerasForm, float32_decimal, value_kind
from regspec.lang.keras_names import CODE_LAYERS, NameMaker, keras_snake
from regspec.lang.layers import LAYERS
from regspec.lang.layers.base import dropout_name
from regspec.lang.layers.operations import Operation
from regspec.lang.training import AUTO_STEPS_PER_EXECUTION
from regspec.lang.types import INITIALIZER_CLASSES

MAX_CONFIG_BYTES = 64 * 1024 * 1024


#: (Keras module, operation class) -> the `ops.*` kind, for reading operation nodes back.
OPERATIONS = {(cls.keras_module, cls.keras_class): tag for tag, cls in LAYERS.items() if issubclass(cls, Operation)}


def _layer_tag(keras_class: str) -> str | None:
    tag = LAYERS.tag_of(keras_class)
    return None if tag == "input" else tag  # an InputLayer is the model's input, read apart
#: Keys of every Keras layer config that are not arguments regspec models.
BOOKKEEPING = {"name", "trainable", "dtype"}
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


@dataclass
class Imported:
    spec: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def read_config(path: str) -> dict[str, Any]:
    """The model's config: from a .keras zip's config.json, or a JSON file (model.to_json())."""
    name = path
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                info = z.getinfo("config.json")
                if info.file_size > MAX_CONFIG_BYTES:
                    raise SpecError([Diagnostic(name, 1, 1, (), f"config.json is {info.file_size} bytes; the limit is "
                                                                f"{MAX_CONFIG_BYTES}")])
                text = z.read(info).decode("utf-8")
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(MAX_CONFIG_BYTES + 1)
            if len(text) > MAX_CONFIG_BYTES:
                raise SpecError([Diagnostic(name, 1, 1, (), "file too large for a model config")])
        config = json.loads(text)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise SpecError([Diagnostic(name, 1, 1, (), f"not a .keras model file ({exc})")]) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError([Diagnostic(name, 1, 1, (), f"cannot read a Keras model config: {exc}")]) from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise SpecError([Diagnostic(name, 1, 1, (), "not a Keras model config (no class_name)")])
    return config


def import_model(path: str) -> dict[str, Any]:
    """The spec (plain data) for the model at ``path``; raises SpecError naming every layer that
    regspec cannot express."""
    config = read_config(path)
    result = _Importer(config).run()
    if result.problems:
        raise SpecError([Diagnostic(path, 1, 1, (), p) for p in result.problems])
    return result.spec


def _auto_name(name: str, class_name: str) -> bool:
    """A name Keras made up (dense, dense_3): not worth writing unless something refers to it."""
    return re.fullmatch(re.escape(keras_snake(class_name)) + r"(_\d+)?", name) is not None


class _Importer:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.problems: list[str] = []
        self.policies: dict[str, str] = {}  # layer name -> its mixed-precision dtype policy
        self.order: list[str] = []  # the layers' Keras names, as read
        self._defaults: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}  # nested functional models, written as blocks

    def problem(self, layer: str, message: str) -> None:
        self.problems.append(f"layer {layer!r}: {message}")

    # ------------------------------------------------------------------ structure

    def run(self) -> Imported:
        cls, cfg = self.config.get("class_name"), self.config.get("config") or {}
        if cls == "Sequential":
            nodes = self._sequential(cfg)
        elif cls in ("Functional", "Model"):
            nodes = self._functional(cfg)
        else:
            return Imported({}, [f"the file holds a {cls}, not a Sequential or functional model"])
        spec: dict[str, Any] = {"regspec": 1, "name": _spec_name(cfg.get("name") or "imported"),
                                "description": f"imported from a Keras {cls} model"}
        inputs, layers, outputs = nodes
        if len(inputs) == 1:
            only = inputs[0]
            section: dict[str, Any] = {"shape": only["shape"]}
            if only["dtype"] != "float32":
                section["dtype"] = only["dtype"]
            if only["name"] != "input":  # the input keeps its name (a fresh Keras calls it input_layer)
                section["name"] = only["name"]
            spec["input"] = section
        else:
            spec["inputs"] = [{k: v for k, v in i.items() if k != "referenced" and (k != "dtype" or v != "float32")}
                              for i in inputs]
        if self.blocks:
            spec["blocks"] = self.blocks
        spec["layers"] = layers
        if outputs is not None:
            spec["outputs"] = outputs
        # The file's compile section, or `{}` (an uncompiled model: it builds; training needs a loss).
        spec["compile"] = self._compile(self.config.get("compile_config")) or {}
        policy = self._mixed(outputs)
        if policy is not None:
            spec["training"] = {"mixed_precision": policy}
        return Imported(spec, self.problems)

    def _mixed(self, outputs: list[str] | None) -> str | None:
        """The mixed-precision policy of the whole model: every layer's but the outputs' (float32),
        as regspec lowers `training.mixed_precision`; anything else is reported, not dropped."""
        if not self.policies:
            return None
        policies = set(self.policies.values())
        named = self.order
        ends = set(outputs or named[-1:])
        wrong = [n for n in named if (n in ends) != (n not in self.policies)]
        if len(policies) > 1 or wrong:
            for n in [w for w in wrong if w in self.policies][:3] or wrong[:1] or named[:1]:
                self.problem(str(n), f"dtype policy {self.policies.get(n, 'float32')!r} on some layers only is not "
                                     "expressible (training.mixed_precision sets it on every layer but the outputs)")
            return None
        return policies.pop()

    def _sequential(self, cfg: dict[str, Any]) -> tuple[list[dict], list[dict], list[str] | None]:
        items = list(cfg.get("layers") or [])
        inputs = []
        if items and items[0].get("class_name") == "InputLayer":
            inputs.append(self._input(items.pop(0)["config"], referenced=False))
        elif cfg.get("build_input_shape"):
            inputs.append({"name": "input", "shape": list(cfg["build_input_shape"][1:]), "dtype": "float32",
                           "referenced": False})
        else:
            self.problems.append("the Sequential model has no input shape (it was never built)")
        layers = _fold_dropouts([lay for lay in (self._layer(item) for item in items) if lay is not None], {})
        return inputs, [{k: v for k, v in lay.items() if not k.startswith("_")} for lay in layers], None

    def _functional(self, cfg: dict[str, Any], *, nested: bool = False) -> tuple[list[dict], list[dict], list[str] | None]:
        items = cfg.get("layers") or []
        input_names = _layer_refs(cfg.get("input_layers"))
        output_names = _layer_refs(cfg.get("output_layers"))
        inbound: dict[str, list[str]] = {}
        calls: dict[str, list[list[tuple[str, int, int]]]] = {}  # a layer's calls: the tensors each took
        for item in items:
            name = item.get("name") or item.get("config", {}).get("name")
            calls[name] = [_history(node) for node in item.get("inbound_nodes") or []]
            inbound[name] = [_call_name(src, k) for call in calls[name] for src, k, _ in call]
        outputs_of: dict[str, tuple[str, ...]] = {}  # a layer's outputs by name, for `encoder.state_h`
        consumers: dict[str, list[str]] = {}
        for name, srcs in inbound.items():
            for s in srcs:
                consumers.setdefault(s, []).append(name)
        referenced = {s for name, srcs in inbound.items() for s in srcs}
        inputs: list[dict[str, Any]] = []
        layers: list[dict[str, Any]] = []
        # What a layer without `inputs:` takes first: the first input in the model's order (the
        # order `inputs:` is written in), not the first InputLayer Keras happened to save.
        previous: str | None = input_names[0] if input_names else None
        available: set[str] = set()
        pending: list[tuple[str, int]] = []  # a shared layer's later calls, written once their inputs exist

        def refs(name: str, call: list[tuple[str, int, int]]) -> list[str]:
            out = []
            for src, node, index in call:
                names = outputs_of.get(src, ("output",))
                if index >= len(names):
                    self.problem(name, f"takes output {index} of {src}, which regspec cannot name")
                base = _call_name(src, node)
                out.append(base if index == 0 or index >= len(names) else f"{base}.{names[index]}")
            return out

        def flush() -> None:
            nonlocal previous
            progress = True
            while progress:
                progress = False
                for name, k in list(pending):
                    srcs = refs(name, calls[name][k])
                    if all(r.partition(".")[0] in available for r in srcs):
                        reuse = _call_name(name, k)
                        layers.append({"type": "reuse", "layer": name, "name": reuse,
                                       "inputs": srcs[0] if len(srcs) == 1 else srcs, "_keras_name": reuse})
                        available.add(reuse)
                        pending.remove((name, k))
                        previous, progress = reuse, True

        for item in items:
            name = item.get("name") or item["config"].get("name")
            if item.get("class_name") == "InputLayer":
                inputs.append(self._input(item["config"], referenced=name in referenced))
                available.add(name)
                flush()
                continue
            if item.get("class_name") in ("Functional", "Model") and calls.get(name):
                layer = self._nested(item, name)
            else:
                layer = self._layer(item)
            if layer is None:
                previous = name
                continue
            outputs_of[name] = _output_names(layer)
            srcs = refs(name, calls[name][0]) if calls.get(name) else []
            if srcs != [previous] or "block" in layer:
                layer["inputs"] = srcs[0] if len(srcs) == 1 else srcs
            layers.append(layer)
            previous = name
            available.add(name)
            pending += [(name, k) for k in range(1, len(calls.get(name, [])))]
            flush()
        for name, k in pending:
            self.problem(name, f"its call {k + 1} takes inputs that come after it")
        last = layers[-1]["_keras_name"] if layers else None
        outputs = None if output_names == [last] else output_names
        order = {n: i for i, n in enumerate(input_names)}  # the model's input order, not the layers'
        inputs.sort(key=lambda i: order.get(i["name"], len(order)))
        for lay in layers:  # names that layers refer to (or reuse) must be written
            taken = lay.get("inputs")
            for r in [taken] if isinstance(taken, str) else taken or []:
                _ensure_name(layers, r.partition(".")[0])
            if lay.get("type") == "reuse":
                _ensure_name(layers, lay["layer"])
        for o in outputs or []:
            _ensure_name(layers, o)
        if not nested:
            _keep_names_not_regenerated(layers, [i["name"] for i in inputs] if len(inputs) > 1 else
                                        [inputs[0]["name"]] if inputs else [])
        layers = _fold_dropouts(layers, consumers)
        if nested:  # the caller names every layer of a block by its Keras name
            return inputs, layers, outputs
        return inputs, [{k: v for k, v in lay.items() if not k.startswith("_")} for lay in layers], outputs

    def _input(self, cfg: dict[str, Any], referenced: bool) -> dict[str, Any]:
        shape = cfg.get("batch_shape") or [None, *(cfg.get("shape") or [])]
        dtype = cfg.get("dtype") or "float32"
        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name", "float32")
        if cfg.get("sparse") or cfg.get("ragged"):
            self.problem(cfg.get("name", "input"), "sparse or ragged inputs are not expressible")
        return {"name": cfg.get("name") or "input", "shape": list(shape[1:]), "dtype": dtype, "referenced": referenced}

    # ------------------------------------------------------------------ layers

    def _layer(self, item: dict[str, Any]) -> dict[str, Any] | None:
        cls = item.get("class_name", "?")
        cfg = item.get("config") or {}
        name = cfg.get("name") or item.get("name") or cls
        module = item.get("module") or ""
        if cls in ("Functional", "Sequential", "Model"):
            self.problem(name, f"a nested {cls} model; regspec cannot flatten it")
            return None
        if module.startswith("keras.src.ops"):
            return self._operation(item, name, module, cls, cfg)
        if item.get("registered_name") or (module and not module.startswith("keras.")):
            self.problem(name, f"{cls} is a custom class ({item.get('registered_name') or module}); "
                               "a spec holds only built-in Keras layers")
            return None
        tag = _layer_tag(cls)
        if tag is None:
            snake = keras_snake(cls)
            if snake in CODE_LAYERS:
                self.problem(name, f"{cls} runs code; a spec never does")
            else:
                self.problem(name, f"regspec has no {snake} layer ({cls})")
            return None
        out = self._arguments(name, tag, cls, cfg)
        if out is None:
            return None
        layer: dict[str, Any] = {"type": tag}
        if not _auto_name(name, cls):
            layer["name"] = name
        layer.update(out)
        layer["_keras_name"] = name
        self.order.append(name)
        return layer

    def _operation(self, item: dict[str, Any], name: str, module: str, cls: str, cfg: dict[str, Any]
                   ) -> dict[str, Any] | None:
        """A Keras operation node (`x + 3.0`, `ops.mean(x, axis=1)`) as its `ops.*` kind; its
        constant operands come from the call, its arguments from its config."""
        tag = OPERATIONS.get((module, cls))
        if tag is None:
            self.problem(name, f"the Keras operation {module}.{cls} is not one regspec has "
                               f"(it has {', '.join(sorted(t for t in OPERATIONS.values()))})")
            return None
        nodes = item.get("inbound_nodes") or [{}]
        constants = [a for a in nodes[0].get("args", []) if isinstance(a, (int, float)) and not isinstance(a, bool)]
        others = [a for a in nodes[0].get("args", []) if not isinstance(a, (int, float, dict)) or isinstance(a, bool)]
        if len(constants) > 1 or others or nodes[0].get("kwargs"):
            self.problem(name, f"{cls} is called with arguments regspec cannot express ({_short(nodes[0])})")
            return None
        args = {k: v for k, v in cfg.items() if k != "name"}
        layer: dict[str, Any] = {"type": tag, **({"constant": constants[0]} if constants else {})}
        spec_cls = LAYERS[tag]
        try:
            built = spec_cls.model_validate({**layer, **{k: v for k, v in args.items() if k in spec_cls.model_fields}})
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError
            self.problem(name, f"its arguments do not fit regspec's {tag}: {' '.join(str(exc).split())[:200]}")
            return None
        if not _same(built.keras_arguments(), args):  # an argument regspec has no field for
            self.problem(name, f"{cls}({_short(args)}) is not expressible in regspec")
            return None
        layer.update({k: v for k, v in args.items() if k in spec_cls.model_fields})
        if not _auto_name(name, cls):
            layer["name"] = name
        layer["_keras_name"] = name
        self.order.append(name)
        return layer

    def _nested(self, item: dict[str, Any], name: str) -> dict[str, Any] | None:
        """A functional model used as a layer (a siamese tower: `keras.Model(...)` called on each
        input) becomes a block, used where it is first called; its later calls reuse the instance."""
        cfg = item.get("config") or {}
        before = len(self.problems)
        inputs, layers, outputs = self._functional(cfg, nested=True)
        if len(self.problems) > before:
            return None
        if len(inputs) != 1 or outputs is not None and len(outputs) != 1:
            self.problem(name, "a nested model with several inputs or outputs is not expressible yet")
            return None
        own = inputs[0]["name"]
        for lay in layers:
            lay["name"] = lay.get("name") or lay.get("_keras_name")
            if lay.pop("dropout", None) is not None:
                self.problem(name, "a nested model's dropout after a layer is not expressible yet")
                return None
            taken = lay.get("inputs")
            if taken is not None:
                refs = [taken] if isinstance(taken, str) else taken
                mapped = ["$input" if r == own else r for r in refs]
                lay["inputs"] = mapped[0] if isinstance(taken, str) else mapped
        self.blocks[name] = {"layers": [{k: v for k, v in lay.items() if not k.startswith("_")} for lay in layers]}
        return {"block": name, "name": name, "_keras_name": name}

    def _keras_defaults(self, cls: str, cfg: dict[str, Any], tag: str) -> dict[str, Any]:
        """What Keras' own constructor gives for every argument but the required ones (Keras',
        and those the kind requires: CategoryEncoding's num_tokens defaults to a refusal)."""
        kcls = getattr(keras().layers, cls)
        required = {f: cfg[f] for f, info in LAYERS[tag].model_fields.items() if info.is_required() and f in cfg
                    and f != "type"}
        for p in list(inspect.signature(kcls.__init__).parameters.values())[1:]:
            if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                required[p.name] = cfg[p.name]
        key = cls + json.dumps(required, sort_keys=True, default=str)
        if key not in self._defaults:
            if "layer" in required:  # wrappers: the wrapped layer, built from its own config
                inner = required["layer"]
                required["layer"] = getattr(keras().layers, inner["class_name"]).from_config(inner["config"])
            try:
                self._defaults[key] = kcls(**required).get_config()
            except ValueError:  # needs one of several arguments (Discretization: bins or boundaries)
                given = {f: cfg[f] for f in LAYERS[tag].model_fields if f != "type" and cfg.get(f) is not None}
                self._defaults[key] = kcls(**{**given, **required}).get_config()
        return self._defaults[key]

    def _arguments(self, name: str, tag: str, cls: str, cfg: dict[str, Any]) -> dict[str, Any] | None:
        spec_cls = LAYERS[tag]
        fields = spec_cls.model_fields
        try:
            keras_defaults = self._keras_defaults(cls, cfg, tag)
        except Exception as exc:  # noqa: BLE001 - a config this Keras cannot even rebuild
            self.problem(name, f"Keras cannot rebuild its {cls} config ({type(exc).__name__}: {exc})")
            return None
        out: dict[str, Any] = {}
        ok = True
        inner = cfg.get("layer")
        if tag == "bidirectional" and isinstance(inner, dict) and isinstance(inner.get("config"), dict):
            # Bidirectional sets its layers' zero_output_for_mask to their return_sequences: Keras'
            # state, not an argument (a layer given it otherwise keeps it, and is refused below).
            wrapped = dict(inner["config"])
            if wrapped.get("zero_output_for_mask") == wrapped.get("return_sequences", False):
                wrapped.pop("zero_output_for_mask", None)
            cfg = {**cfg, "layer": {**inner, "config": wrapped}}
        for key, value in cfg.items():
            if key == "name":
                continue
            if key == "trainable":
                if value is False:
                    out["trainable"] = False
                continue
            if key == "dtype":
                policy = value.get("config", {}).get("name") if isinstance(value, dict) else value
                if policy in MIXED_POLICIES:
                    self.policies[name] = policy  # a whole model's: training.mixed_precision (see _mixed)
                elif policy not in (None, "float32"):
                    self.problem(name, f"dtype policy {policy!r} is not expressible")
                    ok = False
                continue
            if key == "backward_layer" and tag == "bidirectional":
                continue  # rebuilt from `layer` by Keras
            if key in spec_cls.keras_state:
                continue
            if key not in fields or key in spec_cls.own_keys:
                if _same(value, keras_defaults.get(key)):
                    continue
                self.problem(name, f"{key}={_short(value)} has no {tag} field in regspec")
                ok = False
                continue
            converted = self._value(name, key, value, fields[key].annotation)
            if converted is _UNSUPPORTED:
                ok = False
                continue
            default = fields[key].default
            if not fields[key].is_required() and _same(converted, default):
                continue
            if key == "activation" and converted == "linear" and default is None:
                continue
            if isinstance(default, str) and isinstance(converted, str) and \
                    INITIALIZER_CLASSES.get(default, default) == INITIALIZER_CLASSES.get(converted, converted):
                continue  # "uniform" and "random_uniform" are one initializer
            out[key] = converted
        if not ok:
            return None
        out = spec_cls.from_keras_arguments(out)
        try:  # what regspec will build must be what the file holds
            spec_cls.model_validate({"type": tag, **out})
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError
            self.problem(name, f"its arguments do not fit regspec's {tag}: {' '.join(str(exc).split())[:300]}")
            return None
        return out

    def _value(self, name: str, key: str, value: Any, annotation: Any) -> Any:
        if isinstance(value, dict) and "class_name" in value:
            module = value.get("module", "")
            cls, cfg = value["class_name"], value.get("config") or {}
            if module in ("keras.initializers", "keras.constraints"):
                # A spec names one at its defaults (`he_normal`); an initializer kind reads the rest.
                snake = keras_snake(cls)
                getter = keras().initializers if module == "keras.initializers" else keras().constraints
                try:
                    default = getattr(getter, cls)().get_config()
                except Exception:  # noqa: BLE001 - a class Keras will not make without arguments
                    default = None
                if default is not None and _same(cfg, default) and snake != "constant":
                    return snake
                if module == "keras.initializers" and default is not None:
                    args = {k: v for k, v in cfg.items() if not _same(v, default.get(k)) or k == "value"}
                    try:
                        return value_kind(module, cls).from_keras(cls, args)
                    except Exception:  # noqa: BLE001 - no kind, or an argument regspec has no field for
                        pass
                self.problem(name, f"{key}={cls}({_short(cfg)}): not expressible in regspec")
                return _UNSUPPORTED
            if module == "keras.layers":
                tag = _layer_tag(cls)
                inner = self._layer(value)
                if inner is None or tag is None:
                    return _UNSUPPORTED
                inner.pop("_keras_name", None)
                inner.pop("name", None)
                return inner
            try:  # every other value: the kind that claims its Keras class reads it back
                return value_kind(module, cls).from_keras(cls, cfg)
            except UnknownKerasForm:
                self.problem(name, f"{key}={cls}: not expressible in regspec ({module}.{cls})")
                return _UNSUPPORTED
        if isinstance(value, list) and value and all(isinstance(v, int) for v in value) and len(set(value)) == 1 \
                and key in ("kernel_size", "strides", "dilation_rate", "pool_size", "size"):
            return value[0]  # Keras widens 3 to [3, 3]
        if key == "axis" and isinstance(value, list) and len(value) == 1:
            return value[0]
        if isinstance(value, float):
            return float32_decimal(value) if key.endswith("regularizer") else value
        return value

    # ------------------------------------------------------------------ compile

    def _compile(self, cc: dict[str, Any] | None) -> dict[str, Any] | None:
        if not cc:
            return None
        out: dict[str, Any] = {}
        opt = cc.get("optimizer")
        if isinstance(opt, dict):
            out["optimizer"] = self._optimizer(opt)
        elif isinstance(opt, str):
            out["optimizer"] = opt.lower()
        loss = cc.get("loss")
        if loss is not None:
            out["loss"] = self._loss(loss)
        if cc.get("loss_weights"):
            out["loss_weights"] = cc["loss_weights"]
        metrics = cc.get("metrics")
        if metrics:
            out["metrics"] = metrics if isinstance(metrics, (list, dict)) else [metrics]
        # What `auto` chooses (regspec's steps, Keras' jit_compile off on a CPU) stays implicit.
        steps = cc.get("steps_per_execution")
        if isinstance(steps, int) and not isinstance(steps, bool) and steps not in (1, AUTO_STEPS_PER_EXECUTION):
            out["steps_per_execution"] = steps
        if cc.get("jit_compile") is True:
            out["jit_compile"] = True
        return out

    def _optimizer(self, opt: dict[str, Any]) -> Any:
        tag = OPTIMIZERS.tag_of(str(opt.get("class_name", "")))
        if tag is None:
            self.problems.append(f"compile: optimizer {opt.get('class_name')} is not one regspec has")
            return "adam"
        cfg = opt.get("config") or {}
        kopt = getattr(keras().optimizers, opt["class_name"])().get_config()
        fields = OPTIMIZERS[tag].model_fields
        out: dict[str, Any] = {"type": tag}
        for key, value in cfg.items():
            if key == "name":
                continue
            if isinstance(value, dict) and value.get("module") == "keras.optimizers.schedules":
                try:
                    out[key] = value_kind(value["module"], value["class_name"]).from_keras(value["class_name"],
                                                                                            value["config"])
                except UnknownKerasForm:
                    self.problems.append(f"compile: schedule {value['class_name']} is not one regspec has")
                continue
            if key in fields:
                if not _same(value, fields[key].default):
                    out[key] = float32_decimal(value) if isinstance(value, float) else value
            elif not _same(value, kopt.get(key)):
                self.problems.append(f"compile: optimizer argument {key}={_short(value)} has no regspec field")
        return out if len(out) > 1 else tag

    def _loss(self, loss: Any) -> Any:
        if isinstance(loss, str):
            if loss in LOSSES:
                return loss
            self.problems.append(f"compile: loss {loss!r} is not one regspec has")
            return loss
        if isinstance(loss, dict) and "class_name" in loss:
            tag = LOSS_OF_CLASS.get(loss["class_name"])
            if tag is None:
                self.problems.append(f"compile: loss {loss['class_name']} is not one regspec has")
                return "mse"
            cfg = {k: v for k, v in (loss.get("config") or {}).items() if k in ("from_logits", "label_smoothing") and v}
            return {"type": tag, **cfg} if cfg else tag
        if isinstance(loss, dict):
            return {k: self._loss(v) for k, v in loss.items()}
        self.problems.append(f"compile: loss {_short(loss)} is not expressible")
        return loss


class _Unsupported:
    pass


_UNSUPPORTED: Any = _Unsupported()


def _output_names(layer: dict[str, Any]) -> tuple[str, ...]:
    """The outputs of an imported layer, by the names `inputs:` takes them by."""
    if "type" not in layer:  # a block's use
        return ("output",)
    try:
        spec_layer = LAYERS[layer["type"]].model_validate({k: v for k, v in layer.items() if not k.startswith("_")})
    except Exception:  # noqa: BLE001 - checked already by _arguments; a layer it refused has one output here
        return ("output",)
    return spec_layer.output_names()


def _call_name(layer: str, node: int) -> str:
    """The name a spec gives a layer's output at its call ``node``: a later call of a shared layer
    is a `reuse` item named `<layer>_call2`, ..."""
    return layer if node == 0 else f"{layer}_call{node + 1}"


def _history(node: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(layer name, which call of it, which of its outputs) of each tensor a call used, in order
    (args, then kwargs: a recurrent layer's initial_state comes after its sequence)."""
    out: list[tuple[str, int, int]] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if x.get("class_name") == "__keras_tensor__":
                history = list(x["config"]["keras_history"]) + [0, 0]
                out.append((history[0], int(history[1]), int(history[2])))
                return
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(node.get("args", []))
    walk(node.get("kwargs", {}))
    return out


def _layer_refs(refs: Any) -> list[str]:
    """[[name, 0, 0], ...], or a single [name, 0, 0] for one input or output."""
    if not refs:
        return []
    if isinstance(refs[0], str):
        return [refs[0]]
    return [r[0] for r in refs]


def _ensure_name(layers: list[dict[str, Any]], keras_name: str) -> None:
    for lay in layers:
        if lay.get("_keras_name") == keras_name and "name" not in lay:
            lay["name"] = keras_name
            return


def _keep_names_not_regenerated(layers: list[dict[str, Any]], input_names: list[str]) -> None:
    """Write back (as `name`) every Keras name that compiling the spec would not give again.

    A layer written without a name is named by regspec as a fresh Keras process names it (see
    lang.keras_names.NameMaker), so its name may go only where that gives it back: simulated here
    in the order compiling meets the layers. Writing a name back changes the names the others
    get (a written name is skipped), so until nothing changes."""
    while True:
        maker = NameMaker({lay["name"] for lay in layers if lay.get("name")} | set(input_names))
        for lay in layers:
            if lay.get("name") or lay.get("type") in (None, "reuse") or "block" in lay:
                continue
            if maker.next(LAYERS[lay["type"]].keras_class) != lay.get("_keras_name"):
                lay["name"] = lay["_keras_name"]
                break
        else:
            return


def _fold_dropouts(layers: list[dict[str, Any]], consumers: dict[str, list[str]]) -> list[dict[str, Any]]:
    """A Dropout right after a layer that takes the annotation, and used only there, becomes it,
    when compiling names the annotation's Dropout as Keras had it: `<layer>_dropout` after a named
    layer, the name a fresh Keras gives after an unnamed one."""
    out: list[dict[str, Any]] = []
    for lay in layers:
        prev = out[-1] if out else None
        named_as_annotation = (lay.get("name") is None if prev is None or not prev.get("name")
                               else lay.get("name") == dropout_name(prev.get("name")))
        if (lay.get("type") == "dropout" and prev is not None and set(lay) <= {"type", "rate", "name", "_keras_name"}
                and "inputs" not in lay and "type" in prev and "dropout" in LAYERS[prev["type"]].annotations
                and "dropout" not in prev
                and consumers.get(prev.get("_keras_name", ""), [lay.get("_keras_name")]) == [lay.get("_keras_name")]
                and named_as_annotation):
            prev["dropout"] = lay["rate"]
            continue
        out.append(lay)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b) and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                                 and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _spec_name(name: str) -> str:
    clean = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    return (clean or "imported")[:64]


FIRST_KEYS = ("type", "block", "name", "inputs")


def to_yaml(spec: dict[str, Any], dest: str | None = None, schema: str | None = None) -> str:
    """The spec as a file a person reads: one line per layer, type and name first. Its modeline
    points at ``schema``, else at a schema file that exists (see lang.schema.modeline_target)
    for a spec written to ``dest`` (None: standard output)."""
    import io

    from ruamel.yaml import YAML

    from regspec.lang.schema import modeline
    from regspec.yamlio import dump_yaml

    flow = YAML(typ="rt", pure=True)
    flow.default_flow_style = True
    flow.width = 100_000

    def line(layer: dict[str, Any]) -> str:
        ordered = {k: layer[k] for k in FIRST_KEYS if k in layer}
        ordered.update((k, v) for k, v in layer.items() if k not in FIRST_KEYS and k != "dropout")
        if "dropout" in layer:
            ordered["dropout"] = layer["dropout"]
        buf = io.StringIO()
        flow.dump(ordered, buf)
        return "  - " + buf.getvalue().strip()

    head = {k: v for k, v in spec.items() if k in ("regspec", "name", "description", "input", "inputs")}
    tail = {k: v for k, v in spec.items() if k in ("outputs", "compile", "training")}
    out = modeline(dest, schema) + dump_yaml(head)
    if spec.get("blocks"):  # nested models: one block each, its layers a line each
        out += "blocks:\n" + "".join(f"  {name}:\n    layers:\n" + "\n".join("  " + line(lay) for lay in b["layers"]) + "\n"
                                     for name, b in spec["blocks"].items())
    out += "layers:\n" + "\n".join(line(lay) for lay in spec.get("layers", [])) + "\n"
    return out + (dump_yaml(tail) if tail else "")


