"""Evaluation: curves, metrics with bootstrap intervals, plots and reports (DESIGN §6).

    results = evaluate_routers({"knn": knn, "oracle": OracleRouter().fit(test)}, test, reference=train)
    print_table = format_results(results)
    write_report(results, "out/report.html")   # one self-contained HTML file (Plotly inlined)
"""

from ._costq import aiq, arena_score, ndch
from ._plots import plot_cost_quality, plot_pair, plot_results
from ._report import format_results, render_report, write_report
from ._runner import default_pair, evaluate_router, evaluate_routers
from ._pgr import apgr, apgr_routellm, cpt, cpt_routellm, pgr_curve
from ._pipeline import EvaluationRun, train_and_evaluate

__all__ = [
    "EvaluationRun",
    "aiq",
    "apgr",
    "apgr_routellm",
    "arena_score",
    "cpt",
    "cpt_routellm",
    "default_pair",
    "evaluate_router",
    "evaluate_routers",
    "format_results",
    "ndch",
    "pgr_curve",
    "plot_cost_quality",
    "plot_pair",
    "plot_results",
    "render_report",
    "train_and_evaluate",
    "write_report",
]
