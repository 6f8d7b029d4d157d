"""The terminal results table (rich) and a self-contained HTML report of evaluation results.

The report is one HTML file that works offline: styles inline, plotly.js inlined once
(~4.8 MB), figures as Plotly JSON (hover shows each point's values). Without plotly
it falls back to matplotlib PNGs embedded as base64. Results of several datasets get
one section each, in the order they first appear.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich import box
from rich.markup import escape
from rich.table import Table

from ._figures import cost_quality_figure, pair_figure

ENGINES = ("auto", "plotly", "matplotlib")


# --------------------------------------------------------------------------- terminal
def _fmt(value: Any, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _with_ci(result: dict[str, Any], key: str, fmt: str) -> str:
    ci = result.get(f"{key}_ci")
    return _fmt(result.get(key), fmt) + (f" [{fmt.format(ci[0])}, {fmt.format(ci[1])}]" if ci and result.get(key) is not None else "")


def format_results(results: Sequence[dict[str, Any]]) -> Table:
    """One row per router for the terminal: APGR with its 95% interval, then the other headline numbers.

    Headers never truncate (each column is at least as wide as its header); AIQ shows
    when the pool is priced. ``n`` in the title is the test size. JSON and the HTML
    report carry every metric with its interval.
    """
    first = results[0] if results else {}
    title = ""
    if results:
        n_test, n_pair = first.get("n_test", first.get("n_pair")), first.get("n_pair")
        excluded = f", {n_test - n_pair} without both scores" if n_test is not None and n_pair is not None and n_pair != n_test else ""
        # names come from users' data: "[bold]" in a model name is text, not rich markup
        title = escape(f"{first['dataset']} (n={n_test} test{excluded}) — {first['strong']} vs {first['weak']}")
    priced = any(r.get("aiq") is not None for r in results)
    caption = "APGR-RL: RouteLLM's decile APGR; CPT: strong share for 50/80% of the gap; quality of the best-quality pick"
    if priced:
        caption += "; AIQ: RouterBench area under the cost–quality hull"
    # no vertical rules, one space between columns: eight columns fit an 80-column terminal
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0))
    columns = [("router", "left"), ("APGR [95% CI]", "right"), ("APGR-RL", "right"), ("CPT50", "right"),
               ("CPT80", "right"), ("quality", "right")]
    if priced:
        columns += [("AIQ", "right"), ("$/1k q", "right")]
    longest = max((len(str(r["router"])) for r in results), default=6)
    for header, justify in columns:
        width = min(longest, 24) if header == "router" else len(header)
        table.add_column(header, justify=justify, no_wrap=header != "router", min_width=width, overflow="fold")
    for r in results:
        row = [
            escape(str(r["router"])),
            _fmt(r.get("apgr"), "{:.3f}") + (f" [{r['apgr_ci'][0]:.2f}, {r['apgr_ci'][1]:.2f}]" if r.get("apgr_ci") and r.get("apgr") is not None else ""),
            _fmt(r.get("apgr_routellm"), "{:.3f}"),
            _fmt(r.get("cpt50"), "{:.3f}"),
            _fmt(r.get("cpt80"), "{:.3f}"),
            _fmt(r.get("quality"), "{:.3f}"),
        ]
        if priced:
            row += [_fmt(r.get("aiq"), "{:.3f}"), "—" if r.get("cost") is None else f"{1000 * r['cost']:.3g}"]
        table.add_row(*row)
    return table


# --------------------------------------------------------------------------- HTML pieces
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c8cede;font-size:13px}
nav{padding:8px 32px;background:#e9ecf4;font-size:14px}nav a{margin-right:16px;color:#2b4bb8}
main{padding:8px 32px 40px;max-width:1280px}
section.dataset{background:#fff;border-radius:8px;padding:16px 24px;margin:20px 0;box-shadow:0 1px 3px #0002}
h2{margin:4px 0 6px}h3{margin:22px 0 6px;font-size:16px}
.meta{color:#566;font-size:13px;margin:0 0 8px}.warn{color:#8a4b00;font-size:13px}
.fig{width:100%;margin:6px 0}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border-bottom:1px solid #e1e4ec;padding:4px 10px;text-align:right;white-space:nowrap}
th{background:#f0f2f8;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
.ci{color:#778;font-size:11px;display:block}.pos{color:#17703a}.neg{color:#a32020}
.mix{display:inline-block;height:9px;background:#5b7bd5;vertical-align:middle;margin-right:4px}
details{margin:6px 0}summary{cursor:pointer;color:#2b4bb8}pre{background:#f4f5f9;padding:8px;overflow:auto;font-size:12px}
.scroll{overflow-x:auto}
"""

