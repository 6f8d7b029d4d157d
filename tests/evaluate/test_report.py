"""The HTML report: one section per dataset, self-contained, Plotly or matplotlib; `routecraft report`."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from rich.console import Console

from routecraft.data._dataset import Dataset
from routecraft.evaluate import evaluate_routers, format_results, render_report, write_report
from routecraft.evaluate._figures import cost_quality_figure, pair_figure
from routecraft.routers import BestSingleRouter, OracleRouter, RandomRouter

def _load_browser():
    spec = importlib.util.spec_from_file_location("rc_browser", Path(__file__).with_name("_browser.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _renamed(data: Dataset, name: str) -> Dataset:
    return Dataset(data.queries, data.outcomes, data.preferences, data.pool, meta={**data.meta, "name": name})


@pytest.fixture(scope="module")
def results(conformance_data):
    out = []
    for name in ("alpha-set", "beta-set"):
        data = _renamed(conformance_data, name)
        routers = {"random": RandomRouter().fit(data), "best-single": BestSingleRouter().fit(data),
                   "oracle": OracleRouter().fit(data), f"only-in-{name}": RandomRouter(random_state=3).fit(data)}
        out += evaluate_routers(routers, data, reference=data, n_boot=60)
    return out


def _sections(doc: str) -> dict[str, str]:
    parts = re.findall(r"<section class='dataset' id='[^']*'><h2>([^<]*)</h2>(.*?)</section>", doc, flags=re.S)
    return dict(parts)


def test_one_section_per_dataset_with_its_own_rows(results):
    doc = render_report(results, engine="plotly")
    sections = _sections(doc)
    assert list(sections) == ["alpha-set", "beta-set"]
    assert "only-in-alpha-set" in sections["alpha-set"] and "only-in-alpha-set" not in sections["beta-set"]
    assert "only-in-beta-set" in sections["beta-set"] and "only-in-beta-set" not in sections["alpha-set"]
    for body in sections.values():
        for heading in ("Metrics", "Paired differences", "Model mix", "Calibration", "Per task"):
            assert f"<h3>{heading}" in body, heading
        assert body.count("class=\"plotly-graph-div\"") == 2  # pair curves and cost–quality curves


def test_report_is_self_contained(results, tmp_path):
    path = write_report(results, tmp_path / "r.html", engine="plotly")
    doc = path.read_text(encoding="utf-8")
    assert path.stat().st_size > 3_000_000  # plotly.js is inlined, not fetched
    assert not re.search(r"<script[^>]+src=", doc)
    assert "<link" not in doc
    # outside plotly.js itself (whose strings mention its website), nothing points off the page
    ours = re.sub(r"<script type='text/javascript'>.*?</script>", "", doc, count=1, flags=re.S)
    assert len(ours) < 1_000_000
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", ours)


def test_matplotlib_fallback_embeds_pngs(results, tmp_path):
    alpha = [r for r in results if r["dataset"] == "alpha-set"]
    doc = write_report(alpha, tmp_path / "r.html", engine="matplotlib").read_text(encoding="utf-8")
    assert doc.count("data:image/png;base64,") == 2  # pair curves and cost–quality curves
    assert "plotly-graph-div" not in doc and "<script" not in doc
    assert list(_sections(doc)) == ["alpha-set"]


def test_legends_sit_outside_the_plotting_area(results):
    alpha = [r for r in results if r["dataset"] == "alpha-set"]
    for fig in (pair_figure(alpha), cost_quality_figure(alpha)):
        legend = fig["layout"]["legend"]
        assert legend["x"] >= 1.0 and legend["xanchor"] == "left"  # right of the axes, never over a curve
        names = [t["name"] for t in fig["data"] if t["showlegend"]]
        assert any("oracle" in n for n in names) and any("random mix" in n for n in names)
    names = [t["name"] for t in cost_quality_figure(alpha)["data"]]
    assert "Pareto frontier (all routers)" in names and any(n.startswith("best single") for n in names)


def test_terminal_table_keeps_headers_and_shows_aiq(results):
    alpha = [r for r in results if r["dataset"] == "alpha-set"]
    console = Console(width=80, record=True)
    console.print(format_results(alpha))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "router" in line and "APGR" in line)
    for title in ("APGR [95% CI]", "APGR-RL", "CPT50", "CPT80", "quality", "AIQ", "$/1k q"):
        assert title in header, title
    assert f"n={alpha[0]['n_test']} test" in text
    assert "…" not in text


def test_report_in_a_headless_browser(results, tmp_path):
    browser = _load_browser()
    binary = browser.find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    path = write_report(results, tmp_path / "report.html", engine="plotly")
    with browser.Browser(binary) as b:
        seen = b.load(path)
        graphs = b.evaluate("document.querySelectorAll('.plotly-graph-div').length")
        drawn = b.evaluate("[...document.querySelectorAll('.plotly-graph-div')].filter(d => d.querySelector('.main-svg .scatterlayer .trace')).length")
        overlap = b.evaluate("""[...document.querySelectorAll('.plotly-graph-div')].map(d => {
            const plot = d.querySelector('.nsewdrag').getBoundingClientRect();
            const legend = d.querySelector('.legend').getBoundingClientRect();
            return legend.left >= plot.right - 1 || legend.top >= plot.bottom - 1; })""")
    errors = [m for m in seen["console"] if m[0] in ("error", "assert")] + [l for l in seen["log"] if l[0] == "error"]
    assert errors == [] and seen["exceptions"] == []
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:", "about:"))] == []
    assert graphs == 4 and drawn == 4
    assert overlap == [True] * 4


def test_browser_harness_sees_errors_and_requests(tmp_path):
    """The checks above can fail: a console error, an exception and an off-page request are all seen."""
    browser = _load_browser()
    binary = browser.find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>console.error('boom'); undefinedFunction();</script>"
                    "<img src='http://127.0.0.1:9/x.png'></body></html>")
    with browser.Browser(binary) as b:
        seen = b.load(page)
    assert ("error", "boom") in seen["console"]
    assert any("undefinedFunction" in e for e in seen["exceptions"])
    assert "http://127.0.0.1:9/x.png" in seen["requests"]


def test_saved_router_card_goes_into_the_report(conformance_data, tmp_path):
    from routecraft.artifact import load_router

    path = tmp_path / "bs.routecraft"
    BestSingleRouter().fit(conformance_data).save(str(path), metrics={"note": "saved for the report test"})
    loaded = load_router(path)
    res = evaluate_routers({"saved": loaded, "random": RandomRouter().fit(conformance_data)}, conformance_data,
                           reference=conformance_data, n_boot=10)
    assert "Router card: BestSingleRouter" in res[0]["router_card"] and "router_card" not in res[1]
    doc = render_report(res, engine="plotly")
    assert "<h3>Router cards</h3>" in doc and "saved for the report test" in doc


def test_terminal_table_prints_bracketed_names_as_text(results):
    """Model and router names come from users' data; rich must not read "[bold]" in them as markup."""
    alpha = [{**r, "router": f"[bold]{r['router']}", "strong": "[red]big"} for r in results if r["dataset"] == "alpha-set"]
    console = Console(width=200, record=True)
    console.print(format_results(alpha))
    text = console.export_text()
    assert "[red]big" in text and f"[bold]{alpha[0]['router'][6:]}" in text
