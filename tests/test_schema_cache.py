"""The per-user cache of the spec model's core schema: same results, nothing run from the file."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CASES, ROOT

PROBE = """
import json, sys
from regspec.lang import model, schema_cache
from regspec.lang.schema import schema_text
from regspec.frontend.files import spec_files
from regspec.api import load
from regspec.diagnostics import SpecError
out = []
for path in sorted(spec_files(sys.argv[1:])):
    try:
        out.append([path, load(path).name])
    except SpecError as exc:
        out.append([path, [d.to_dict() for d in exc.diagnostics]])
print(json.dumps({"from_cache": model._built["from_cache"], "results": out, "schema": schema_text(),
                  "file": str(schema_cache.path())}))
"""


def probe(cache: str, **env: str) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE, str(CASES / "valid"), str(CASES / "invalid"), str(ROOT / "specs")],
                         env={**os.environ, "REGSPEC_CACHE_DIR": cache, **env}, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_a_cached_schema_validates_every_case_as_a_generated_one(tmp_path):
    cache = str(tmp_path / "cache")
    first = probe(cache)
    assert not first["from_cache"] and os.path.isfile(first["file"])
    second = probe(cache)
    assert second["from_cache"]
    assert second["results"] == first["results"] and second["schema"] == first["schema"]
    errors = [r for r in first["results"] if isinstance(r[1], list)]
    assert len(first["results"]) > 50 and len(errors) > 10
    off = probe(cache, REGSPEC_NO_CACHE="1")
    assert not off["from_cache"] and off["results"] == first["results"]


@pytest.mark.slow  # 27 fresh interpreters
def test_a_hostile_or_broken_cache_file_is_ignored_and_replaced(tmp_path):
    cache = str(tmp_path / "cache")
    good = probe(cache)
    path = good["file"]
    text = open(path).read()
    marker = tmp_path / "ran"
    hostile = [
        "{not json",
        json.dumps({"$function": "os:system"}),
        json.dumps({"$class": "subprocess:Popen"}),
        json.dumps({"$function": "regspec.rundir.backup:drop"}),  # outside the language modules
        json.dumps({"$method": ["regspec.lang.model:SpecModel", "__class__"]}),
        json.dumps({"$function": "regspec.lang.model:__builtins__.exec"}),
        json.dumps({"$class": 5}), json.dumps({"$tuple": 3}), json.dumps({"$builtin": ["dict"]}),  # ill-formed tags
        json.dumps({"$method": "regspec.lang.model:SpecModel"}), json.dumps([1, 2]),
        text.replace('"$class":"regspec.lang.model:SpecModel"', '"$class":"regspec.lang.model:schema_cache"', 1),
        text.replace('{"type":"model"', f'{{"type":"model","x":{json.dumps(str(marker))}', 1)[:-5000],  # cut short
    ]
    for content in hostile:
        with open(path, "w") as fh:
            fh.write(content)
        again = probe(cache)
        assert not again["from_cache"], content[:80]
        assert again["results"] == good["results"]
        assert not marker.exists()
        assert probe(cache)["from_cache"]  # rewritten from the generated schema


def test_no_cache_folder_is_needed(tmp_path):
    (tmp_path / "file").write_text("x")
    result = probe(str(tmp_path / "file" / "cache"))  # cannot be created: no cache, same results
    assert not result["from_cache"] and result["results"] == probe(str(tmp_path / "c"))["results"]