_METRICS = [
    ("apgr", "APGR", "{:.3f}"),
    ("apgr_routellm", "APGR (RouteLLM)", "{:.3f}"),
    ("cpt50", "CPT(50%)", "{:.3f}"),
    ("cpt80", "CPT(80%)", "{:.3f}"),
    ("quality", "quality", "{:.3f}"),
    ("cost", "$/query", "{:.3g}"),
    ("aiq", "AIQ", "{:.3f}"),
    ("arena_score", "Arena", "{:.3f}"),
    ("gap_closed", "gap closed", "{:.2f}"),
]
_PAIRED = [("apgr", "ΔAPGR"), ("aiq", "ΔAIQ"), ("quality_at_equal_cost", "Δquality at its $")]


def _e(x: Any) -> str:
    return html.escape(str(x))


def _cell(value: Any, fmt: str, ci: Sequence[float] | None = None) -> str:
    if value is None:
        return "<td>—</td>"
    ci_html = f"<span class='ci'>[{fmt.format(ci[0])}, {fmt.format(ci[1])}]</span>" if ci else ""
    return f"<td>{fmt.format(value)}{ci_html}</td>"


def _table(head: Iterable[str], rows: Iterable[str]) -> str:
    return ("<div class='scroll'><table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"
            + "".join(rows) + "</table></div>")


def _metrics_table(results: Sequence[dict[str, Any]]) -> str:
    cols = [m for m in _METRICS if any(r.get(m[0]) is not None for r in results)]
    rows = [
        f"<tr><td>{_e(r['router'])}</td>" + "".join(_cell(r.get(k), f, r.get(f"{k}_ci")) for k, _, f in cols) + "</tr>"
        for r in results
    ]
    return _table(["router", *(t for _, t, _ in cols)], rows)


def _paired_table(results: Sequence[dict[str, Any]]) -> str:
    refs: list[str] = []
    for r in results:
        for ref in (r.get("paired") or {}):
            if ref not in refs:
                refs.append(ref)
    if not refs:
        return "<p class='meta'>No reference router (random, best single) in this run: no paired differences.</p>"
    cols = [(ref, key, title) for ref in refs for key, title in _PAIRED
            if any(((r.get("paired") or {}).get(ref) or {}).get(key) for r in results)]
    rows = []
    for r in results:
        cells = []
        for ref, key, _ in cols:
            d = ((r.get("paired") or {}).get(ref) or {}).get(key)
            if not d or d.get("diff") is None:
                cells.append("<td>—</td>")
                continue
            ci = d.get("ci")
            cls = "pos" if ci and ci[0] > 0 else "neg" if ci and ci[1] < 0 else ""
            ci_html = f"<span class='ci'>[{ci[0]:+.3f}, {ci[1]:+.3f}]</span>" if ci else ""
            cells.append(f"<td class='{cls}'>{d['diff']:+.3f}{ci_html}</td>")
        rows.append(f"<tr><td>{_e(r['router'])}</td>{''.join(cells)}</tr>")
    groups = "".join(f"<th colspan='{sum(1 for c in cols if c[0] == ref)}'>router − {_e(ref)}</th>"
                     for ref in refs if any(c[0] == ref for c in cols))
    head = "<tr><th></th>" + groups + "</tr><tr><th>router</th>" + "".join(f"<th>{_e(t)}</th>" for _, _, t in cols) + "</tr>"
    return ("<div class='scroll'><table>" + head + "".join(rows) + "</table></div>"
            "<p class='meta'>Paired bootstrap: the same resampled queries for every router. "
            "Δquality at its $: each router's best reachable quality (its hull) at the reference's own spend. "
            "Green/red where the 95% interval excludes 0.</p>")


