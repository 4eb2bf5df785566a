"""`regspec report`: one self-contained HTML page, checked in a real headless browser.

The browser is Chromium from the distribution's packages (.ci/run installs it and sets
REGSPEC_REQUIRE_BROWSER=1, so CI fails rather than skips when it is missing). The page marks
itself loaded and counts the images that decoded; the test reads that back from the DOM
Chromium dumps, and keeps a screenshot (REGSPEC_ARTIFACTS, else the test's folder).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from regspec.cli import main
from regspec.rundir.plots import plot_curves, plot_weights

HOSTILE = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"


def browser() -> str | None:
    found = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if found is None and os.environ.get("REGSPEC_REQUIRE_BROWSER"):
        pytest.fail("no Chromium on this machine, and REGSPEC_REQUIRE_BROWSER is set (.ci/run installs it)")
    return found


def make_runs(root: Path, seeds: int = 10) -> None:
    """Two groups of ``seeds`` seeds, as training writes them (TF-free: figures drawn from the
    JSON once, and copied: what is tested is the page, not matplotlib)."""
    drawn: dict[str, Path] = {}
    for group, dropout, shift in (("base", 0.0, 0.0), ("drop", 0.25, 0.04)):
        for seed in range(1, seeds + 1):
            run = root / f"{group}-{seed}"
            run.mkdir(parents=True)
            acc = 0.80 + 0.01 * seed + shift
            name = f"{group}-{seed}" if (group, seed) != ("drop", 3) else f"drop-3{HOSTILE}"
            (run / "run.json").write_text(json.dumps({"name": name, "status": "finished"}))
            (run / "metrics.json").write_text(json.dumps({"params": 99, "epochs_run": 3, "train": {"loss": 0.3, "accuracy": 0.9},
                                                          "test": {"loss": 1 - acc, "accuracy": acc}}))
            history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.7, 0.5], "accuracy": [0.5, 0.7, 0.8],
                       "val_accuracy": [0.5, 0.65, acc]}
            (run / "history.json").write_text(json.dumps(history))
            weights = {"zero_threshold": 0.001, "layers": [{"layer": "fc1", "class": "Dense", "weights": [
                {"name": "kernel", "shape": [4, 8], "count": 32, "l1": 3.0, "l2": 1.0, "mean_abs": 0.1,
                 "zero_fraction": 0.25, "histogram": {"edges": [-1, -0.5, 0, 0.5, 1], "counts": [3, 10, 12, 7]}}]}]}
            (run / "weights.json").write_text(json.dumps(weights))
            (run / "spec.yaml").write_text(f"regspec: 1\nname: {group}-{seed}\nlayers:\n- {{type: dense, name: fc1, units: 8}}\n"
                                           f"- {{type: dropout, rate: {dropout}}}\ntraining: {{seed: {seed}}}\n")
            for figure, draw in (("curves.png", plot_curves), ("weights.png", plot_weights)):
                if figure not in drawn:
                    draw(history if figure == "curves.png" else weights, str(run / figure), name)
                    drawn[figure] = run / figure
                else:
                    shutil.copyfile(drawn[figure], run / figure)


def test_the_report_renders_in_a_headless_browser(tmp_path):
    """Twenty runs: every table stays within the page's width (the weights table had four columns
    per run, 81 at twenty runs), every image decodes, and a screenshot is kept."""
    make_runs(tmp_path / "runs")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path / "runs"), "-o", str(page), "--mean-over",
                                       "training.seed", "--baseline", "base"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)  # nothing to fetch (namespaces are names)
    assert "<link" not in text and "@import" not in text
    assert HOSTILE not in text and "&lt;img src=x" in text  # run names are escaped
    chromium = browser()
    if chromium is None:
        pytest.skip("no Chromium here (CI installs it)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000",
             "--window-size=1300,2600"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert 'data-loaded="yes"' in dom
    assert 'data-images="40/40"' in dom  # curves.png and weights.png of twenty runs, all decoded
    assert 'data-svgs="1"' in dom  # the overlay, inline
    assert 'data-pwned="1"' not in dom and "<img src=\"x\"" not in dom  # the hostile name stayed text
    # results, mean ± sd, confidence intervals, then one weights table per statistic
    assert dom.count("<table>") == 7
    widest, page_width = (int(re.search(rf'data-{k}="(\d+)"', dom).group(1)) for k in ("widest-table", "body-width"))
    assert 0 < widest <= page_width, (widest, page_width)  # nothing wider than the page at twenty runs
    assert '<td class="better">better</td>' in dom  # +4 points on every seed, paired
    assert "Spec differences from base-1" in dom and "~ layers[1].rate: 0.0 -&gt; 0.25" in dom
    shots = Path(os.environ.get("REGSPEC_ARTIFACTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "report.png"
    subprocess.run([chromium, *flags, f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_a_sweep_sized_report_is_a_summary_that_links_figures(tmp_path):
    """Past INLINE_RUNS runs the page inlines no image and draws nothing: it links each run's
    figures (relative to the page), overlays the best runs' curves, and lists the first spec
    differences. A 500-trial sweep drew 500 weight histograms and inlined 1,000 PNGs."""
    from regspec.report.html import INLINE_RUNS, OVERLAY_RUNS

    make_runs(tmp_path / "runs", seeds=15)
    for png in (tmp_path / "runs").glob("*/weights.png"):
        png.unlink()  # as a sweep leaves them
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    result = CliRunner().invoke(main, ["report", str(tmp_path / "runs"), "-o", str(page)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert 30 > INLINE_RUNS
    text = page.read_text()
    assert "data:image/png" not in text and "<img" not in text
    assert not list((tmp_path / "runs").glob("*/weights.png"))  # nothing drawn
    links = re.findall(r'<a href="([^"]+)"', text)
    assert len(links) == 30 and all(link.startswith("../runs/") and link.endswith("/curves.png") for link in links)
    assert all((page.parent / link).is_file() for link in links)
    assert f"the {OVERLAY_RUNS} best of 30 runs" in text
    assert text.count("<h3>") == 4 + INLINE_RUNS - 1  # four weights tables, then the first differences
    assert len(text) < 400_000
