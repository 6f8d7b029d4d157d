"""CASCAL: consensus scoring, niches, routing, voting, conformance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from routecraft._errors import DataError
from routecraft.data import Dataset
from routecraft.routers import CascalRouter, check_router, conformance_dataset, make_router
from routecraft.routers._consensus import consensus_scores, majority, robust_stats, vote_weights

FIXTURE = "tests/fixtures/data/mmlu_pro"


@pytest.mark.parametrize("supervision", ["consensus", "labels"])
def test_check_router(supervision):
    check_router(CascalRouter(embedder="hashing", supervision=supervision), data=conformance_dataset(answers=True))


def test_registry_spec_selects_supervision():
    assert make_router("cascal").supervision == "consensus"
    assert make_router("cascal:labels").supervision == "labels"


def test_consensus_without_logprobs_is_uniform_vote_softmax():
    answers = np.array([["A", "A", "B", None]], dtype=object)
    answered = np.array([[True, True, True, True]])
    s = consensus_scores(answers, np.full((1, 4), np.nan), answered)
    # the dataset's labels are {A, B}: raw votes A = 2·0.5, B = 0.5
    ea, eb = np.exp(1.0), np.exp(0.5)
    np.testing.assert_allclose(s[0], [ea / (ea + eb), ea / (ea + eb), eb / (ea + eb), 0.0])


def test_confident_minority_can_outvote_unsure_majority():
    # model 0 is usually unsure (low log-prob) but sure on q0; models 1, 2 are sure elsewhere, unsure on q0
    lp = np.array([[-0.01, -5.0, -5.0], [-3.0, -0.1, -0.1], [-3.0, -0.1, -0.1], [-3.0, -0.1, -0.1]])
    answers = np.array([["A", "B", "B"], ["A", "A", "A"], ["B", "B", "B"], ["C", "C", "C"]], dtype=object)
    med, sigma = robust_stats(lp)
    w = vote_weights(lp, med, sigma)
    assert w.min() >= 0.01 and w.max() <= 0.99
    s = consensus_scores(answers, lp, np.ones_like(lp, dtype=bool))
    assert s[0, 0] > s[0, 1]  # one confident vote beats two unsure ones
    in_major, ratio = majority(answers)
    assert in_major[0].tolist() == [False, True, True] and ratio[0] == pytest.approx(2 / 3)


def _two_niche_data(scores_value: float | None = None) -> Dataset:
    """math-expert agrees with the majority on math only, law-expert on law only."""
    rows, queries = [], []
    rng = np.random.default_rng(0)
    for topic, words in (("math", "integral derivative matrix eigenvalue polynomial"), ("law", "contract tort statute plaintiff appeal")):
        for i in range(30):
            text = f"{words} question {topic} {i}: " + " ".join(rng.permutation(words.split())[:3])
            qid = f"{topic}-{i}"
            queries.append({"query_id": qid, "query": text, "task": topic})
            gold = "ABCD"[i % 4]
            wrong = "ABCD"[(i + 1) % 4]
            answers = {
                "math-expert": gold if topic == "math" else wrong,
                "law-expert": gold if topic == "law" else "ABCD"[(i + 2) % 4],
                "follower-1": gold,
                "follower-2": gold if i % 3 else wrong,
            }
            for m, a in answers.items():
                score = float(a == gold) if scores_value is None else scores_value
                rows.append({"query_id": qid, "model": m, "score": score, "answer": a})
    return Dataset(pd.DataFrame(queries), pd.DataFrame(rows), meta={"name": "niches"})


def test_routes_each_subject_to_its_expert_and_ignores_gold_scores():
    data = _two_niche_data()
    r = CascalRouter(embedder="hashing").fit(data)
    q = r.predict_quality(["integral derivative matrix question math 99", "contract tort statute question law 99"])
    m, l = r.models_.index("math-expert"), r.models_.index("law-expert")
    assert q[0, m] > q[0, l] and q[1, l] > q[1, m]
    np.testing.assert_allclose(q.sum(axis=1), 1.0)  # routing weights
    # consensus CASCAL never reads the score column
    q0 = CascalRouter(embedder="hashing").fit(_two_niche_data(scores_value=0.0)).predict_quality(
        ["integral derivative matrix question math 99", "contract tort statute question law 99"]
    )
    np.testing.assert_allclose(q, q0)


def test_far_queries_fall_back_to_global_ranking():
    r = CascalRouter(embedder="hashing", distance_threshold=-1.0, blend_width=1e-9).fit(_two_niche_data())
    q = r.predict_quality(["integral derivative matrix question math 99"])
    expected = np.exp((r.global_scores_ - r.global_scores_.max()) / 0.1)
    np.testing.assert_allclose(q[0], expected / expected.sum())


def test_top3_vote_majority_and_confidence_tiebreak():
    r = CascalRouter(embedder="hashing").fit(_two_niche_data())
    n = len(r.models_)
    answers = np.array([["A"] * n, ["A", "B", "C", "D"][:n]], dtype=object)
    order = np.argsort(-r.predict_quality(["q one", "q two"]), axis=1, kind="stable")[:, :3]
    picked, top = r.vote(["q one", "q two"], answers, k=3)
    assert picked[0] == "A"
    np.testing.assert_array_equal(top, order)
    assert picked[1] == answers[1, order[1, 0]]  # no majority, no log-probs: the top-ranked model's answer
    lp = np.zeros((2, n))
    lp[1, order[1, 2]] = 5.0  # the third-ranked model is far more confident than usual
    picked, _ = r.vote(["q one", "q two"], answers, logprobs=lp, k=3)
    assert picked[1] == answers[1, order[1, 2]]


def test_needs_answers():
    data = conformance_dataset()  # outcomes without answers
    with pytest.raises(DataError, match="answer"):
        CascalRouter(embedder="hashing").fit(data)


def test_trains_on_real_mmlu_pro_outputs_without_gold():
    from routecraft.data import load_dataset

    data = load_dataset(FIXTURE)
    blind = Dataset(data.queries, data.outcomes.assign(score=0.0), meta={"name": "blind"})
    texts = data.texts[:20]
    q1 = CascalRouter(embedder="hashing").fit(data).predict_quality(texts)
    q2 = CascalRouter(embedder="hashing").fit(blind).predict_quality(texts)
    np.testing.assert_allclose(q1, q2)
    assert q1.shape == (20, len(data.models))


def test_evaluates_under_threshold_and_cost_policies_like_any_router():
    from routecraft.evaluate import train_and_evaluate
    from routecraft.policy import CostPolicy

    data = conformance_dataset(answers=True)
    run = train_and_evaluate(data, [CascalRouter(embedder="hashing")], seed=0, n_boot=50)
    (result,) = run.results
    assert result["apgr"] is not None and np.isfinite(result["apgr"])
    r = CascalRouter(embedder="hashing").fit(data)
    q = r.predict_quality(data.texts[:5])
    cost = data.cost_matrix(r.models_)[:5]
    assert CostPolicy(0.0).decide(q, cost).tolist() == q.argmax(axis=1).tolist()
