"""A per-user cache of the spec model's pydantic core schema.

Generating the core schema of ``SpecModel`` (every layer, callback, optimizer ... in one
discriminated union) takes ~0.11 s, in every process that validates a spec; reading it back
takes ~0.006 s. The schema is stored as JSON, never pickled: classes and functions are written
by name and, on reading, looked up among the already imported ``regspec.lang`` modules only
(nothing is imported, nothing in the file is executed). The file name carries a key over the
language's source files, the registries and the pydantic, pydantic-core and Python versions,
so any change to the language misses the cache. A file that does not decode is ignored.

``REGSPEC_CACHE_DIR`` sets the folder (default ``$XDG_CACHE_HOME/regspec`` or
``~/.cache/regspec``); ``REGSPEC_NO_CACHE=1`` turns the cache off. A folder that cannot be
written costs nothing but the saving.
"""


import hashlib
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

LANG = Path(__file__).resolve().parent
PREFIX = "spec-core-schema-"
_key: str | None = None


class Uncachable(Exception):
    """The schema holds something this format does not write (then nothing is written)."""


def folder() -> Path | None:
    if os.environ.get("REGSPEC_NO_CACHE"):
        return None
    chosen = os.environ.get("REGSPEC_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "regspec"


def key() -> str:
    """Changes with any language source file, registered kind, or pydantic/Python version."""
    global _key
    if _key is None:
        import pydantic
        import pydantic_core

        from regspec.lang.registry import REGISTRIES

        h = hashlib.sha256()
        h.update(f"{pydantic.VERSION} {pydantic_core.__version__} {sys.version}".encode())
        for path in sorted(LANG.rglob("*.py")):
            h.update(str(path.relative_to(LANG)).encode() + b"\0" + path.read_bytes())
        for registry in REGISTRIES:
            for tag, cls in registry.items():
                h.update(f"{registry.kind}:{tag}:{cls.__module__}.{cls.__qualname__}\n".encode())
        _key = h.hexdigest()[:24]
    return _key


def path() -> Path | None:
    base = folder()
    return None if base is None else base / f"{PREFIX}{key()}.json"


def load() -> dict[str, Any] | None:
    where = path()
    if where is None:
        return None
    try:
        text = where.read_text(encoding="utf-8")
        _shared.clear()
        decoded = json.loads(text, object_hook=_decode_object)  # bottom-up, in the parser's loop
        schema = decoded.get("schema") if isinstance(decoded, dict) and "$shared" in decoded else None
        return schema if isinstance(schema, dict) else None
    except (OSError, ValueError, LookupError, TypeError, Uncachable):
        return None
    finally:
        _shared.clear()


def store(schema: dict[str, Any]) -> None:
    where = path()
    if where is None:
        return
    try:
        text = json.dumps(_shared_form(_encode(schema)), separators=(",", ":"))
    except Uncachable:
        return
    try:
        from regspec.files import write_text

        where.parent.mkdir(parents=True, exist_ok=True)
        write_text(str(where), text)
        for old in where.parent.glob(f"{PREFIX}*.json"):  # earlier versions of the language
            if old != where:
                old.unlink(missing_ok=True)
    except OSError:
        pass


# ----------------------------------------------------------------------------- the format


def _name(obj: Any) -> str:
    module = getattr(obj, "__module__", "") or ""
    if not (module == "regspec.lang" or module.startswith("regspec.lang.")) or "<" in obj.__qualname__:
        raise Uncachable(repr(obj))
    return f"{module}:{obj.__qualname__}"


def _encode(node: Any) -> Any:
    if node is None or isinstance(node, (str, bool, int, float)):
        return node
    if isinstance(node, list):
        return [_encode(v) for v in node]
    if isinstance(node, tuple):
        return {"$tuple": [_encode(v) for v in node]}
    if isinstance(node, dict):
        if not all(isinstance(k, str) and not k.startswith("$") for k in node):
            raise Uncachable("a mapping with keys this format does not hold")
        return {k: _encode(v) for k, v in node.items()}
    if node is dict or node is list:
        return {"$builtin": node.__name__}
    if isinstance(node, type):
        return {"$class": _name(node)}
    if isinstance(node, types.FunctionType):
        return {"$function": _name(node)}
    if isinstance(node, types.MethodType) and isinstance(node.__self__, type):
        return {"$method": [_name(node.__self__), node.__func__.__name__]}
    raise Uncachable(type(node).__name__)


#: A subtree the schema holds in several places is written once (each layer kind repeats the
#: initializer, regularizer and activation unions): the file is a third of its size, and reads
#: three times faster. The reader keeps what it has read so far by number, in this table.
_shared: dict[int, Any] = {}
MIN_SHARED = 8  # nodes: smaller subtrees are written where they occur


def _shared_form(root: Any) -> dict[str, Any]:
    """``{"$shared": [{"$def": n, "v": subtree}, ...], "schema": root}``, repeated subtrees as
    ``{"$r": n}``; a definition comes after those it refers to, so one pass of the parser reads it."""
    ids: dict[Any, int] = {}
    nodes: list[Any] = []  # id -> the node
    count: list[int] = []
    size: list[int] = []
    of: dict[int, int] = {}  # id(node) -> its id

    def intern(node: Any) -> Any:
        if isinstance(node, dict):
            key: Any = ("d", tuple((k, intern(v)) for k, v in node.items()))
        elif isinstance(node, list):
            key = ("l", tuple(intern(v) for v in node))
        else:
            return ("s", type(node).__name__, node)
        n = ids.get(key)
        if n is None:
            n = ids[key] = len(nodes)
            nodes.append(node)
            count.append(0)
            size.append(1 + sum(size[c[1]] for c in (key[1] if key[0] == "l" else (v for _, v in key[1]))
                                if c[0] == "n"))
        count[n] += 1
        of[id(node)] = n
        return ("n", n)

    intern(root)
    shared = {n for n in range(len(nodes)) if count[n] > 1 and size[n] >= MIN_SHARED}
    defs: list[dict[str, Any]] = []
    written: set[int] = set()

    def emit(node: Any, top: bool = False) -> Any:
        n = of.get(id(node))
        if n in shared and not top:
            if n not in written:
                written.add(n)
                defs.append({"$def": n, "v": emit(node, top=True)})
            return {"$r": n}
        if isinstance(node, dict):
            return {k: emit(v) for k, v in node.items()}
        if isinstance(node, list):
            return [emit(v) for v in node]
        return node

    body = emit(root)
    return {"$shared": defs, "schema": body}


def _decode_object(node: dict[str, Any]) -> Any:
    """One JSON object, its values decoded already: a tagged one becomes what it names."""
    if len(node) == 2 and "$def" in node and "v" in node:
        n = node["$def"]
        if not isinstance(n, int) or n in _shared:
            raise Uncachable("$def")
        _shared[n] = node["v"]
        return node["v"]
    if len(node) != 1:
        return node
    ((tag, value),) = node.items()
    if tag == "$r":
        if not isinstance(value, int) or value not in _shared:
            raise Uncachable("$r")
        return _shared[value]
    if tag == "$tuple":
        if not isinstance(value, list):
            raise Uncachable(tag)
        return tuple(value)
    if tag == "$builtin":
        return {"dict": dict, "list": list}[value]
    if tag == "$class":
        found = _lookup(value)
        if not isinstance(found, type):
            raise Uncachable(value)
        return found
    if tag == "$function":
        found = _lookup(value)
        if not isinstance(found, types.FunctionType):
            raise Uncachable(value)
        return found
    if tag == "$method":
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
            raise Uncachable(tag)
        owner, attribute = _lookup(value[0]), value[1]
        if not isinstance(owner, type) or (attribute.startswith("__") and attribute != "__get_pydantic_json_schema__"):
            raise Uncachable(str(value))
        method = getattr(owner, attribute)
        if not (isinstance(method, types.MethodType) and method.__self__ is owner):
            raise Uncachable(str(value))
        return method
    return node


def _lookup(name: str) -> Any:
    """A class or function of an imported ``regspec.lang`` module, by ``module:qualname``."""
    if not isinstance(name, str):
        raise Uncachable(repr(name))
    module_name, _, qualname = name.partition(":")
    if not (module_name == "regspec.lang" or module_name.startswith("regspec.lang.")):
        raise Uncachable(name)
    obj: Any = sys.modules.get(module_name)
    if obj is None:
        raise Uncachable(name)  # never imported here: not part of this language
    for part in qualname.split("."):
        if part.startswith("__"):
            raise Uncachable(name)
        if not isinstance(obj, (type, types.ModuleType)) or not hasattr(obj, part):
            raise Uncachable(name)
        obj = getattr(obj, part)
    return obj