def _mix_table(results: Sequence[dict[str, Any]]) -> str:
    models = results[0].get("models") or []
    rows = []
    for r in results:
        mix = r.get("model_mix") or {}
        cells = "".join(
            f"<td><span class='mix' style='width:{60 * mix.get(m, 0):.0f}px'></span>{100 * mix.get(m, 0):.1f}%</td>"
            for m in models
        )
        rows.append(f"<tr><td>{_e(r['router'])}</td>{cells}</tr>")
    return _table(["router", *models], rows)


def _calibration_tables(results: Sequence[dict[str, Any]]) -> str:
    parts = []
    for r in results:
        cal = r.get("calibration")
        if not cal:
            continue
        rows = [
            "<tr>" + _cell(c["target_strong_fraction"], "{:.0%}") + _cell(c["threshold"], "{:.4f}")
            + _cell(c["strong_fraction"], "{:.1%}") + _cell(c["usd_per_query"], "{:.3g}") + _cell(c["quality"], "{:.3f}") + "</tr>"
            for c in cal
        ]
        table = _table(["target strong share", "threshold", f"share to {r['strong']}", "$/query", "quality"], rows)
        parts.append(f"<details><summary>{_e(r['router'])}</summary>{table}</details>")
    return "".join(parts)


def _task_table(results: Sequence[dict[str, Any]]) -> str:
    tasks: list[str] = []
    for r in results:
        for t in r.get("per_task") or []:
            if t["task"] not in tasks:
                tasks.append(t["task"])
    if len(tasks) < 2:
        return ""
    by = {r["router"]: {t["task"]: t for t in r.get("per_task") or []} for r in results}
    first = {t["task"]: t for t in results[0].get("per_task") or []}
    rows = []
    for task in tasks:
        ref = first.get(task, {})
        cells = "".join(_cell(by[r["router"]].get(task, {}).get("quality"), "{:.3f}") for r in results)
        rows.append(f"<tr><td>{_e(task)}</td>{_cell(ref.get('n'), '{:d}')}{cells}"
                    f"{_cell(ref.get('best_single_quality'), '{:.3f}')}{_cell(ref.get('oracle_quality'), '{:.3f}')}</tr>")
    head = ["task", "n", *(r["router"] for r in results), "best single", "oracle"]
    return f"<h3>Per task (quality)</h3><details><summary>{len(tasks)} tasks</summary>{_table(head, rows)}</details>"


def _cards(results: Sequence[dict[str, Any]]) -> str:
    cards = [(r["router"], r["router_card"]) for r in results if r.get("router_card")]
    if not cards:
        return ""
    return "<h3>Router cards</h3>" + "".join(
        f"<details><summary>{_e(name)}</summary><pre>{_e(card)}</pre></details>" for name, card in cards
    )


# --------------------------------------------------------------------------- figures
def _plotly_div(fig: dict[str, Any], div_id: str) -> str:
    import plotly.io as pio

    return pio.to_html(fig, include_plotlyjs=False, full_html=False, validate=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True}, default_height="440px")


def _png_img(fig_png: bytes, alt: str) -> str:
    return f"<img alt='{_e(alt)}' style='max-width:100%' src='data:image/png;base64,{base64.b64encode(fig_png).decode()}'>"


def _figures(results: Sequence[dict[str, Any]], engine: str, slug: str) -> str:
    figs = [("pair", pair_figure(results)), ("cost", cost_quality_figure(results))]
    parts = []
    for kind, fig in figs:
        if fig is None:
            continue
        if engine == "plotly":
            parts.append(f"<div class='fig'>{_plotly_div(fig, f'{slug}-{kind}')}</div>")
        else:
            from ._plots import figure_png

            parts.append(f"<div class='fig'>{_png_img(figure_png(fig), fig['layout']['title']['text'])}</div>")
    return "".join(parts)


