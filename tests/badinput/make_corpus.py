"""Generate the bad-input corpus: small hostile or careless files, and the cases run over them.

Run from the repository root (it rewrites ``tests/badinput/corpus/``)::

    PYTHONPATH=src python tests/badinput/make_corpus.py

Each case is one command line (or Python API call) and what it must do: exit 2 with
one ``error:`` line containing every ``needle`` (file, 1-based row, field), or exit 0
(and then every row is accounted for: kept, or counted in a printed note). The test
is ``tests/badinput/test_corpus.py``. Files are generated from fixed rows, so a
regenerated corpus holds the same cases (artifacts differ only in timestamps).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sys
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MODELS = ("strong", "weak")


def _texts(n: int) -> list[str]:
    topics = ["math", "code", "chat", "law", "bio"]
    return [f"Question {i} about {topics[i % 5]}: please explain item {i * 7 % 13} in detail." for i in range(n)]


def outcome_rows(n: int = 30) -> list[dict]:
    rows = []
    for i, text in enumerate(_texts(n)):
        rows.append({"query": text, "model": "strong", "score": 1.0 if i % 3 else 0.0})
        rows.append({"query": text, "model": "weak", "score": 1.0 if i % 2 else 0.0})
    return rows


def pref_rows(n: int = 30) -> list[dict]:
    return [
        {"query": t, "model_a": "strong", "model_b": "weak", "winner": ["a", "b", "tie"][i % 3]}
        for i, t in enumerate(_texts(n))
    ]


def write_csv(name: str, rows: list[dict] | None = None, text: str | None = None, **frame_edits) -> str:
    p = CORPUS / name
    if text is not None:
        p.write_text(text)
    else:
        pd.DataFrame(rows).to_csv(p, index=False)
    return name


def write_jsonl(name: str, rows: list) -> str:
    (CORPUS / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return name


class Cases:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, cid: str, argv: list[str], expect: str, needles: list[str] = (), env: dict | None = None,
            check: str | None = None) -> None:
        assert expect in ("ok", "error"), expect
        self.items.append({"id": cid, "argv": argv, "expect": expect, "needles": list(needles),
                           "env": env or {}, "check": check})


def data_files(cases: Cases) -> None:
    """Bad (and tricky but valid) dataset files, each run through load, inspect, convert and train."""
    good = outcome_rows()
    F: list[tuple[str, str, list[str]]] = []  # (file, expect, needles)

    def bad(rows_edit, name, needles, expect="error"):
        rows = [dict(r) for r in good]
        rows_edit(rows)
        F.append((write_csv(name, rows), expect, needles))

    F.append((write_csv("empty.csv", text=""), "error", ["empty.csv", "empty"]))
    F.append((write_csv("header_only.csv", text="query,model,score\n"), "error", ["header_only.csv"]))
    (CORPUS / "garbage.csv").write_bytes(bytes(range(256)) * 4)
    F.append(("garbage.csv", "error", ["garbage.csv"]))
    bad(lambda r: [x.pop("score") for x in r], "no_score_column.csv", ["no_score_column.csv"])
    bad(lambda r: r[2].update(score="abc"), "score_text.csv", ["score_text.csv", "row 3", "field 'score'", "'abc'"])
    bad(lambda r: r[4].update(score=float("nan")), "score_nan.csv", ["score_nan.csv", "row 5", "field 'score'"])
    bad(lambda r: r[1].update(score=float("inf")), "score_inf.csv", ["score_inf.csv", "row 2", "field 'score'"])
    bad(lambda r: r[6].update(score=1.5), "score_above_one.csv", ["score_above_one.csv", "row 7", "field 'score'", "1.5"])
    bad(lambda r: r[0].update(score=-0.25), "score_negative.csv", ["score_negative.csv", "row 1", "field 'score'", "-0.25"])
    bad(lambda r: r[3].update(query="   "), "empty_query.csv", ["empty_query.csv", "row 4", "field 'query'"])
    bad(lambda r: r[5].update(model=""), "empty_model.csv", ["empty_model.csv", "row 6", "field 'model'"])
    bad(lambda r: r[7].update(source="vibes"), "bad_source.csv", ["bad_source.csv", "row 8", "field 'source'", "'vibes'"])
    bad(lambda r: [x.update(cost_usd=0.01) for x in r] and r[9].update(cost_usd=-1), "negative_cost.csv",
        ["negative_cost.csv", "row 10", "field 'cost_usd'"])
    bad(lambda r: [x.update(tokens_out="many") for x in r[:1]], "tokens_text.csv", ["tokens_text.csv", "row 1", "field 'tokens_out'"])
    bad(lambda r: [x.update(query_id=f"q{i // 2}") for i, x in enumerate(r)] and r[3].update(query="another text"),
        "id_two_texts.csv", ["id_two_texts.csv", "row 4", "field 'query_id'"])
    bad(lambda r: [x.update(query_id="[/x]" if i < 2 else f"q{i // 2}") for i, x in enumerate(r)]
        and r[1].update(query="different [/x] text"), "markup_in_id.csv", ["markup_in_id.csv", "[/x]", "field 'query_id'"])
    bad(lambda r: r.append({"query": "x" * 100_001, "model": "strong", "score": 1.0}), "huge_query.csv",
        ["huge_query.csv", "row 61", "field 'query'", "100001 characters"])
    # valid but tricky: must load, and account for every row
    bad(lambda r: r.append(dict(r[0], score=1.0 - r[0]["score"])), "conflicting_duplicate.csv", [], "ok")
    bad(lambda r: r.append(dict(r[0])), "exact_duplicate.csv", [], "ok")
    bad(lambda r: [x.update(judge_note=f"n{i}", latency_ms=i) for i, x in enumerate(r)], "extra_columns.csv", [], "ok")
    bad(lambda r: [x.update(split="train" if i < 40 else "holdout") for i, x in enumerate(r)], "split_holdout.csv", [], "ok")
    bad(lambda r: [x.update(split="train") for x in r], "split_all_train.csv", [], "ok")
    bad(lambda r: [x.update(split="train" if i < 36 else ("test" if i < 50 else "")) for i, x in enumerate(r)],
        "split_partly_empty.csv", [], "ok")
    nfc = unicodedata.normalize("NFC", "Explain the café menu pricing in detail please")
    nfd = unicodedata.normalize("NFD", nfc)
    bad(lambda r: r.extend([{"query": nfc, "model": m, "score": 1.0} for m in MODELS]
                           + [{"query": nfd, "model": m, "score": 0.0} for m in MODELS]), "nfc_nfd.csv", [], "ok")
    bad(lambda r: [x.update(model="[bold]strong[/]") for x in r if x["model"] == "strong"], "markup_model.csv", [], "ok")
    one = [r for r in good if r["model"] == "strong"]
    F.append((write_csv("one_model.csv", one), "ok", []))
    # encodings and containers
    text = pd.DataFrame(good).to_csv(index=False)
    (CORPUS / "utf16.csv").write_bytes(text.encode("utf-16"))
    F.append(("utf16.csv", "error", ["utf16.csv"]))
    (CORPUS / "latin1.csv").write_bytes(text.replace("Question 1 ", "Qüestion 1 ").encode("latin-1"))
    F.append(("latin1.csv", "error", ["latin1.csv"]))
    (CORPUS / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    F.append(("bom.csv", "ok", []))
    (CORPUS / "not_gzip.csv.gz").write_bytes(text.encode())
    F.append(("not_gzip.csv.gz", "error", ["not_gzip.csv.gz"]))
    (CORPUS / "good.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in good).encode(), mtime=0))
    F.append(("good.jsonl.gz", "ok", []))
    (CORPUS / "crlf.csv").write_bytes(text.replace("\n", "\r\n").encode())
    F.append(("crlf.csv", "ok", []))
    lines = [json.dumps(r) for r in good]
    lines[1] = '{"query": "broken", "model": '
    (CORPUS / "bad_line.jsonl").write_text("\n".join(lines) + "\n")
    F.append(("bad_line.jsonl", "error", ["bad_line.jsonl", "row 2"]))
    lines = [json.dumps(r) for r in good]
    lines[2] = "[1, 2, 3]"
    (CORPUS / "array_line.jsonl").write_text("\n".join(lines) + "\n")
    F.append(("array_line.jsonl", "error", ["array_line.jsonl", "row 3"]))
    (CORPUS / "object.json").write_text(json.dumps({"query": "x", "model": "m", "score": 1}))
    F.append(("object.json", "error", ["object.json"]))
    (CORPUS / "truncated.json").write_text(json.dumps(good)[:300])
    F.append(("truncated.json", "error", ["truncated.json"]))
    buf = io.BytesIO()
    pd.DataFrame(good).to_parquet(buf, index=False)
    (CORPUS / "truncated.parquet").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    F.append(("truncated.parquet", "error", ["truncated.parquet"]))
    (CORPUS / "scores.tsv").write_text(text.replace(",", "\t"))
    F.append(("scores.tsv", "error", ["scores.tsv", "unrecognised format"]))
    write_jsonl("nested_score.jsonl", [dict(r, score={"v": 1}) if i == 3 else r for i, r in enumerate(good)])
    F.append(("nested_score.jsonl", "error", ["nested_score.jsonl", "row 4", "field 'score'"]))
    write_jsonl("bool_score.jsonl", [dict(r, score=True) for r in good])
    F.append(("bool_score.jsonl", "ok", []))
    # preference logs
    prefs = pref_rows()

    def badp(edit, name, needles, expect="error"):
        rows = [dict(r) for r in prefs]
        edit(rows)
        F.append((write_csv(name, rows), expect, needles))

    badp(lambda r: r[2].update(winner="c"), "pref_bad_winner.csv", ["pref_bad_winner.csv", "row 3", "field 'winner'", "'c'"])
    badp(lambda r: r[4].update(model_b="strong"), "pref_same_models.csv", ["pref_same_models.csv", "row 5", "field 'model_b'"])
    badp(lambda r: [x.pop("winner") for x in r], "pref_no_winner.csv", ["pref_no_winner.csv", "winner"])
    badp(lambda r: [x.update(weight=1.0) for x in r] and r[1].update(weight=-2), "pref_negative_weight.csv",
         ["pref_negative_weight.csv", "row 2", "field 'weight'"])
    badp(lambda r: [x.update(session=f"s{i}") for i, x in enumerate(r)], "pref_extra_columns.csv", [], "ok")
    battles = [
        {"model_a": "strong", "model_b": "weak", "winner": "model_a",
         "conversation_a": [{"role": "user", "content": t}, {"role": "assistant", "content": "ok"}]}
        for t in _texts(30)
    ]
    write_jsonl("arena_ok.jsonl", battles)
    F.append(("arena_ok.jsonl", "ok", []))
    broken = [dict(b) for b in battles]
    broken[3]["conversation_a"] = "not json ["
    write_jsonl("arena_bad_conversation.jsonl", broken)
    F.append(("arena_bad_conversation.jsonl", "error", ["arena_bad_conversation.jsonl", "row 4", "field 'conversation_a'"]))
    broken = [dict(b) for b in battles]
    broken[5]["conversation_a"] = [{"role": "assistant", "content": "hi"}]
    write_jsonl("arena_no_user.jsonl", broken)
    F.append(("arena_no_user.jsonl", "error", ["arena_no_user.jsonl", "row 6", "field 'conversation_a'"]))
    # canonical directories
    from routecraft.data import load_dataset

    base = load_dataset(str(CORPUS / "bom.csv"))

    def canonical(name, edit=None, meta=None):
        d = CORPUS / name
        base.save(d)
        if edit:
            edit(d)
        if meta is not None:
            (d / "dataset.json").write_text(meta)
        return name

    def unknown_qid(d):
        out = pd.read_parquet(d / "outcomes.parquet")
        out.loc[4, "query_id"] = "nope"
        out.to_parquet(d / "outcomes.parquet", index=False)

    def score_range(d):
        out = pd.read_parquet(d / "outcomes.parquet")
        out.loc[2, "score"] = 7.0
        out.to_parquet(d / "outcomes.parquet", index=False)

    def corrupt_queries(d):
        (d / "queries.parquet").write_bytes(b"PAR1 garbage")

    F.append((canonical("dir_unknown_qid", unknown_qid), "error", ["outcomes.parquet", "row 5", "field 'query_id'", "'nope'"]))
    F.append((canonical("dir_score_range", score_range), "error", ["outcomes.parquet", "row 3", "field 'score'"]))
    F.append((canonical("dir_corrupt_queries", corrupt_queries), "error", ["queries.parquet"]))
    F.append((canonical("dir_meta_list", meta="[1, 2]"), "error", ["dataset.json", "JSON object"]))
    F.append((canonical("dir_meta_garbage", meta="{not json"), "error", ["dataset.json", "invalid JSON"]))
    (CORPUS / "empty_dir").mkdir()
    (CORPUS / "empty_dir" / ".keep").write_text("")
    F.append(("empty_dir", "error", ["empty_dir", "no recognised dataset"]))
    F.append(("does_not_exist.csv", "error", ["does_not_exist.csv", "no such file"]))

    for name, expect, needles in F:
        path = f"{{corpus}}/{name}"
        stem = name.replace("/", "_")
        loading_ok = expect == "ok"
        split_error = name in ("split_holdout.csv", "split_partly_empty.csv")
        cases.add(f"api-load:{stem}", ["@load_dataset", path], expect, needles, check="rows" if loading_ok else None)
        cases.add(f"inspect:{stem}", ["data", "inspect", path], expect, needles)
        cases.add(f"convert:{stem}", ["data", "convert", path, "{tmp}/out"], expect, needles,
                  check="rows" if loading_ok else None)
        train_expect = "error" if split_error else expect
        train_needles = ["field 'split'"] if split_error else needles
        if name == "one_model.csv":
            train_expect, train_needles = "error", ["fewer than two models"]
        router = "random" if name.startswith(("pref_", "arena_")) else "best-single"  # random learns from battles
        cases.add(f"train:{stem}", ["train", "--data", path, "--router", router, "--out", "{tmp}/r.routecraft"],
                  train_expect, train_needles)


def artifacts(cases: Cases) -> None:
    """Corrupt and hostile artifacts, through calibrate, evaluate --model and load_router."""
    from routecraft.data import load_dataset
    from routecraft.routers._knn import KNNRouter

    data = load_dataset(str(CORPUS / "bom.csv"))
    good = CORPUS / "good.routecraft"
    KNNRouter(embedder="hashing", k=3).fit(data).save(str(good), metrics={"strong": "strong", "weak": "weak"})
    (CORPUS / "good.routecraft.md").unlink()
    raw = good.read_bytes()
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    A: list[tuple[str, list[str]]] = []

    def write(name, mem, compression=zipfile.ZIP_DEFLATED):
        with zipfile.ZipFile(CORPUS / name, "w", compression=compression) as zf:
            for n, d in mem.items():
                zf.writestr(n, d)
        return name

    def with_manifest(name, edit, extra=None):
        m = json.loads(json.dumps(manifest))
        mem = dict(members)
        for n, d in (extra or {}).items():
            mem[n] = d
            if isinstance(m.get("members"), dict):
                m["members"][n] = hashlib.sha256(d).hexdigest()
        edit(m)
        mem["manifest.json"] = json.dumps(m).encode()
        return write(name, mem)

    def npy(arr):
        b = io.BytesIO()
        np.save(b, arr)
        return b.getvalue()

    (CORPUS / "art_garbage.routecraft").write_bytes(b"\x00garbage" * 64)
    A.append(("art_garbage.routecraft", ["art_garbage.routecraft", "not a routecraft artifact"]))
    (CORPUS / "art_empty.routecraft").write_bytes(b"")
    A.append(("art_empty.routecraft", ["art_empty.routecraft"]))
    (CORPUS / "art_truncated.routecraft").write_bytes(raw[: len(raw) * 2 // 3])
    A.append(("art_truncated.routecraft", ["art_truncated.routecraft"]))
    for k, pos in enumerate((40, len(raw) // 3, len(raw) // 2, len(raw) - 60)):
        flipped = bytearray(raw)
        flipped[pos] ^= 0xFF
        (CORPUS / f"art_flip{k}.routecraft").write_bytes(bytes(flipped))
        A.append((f"art_flip{k}.routecraft", [f"art_flip{k}.routecraft"]))
    A.append((with_manifest("art_members_list.routecraft", lambda m: m.update(members=[])), ["'members' must be dict"]))
    A.append((with_manifest("art_state_list.routecraft", lambda m: m.update(state=[])), ["'state' must be dict"]))
    A.append((with_manifest("art_no_state.routecraft", lambda m: m.pop("state")), ["no 'state' field"]))
    A.append((with_manifest("art_k_negative.routecraft", lambda m: m["params"].update(k=-5)), ["'k' parameter", "Got -5"]))
    A.append((with_manifest("art_k_float.routecraft", lambda m: m["params"].update(k=1.5)), ["'k' parameter", "Got 1.5"]))
    A.append((with_manifest("art_unknown_param.routecraft", lambda m: m["params"].update(evil=1)), ["parameters do not fit"]))
    A.append((with_manifest("art_class.routecraft", lambda m: m.update(router_class="os.system")), ["allow-list"]))
    A.append((with_manifest("art_version.routecraft", lambda m: m.update(format_version=99)), ["format version 99"]))
    A.append((with_manifest("art_wrong_dtype.routecraft", lambda m: None,
                            {"arrays/train_scores.npy": npy(np.zeros((24, 2), dtype=np.int64))}),
              ["array 'train_scores' has dtype <i8"]))
    A.append((with_manifest("art_wrong_shape.routecraft", lambda m: None,
                            {"arrays/prior.npy": npy(np.zeros(5))}), ["array 'prior' has size 5"]))
    A.append((with_manifest("art_pickle.routecraft", lambda m: None,
                            {"arrays/evil.npy": b"\x80\x04\x95" + b"\0" * 20}), ["pickle"]))
    A.append((with_manifest("art_traversal.routecraft", lambda m: None, {"../../evil.json": b"{}"}),
              ["neither an array nor a blob"]))
    mem = dict(members)
    mem["arrays/zeros.npy"] = b"\0" * (40 * 2**20)
    A.append((write("art_bomb.routecraft", mem), ["likely zip bomb"]))
    m = json.loads(json.dumps(manifest))
    m["metrics"] = {"pad": " " * (70 * 2**20)}
    mem = dict(members)
    mem["manifest.json"] = json.dumps(m).encode()
    A.append((write("art_huge_manifest.routecraft", mem), ["manifest.json is", "byte limit"]))
    A.append(("does_not_exist.routecraft", ["does_not_exist.routecraft", "no such artifact"]))
    A.append(("empty_dir", ["empty_dir", "no such artifact"]))

    queries = "{corpus}/bom.csv"
    for name, needles in A:
        path = f"{{corpus}}/{name}"
        cases.add(f"api-artifact:{name}", ["@load_router", path], "error", needles)
        cases.add(f"calibrate:{name}", ["calibrate", "--router", path, "--queries", queries, "--strong-fraction", "0.5",
                                         "--n-boot", "10"], "error", needles)
        cases.add(f"evaluate-model:{name}", ["evaluate", "--data", queries, "--model", path, "--n-boot", "10"],
                  "error", needles)
    cases.add("calibrate:unsigned-with-key", ["calibrate", "--router", "{corpus}/good.routecraft", "--queries", queries,
                                              "--strong-fraction", "0.5", "--n-boot", "10"], "error",
              ["good.routecraft", "not signed"], env={"ROUTECRAFT_SIGNING_KEY": "k"})
    cases.add("calibrate:good", ["calibrate", "--router", "{corpus}/good.routecraft", "--queries", queries,
                                 "--strong-fraction", "0.5", "--n-boot", "10"], "ok")


def arguments(cases: Cases) -> None:
    """Bad command-line arguments: router specs, parameters, numbers, output paths."""
    data = "{corpus}/bom.csv"
    train = ["train", "--data", data, "--out", "{tmp}/r.routecraft"]
    for spec, needles in [
        ("knn:abc", ["'k' parameter of KNNRouter", "'abc'"]),
        ("knn:1.5", ["'k' parameter of KNNRouter", "1.5"]),
        ("knn:0", ["'k' parameter of KNNRouter", "Got 0"]),
        ("knn:", ["nothing after ':'"]),
        ("nosuch", ["unknown router 'nosuch'"]),
        ("always", ["needs a model"]),
        ("always:nosuch", ["'nosuch'", "not in"]),
        ("random:3", ["takes no ':ARG'"]),
        ("oracle", ["cannot be deployed"]),
    ]:
        cases.add(f"train-spec:{spec}", train + ["--router", spec], "error", needles)
    for param, needles in [
        ("k=1.5", ["'k' parameter", "1.5"]),
        ("k=-5", ["'k' parameter", "-5"]),
        ("k=NaN", ["'k' parameter"]),
        ("weighting=cosine", ["'weighting' parameter", "'cosine'"]),
        ("bogus=1", ["bogus"]),
        ("noequals", ["key=value"]),
        ("embedder=nosuch", ["unknown embedder 'nosuch'"]),
    ]:
        cases.add(f"train-param:{param}", train + ["--router", "knn", "--param", param], "error", needles)
    cases.add("train:test-size-0", train + ["--router", "best-single", "--test-size", "0"], "error", ["test_size"])
    cases.add("train:test-size-1.5", train + ["--router", "best-single", "--test-size", "1.5"], "error", ["test_size"])
    cases.add("train:out-under-a-file", ["train", "--data", data, "--router", "best-single",
                                         "--out", "{corpus}/bom.csv/r.routecraft"], "error", ["bom.csv", "cannot write"])
    cases.add("train:out-is-a-directory", ["train", "--data", data, "--router", "best-single",
                                           "--out", "{corpus}/empty_dir"], "error", ["empty_dir", "cannot write"])
    cases.add("train:nul-in-path", ["train", "--data", "{corpus}/bo\x00m.csv", "--router", "best-single",
                                    "--out", "{tmp}/r.routecraft"], "error", ["NUL"])
    cases.add("train:empty-path", ["train", "--data", "", "--router", "best-single", "--out", "{tmp}/r"], "error", ["empty"])
    cases.add("train:bundled-nosuch", ["train", "--data", "bundled:nosuch", "--router", "best-single", "--out", "{tmp}/r"],
              "error", ["unknown bundled dataset 'nosuch'"])
    ev = ["evaluate", "--data", data, "--router", "best-single"]
    cases.add("evaluate:n-boot-0", ev + ["--n-boot", "0"], "error", ["--n-boot"])
    cases.add("evaluate:n-boot-negative", ev + ["--n-boot", "-3"], "error", ["--n-boot"])
    cases.add("evaluate:strong-equals-weak", ev + ["--strong", "weak", "--weak", "weak", "--n-boot", "10"], "error",
              ["--strong and --weak are the same model"])
    cases.add("evaluate:no-router", ["evaluate", "--data", data], "error", ["--router"])
    cases.add("evaluate:unknown-strong", ev + ["--strong", "nosuch", "--weak", "weak", "--n-boot", "10"], "error", ["nosuch"])
    cases.add("evaluate:json-under-a-file", ev + ["--n-boot", "10", "--json", "{corpus}/bom.csv/out.json"], "error",
              ["bom.csv", "cannot write"])
    cases.add("evaluate:ok", ev + ["--router", "random", "--n-boot", "10"], "ok")
    cal = ["calibrate", "--router", "{corpus}/good.routecraft", "--queries", data]
    cases.add("calibrate:fraction-1.5", cal + ["--strong-fraction", "1.5"], "error", ["--strong-fraction"])
    cases.add("calibrate:fraction-0", cal + ["--strong-fraction", "0"], "error", ["--strong-fraction"])
    cases.add("calibrate:n-boot-0", cal + ["--strong-fraction", "0.5", "--n-boot", "0"], "error", ["--n-boot"])
    cases.add("calibrate:strong-equals-weak", cal + ["--strong-fraction", "0.5", "--strong", "weak", "--weak", "weak"],
              "error", ["--strong and --weak are the same model"])
    cases.add("calibrate:unknown-model", cal + ["--strong-fraction", "0.5", "--strong", "gpt-9", "--weak", "weak"],
              "error", ["'gpt-9'", "not in this router's pool"])
    cases.add("convert:into-existing-dataset", ["data", "convert", data, "{corpus}/dir_meta_list"], "error",
              ["dir_meta_list", "already holds a dataset"])
    cases.add("convert:out-is-a-file", ["data", "convert", data, "{corpus}/bom.csv"], "error",
              ["bom.csv", "not a directory"])
    cases.add("convert:keeps-foreign-files", ["data", "convert", data, "{tmp}/withfile"], "ok", check="foreign")
    cases.add("api-load:none", ["@load_dataset", None], "error", ["dataset path"])
    cases.add("api-load:int", ["@load_dataset", 3], "error", ["dataset path"])
    cases.add("routers:list", ["routers"], "ok")


def main() -> None:
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    CORPUS.mkdir()
    cases = Cases()
    data_files(cases)
    artifacts(cases)
    arguments(cases)
    (HERE / "cases.json").write_text(json.dumps(cases.items, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases.items)} cases over {len(list(CORPUS.iterdir()))} corpus entries to {HERE}")


if __name__ == "__main__":
    main()