def _resolve_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "auto":
        return engine
    try:
        import plotly  # noqa: F401
    except ImportError:
        return "matplotlib"
    return "plotly"


# --------------------------------------------------------------------------- document
def group_by_dataset(results: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Results per dataset, datasets in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(str(r.get("dataset", "")), []).append(r)
    return groups


def _slug(name: str, i: int) -> str:
    return f"ds{i}-" + "".join(ch if ch.isalnum() else "-" for ch in name)[:40]


def _section(name: str, results: list[dict[str, Any]], engine: str, slug: str) -> str:
    first = results[0]
    warnings = sorted({w for r in results for w in r.get("warnings") or []})
    meta = (
        f"{first.get('n_test', first.get('n_pair'))} test queries"
        + (f" ({first['n_excluded']} without both pair scores)" if first.get("n_excluded") else "")
        + (f", {first['n_train']} train" if first.get("n_train") else "")
        + f"; pair <b>{_e(first['strong'])}</b> (strong) vs <b>{_e(first['weak'])}</b> (weak), chosen on the "
        + f"{_e(first.get('pair_chosen_on', 'test'))} split; 95% bootstrap intervals, {first.get('n_boot', 0)} "
        + f"paired resamples (seed {first.get('seed', 0)})."
    )
    warn_html = "".join(f"<p class='warn'>⚠ {_e(w)}</p>" for w in warnings)
    return (
        f"<section class='dataset' id='{slug}'><h2>{_e(name)}</h2><p class='meta'>{meta}</p>{warn_html}"
        f"{_figures(results, engine, slug)}"
        f"<h3>Metrics</h3>{_metrics_table(results)}"
        f"<h3>Paired differences</h3>{_paired_table(results)}"
        f"<h3>Model mix (share of test queries at each router's best-quality pick)</h3>{_mix_table(results)}"
        f"<h3>Calibration: threshold → share to {_e(first['strong'])}, $/query</h3>{_calibration_tables(results)}"
        f"{_task_table(results)}{_cards(results)}</section>"
    )


def render_report(results: Sequence[dict[str, Any]], *, engine: str = "auto", title: str = "routecraft evaluation") -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    engine = _resolve_engine(engine)
    groups = group_by_dataset(results)
    slugs = {name: _slug(name, i) for i, name in enumerate(groups)}
    script = ""
    if engine == "plotly":
        from plotly.offline import get_plotlyjs

        script = f"<script type='text/javascript'>{get_plotlyjs()}</script>"
    from .._version import __version__

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f"<a href='#{slugs[n]}'>{_e(n)}</a>" for n in groups)
    body = "".join(_section(n, rs, engine, slugs[n]) for n, rs in groups.items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
        f"<style>{_CSS}</style>{script}</head><body>"
        f"<header><h1>{_e(title)}</h1><p>{len(groups)} dataset(s), {len(results)} result(s); routecraft "
        f"{_e(__version__)}; generated {stamp}. APGR/CPT: RouteLLM's definitions on the strong/weak pair; "
        "AIQ: RouterBench's area under the non-decreasing convex hull; Arena: RouterArena's score.</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>"
    )


def write_report(
    results: Sequence[dict[str, Any]],
    path: str | Path | Sequence[str | Path],
    legacy_path: str | Path | None = None,
    *,
    engine: str = "auto",
) -> Path:
    """Write the self-contained HTML report of ``results`` to ``path``; return the path.

    ``engine``: ``"plotly"`` (interactive, plotly.js inlined), ``"matplotlib"`` (static
    PNGs) or ``"auto"`` (plotly when installed). The old call
    ``write_report(results, plot_paths, path)`` still works; the PNGs are ignored
    because the report draws its own figures.
    """
    if legacy_path is not None:
        path = legacy_path
    out = Path(path)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(results, engine=engine), encoding="utf-8")
    return out

