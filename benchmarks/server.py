"""Loopback load test of ``routecraft serve`` beside RouteLLM's server and the LiteLLM proxy.

All four targets run as separate processes on 127.0.0.1 against the same stub upstream
(``routecraft.serve._stub``, fixed latency), in the same run, interleaved in rounds:

- ``stub``: the upstream called directly (the floor);
- ``routecraft``: ``routecraft serve`` with an SW router on WordLlama embeddings (the
  default embedder), API keys and the SQLite routing log on;
- ``routecraft-pass``: the same server, ``model`` a plain pool model name (no routing), one
  client only: what the proxy itself adds, so the routing's share of the latency is visible;
- ``routellm``: RouteLLM 0.2.0's own server (``_routellm_server.py``, its venv), its SW
  router on the same battles, WordLlama embedding each request locally;
- ``litellm``: the LiteLLM proxy (``litellm[proxy]==1.106.2``), one model, no routing.

The load generator is ``wrk`` (C, one thread) with a Lua script that cycles through real
MMLU prompts, stops after ``--max-requests`` per run, and prints latency percentiles.
Measured: latency one client at a time (added latency = target − stub, p50 and p99);
requests/s at 50 and 200 concurrent connections; then the routecraft server's RSS over a
soak at 50 connections (``--soak-s``, default 5 minutes). Ratios are per round (the
targets of one round run back to back), reported as the median and range over rounds.

    python benchmarks/server.py                # full size (about 15 min on 2 idle cores)
    python benchmarks/server.py --quick        # smaller, for a smoke run

Writes ``benchmarks/results/server.{json,md}``; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import machine_load, write_results  # noqa: E402

ONE_CLIENT_ONLY = {"routecraft-pass"}  # targets measured one client at a time only (latency, not throughput)
KEY = "sk-" + "5f3c9a1e7b2d4068" * 4  # one client key for every target (LiteLLM refuses weak master keys)
LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("RC_BODIES")) do bodies[#bodies + 1] = line end
local max_requests = tonumber(os.getenv("RC_MAX") or "0")
local i, count = 0, 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("RC_KEY")
request = function()
  i = (i % #bodies) + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
response = function(status, headers, body)
  count = count + 1
  if max_requests > 0 and count >= max_requests then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def log(msg: str) -> None:
    print(f"[server-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float, post: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if post is None:
                r = httpx.get(url, timeout=5)
            else:
                r = httpx.post(url, json=post, headers={"authorization": f"Bearer {KEY}"}, timeout=30)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


class Procs:
    """Child processes, each in its own process group, all stopped on exit."""

    def __init__(self, logdir: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        self.logdir = logdir

    def start(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        out = open(self.logdir / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                start_new_session=True, cwd=str(ROOT))
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024.0


def run_wrk(url: str, bodies: Path, conns: int, seconds: float, max_requests: int, lua: Path) -> dict:
    env = {**os.environ, "RC_BODIES": str(bodies), "RC_MAX": str(max_requests), "RC_KEY": KEY}
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(lua), url]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(line[len("RESULT "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = sum(r[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"))
    return r


def prepare(args, work: Path) -> dict:
    """Train routecraft's SW on a battle sample, write the same battles for RouteLLM, pick prompts and threshold."""
    from routecraft.data import load_dataset, split_dataset
    from routecraft.data._augment import dataset_preferences
    from routecraft.embed import make_embedder
    from routecraft.evaluate import default_pair
    from routecraft.routers import SWRankingRouter

    data = load_dataset(f"bundled:{args.data}")
    train, test, _ = split_dataset(data, test_size=0.3, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    ids = list(train.query_ids)
    keep = rng.choice(len(ids), size=min(args.max_battles, len(ids)), replace=False)
    train = train.subset([ids[i] for i in sorted(keep)])
    strong, weak = default_pair(train)
    router = SWRankingRouter(embedder="wordllama", use_tiers=True).fit(train)
    artifact = work / "sw.routecraft"
    router.save(str(artifact), metrics={"strong": strong, "weak": weak})
    prompts = test.texts[: args.n_prompts]
    threshold = float(np.median(router.pair_score(prompts, strong, weak)))

    # RouteLLM's battle format, the same battles in the same order as routecraft's SW saw them
    prefs = dataset_preferences(train)
    text = train.queries.set_index("query_id")["query"]
    prefs = prefs[text.loc[prefs["query_id"]].str.strip().str.len().to_numpy() >= 16].reset_index(drop=True)
    battle_prompts = text.loc[prefs["query_id"]].tolist()
    winner = prefs["winner"].map({"a": "model_a", "b": "model_b"}).fillna("tie")
    rl = work / "routellm"
    (rl / "battles").mkdir(parents=True)
    (rl / "embeddings").mkdir()
    pd.DataFrame({
        "prompt": [json.dumps([p]) for p in battle_prompts], "model_a": prefs["model_a"], "model_b": prefs["model_b"],
        "winner_model_a": (winner == "model_a").astype(int), "winner_model_b": (winner == "model_b").astype(int),
    }).to_parquet(rl / "battles" / "train.parquet", index=False)
    emb = make_embedder("wordllama").encode(battle_prompts).astype(np.float64)
    pd.DataFrame({"embeddings": list(emb)}).to_parquet(rl / "embeddings" / "train.parquet", index=False)
    return {"artifact": artifact, "routellm_data": rl, "prompts": prompts, "threshold": threshold,
            "strong": strong, "weak": weak, "n_battles": len(prefs), "n_train_queries": len(train)}


def server_toml(prep: dict, stub_url: str, work: Path) -> Path:
    path = work / "server.toml"
    path.write_text(f"""[server]
api_keys_env = "RC_BENCH_KEYS"
log = "{work / 'routing.db'}"

[[models]]
name = "{prep['strong']}"
base_url = "{stub_url}"
upstream_model = "ok-strong"

[[models]]
name = "{prep['weak']}"
base_url = "{stub_url}"
upstream_model = "ok-weak"

[[routers]]
name = "sw"
path = "{prep['artifact']}"
""")
    return path


def litellm_yaml(stub_url: str, work: Path) -> Path:
    path = work / "litellm.yaml"
    path.write_text(f"""model_list:
  - model_name: stub
    litellm_params:
      model: openai/ok-weak
      api_base: {stub_url}
      api_key: sk-stub
litellm_settings:
  telemetry: false
""")
    return path


def bodies_file(work: Path, name: str, model: str, prompts: list[str]) -> Path:
    path = work / f"bodies-{name}.jsonl"
    path.write_text("".join(json.dumps({"model": model, "messages": [{"role": "user", "content": p}],
                                        "max_tokens": 16}) + "\n" for p in prompts))
    return path


def summarise(values: list[float | None]) -> dict:
    """Median and range over rounds; a round whose baseline served nothing counts as +inf."""
    finite = [v if v is not None else float("inf") for v in values]
    return {"median": statistics.median(finite), "min": min(finite), "max": max(finite), "per_round": values}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5 s runs, 2 rounds, 60 s soak")
    p.add_argument("--seconds", type=float, default=15.0, help="duration of each wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-requests", type=int, default=20_000, help="cap per wrk run (bounded in count and time)")
    p.add_argument("--soak-s", type=float, default=300.0)
    p.add_argument("--latency-ms", type=float, default=20.0, help="the stub's fixed latency")
    p.add_argument("--data", default="routellm-mmlu")
    p.add_argument("--max-battles", type=int, default=2000)
    p.add_argument("--n-prompts", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--routellm-python", default="/work/bench-venv/bin/python")
    p.add_argument("--litellm", default="/work/litellm-venv/bin/litellm")
    p.add_argument("--targets", default="stub,routecraft,routecraft-pass,routellm,litellm")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.soak_s = 5.0, 2, 60.0
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    targets = args.targets.split(",")
    started = time.time()
    load_before = machine_load()
    work = Path(tempfile.mkdtemp(prefix="rc-server-bench-"))
    (work / "logs").mkdir()
    lua = work / "bench.lua"
    lua.write_text(LUA)
    procs = Procs(work / "logs")
    report: dict = {"args": vars(args), "machine_before": load_before, "python": platform.python_version()}
    try:
        log("training the SW router and writing RouteLLM's battles")
        prep = prepare(args, work)
        report["setup"] = {k: prep[k] for k in ("threshold", "strong", "weak", "n_battles", "n_train_queries")}
        report["setup"]["n_prompts"] = len(prep["prompts"])
        report["setup"]["median_prompt_chars"] = float(np.median([len(t) for t in prep["prompts"]]))

        stub_port = free_port()
        stub = procs.start("stub", [sys.executable, "-m", "routecraft.serve._stub", "--port", str(stub_port),
                                    "--latency-ms", str(args.latency_ms)], {"PYTHONPATH": str(ROOT / "src")})
        stub_url = f"http://127.0.0.1:{stub_port}/v1"
        wait_ready(f"{stub_url}/models", stub, 30)
        urls, models, pids = {"stub": f"{stub_url}/chat/completions"}, {"stub": "ok-weak"}, {"stub": stub.pid}
        t = f"{prep['threshold']:.5f}"
        if "routecraft" in targets:
            port = free_port()
            proc = procs.start("routecraft", [sys.executable, "-m", "routecraft.cli", "serve", "--config",
                                              str(server_toml(prep, stub_url, work)), "--port", str(port)],
                               {"PYTHONPATH": str(ROOT / "src"), "RC_BENCH_KEYS": KEY})
            urls["routecraft"], models["routecraft"], pids["routecraft"] = (
                f"http://127.0.0.1:{port}/v1/chat/completions", f"router-sw-{t}", proc.pid)
            if "routecraft-pass" in targets:  # the same process; a pool model name skips routing
                urls["routecraft-pass"], models["routecraft-pass"], pids["routecraft-pass"] = (
                    urls["routecraft"], prep["weak"], proc.pid)
        if "routellm" in targets:
            port = free_port()
            proc = procs.start("routellm", [args.routellm_python, str(ROOT / "benchmarks" / "_routellm_server.py"),
                                            "--port", str(port), "--data", str(prep["routellm_data"]),
                                            "--strong", "ok-strong", "--weak", "ok-weak", "--base-url", stub_url,
                                            "--battle-strong", prep["strong"], "--battle-weak", prep["weak"]])
            urls["routellm"], models["routellm"], pids["routellm"] = (
                f"http://127.0.0.1:{port}/v1/chat/completions", f"router-sw_ranking-{t}", proc.pid)
        if "litellm" in targets:
            port = free_port()
            proc = procs.start("litellm", [args.litellm, "--config", str(litellm_yaml(stub_url, work)), "--host",
                                           "127.0.0.1", "--port", str(port), "--num_workers", "1"],
                               {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
                                "LITELLM_MASTER_KEY": KEY})
            urls["litellm"], models["litellm"], pids["litellm"] = (
                f"http://127.0.0.1:{port}/v1/chat/completions", "stub", proc.pid)
        bodies = {name: bodies_file(work, name, models[name], prep["prompts"]) for name in urls}
        for name in urls:
            probe = {"model": models[name], "messages": [{"role": "user", "content": prep["prompts"][0]}]}
            wait_ready(urls[name], procs.procs[[p.pid for p in procs.procs].index(pids[name])], 180, post=probe)
            log(f"{name} ready")
            run_wrk(urls[name], bodies[name], 10, 3, 500, lua)  # warm-up

        runs: dict = {name: {"c1": [], "c50": [], "c200": []} for name in urls}
        for rnd in range(args.rounds):
            for conns in (1, 50, 200):
                for name in urls:
                    if conns > 1 and name in ONE_CLIENT_ONLY:
                        continue
                    cpu0 = cpu_s(pids[name])
                    r = run_wrk(urls[name], bodies[name], conns, args.seconds, args.max_requests, lua)
                    # CPU the target itself spent per request: unlike latency, it does not grow with
                    # the machine's load (the stub's own CPU is in the stub's row)
                    r["cpu_ms_per_request"] = (cpu_s(pids[name]) - cpu0) * 1000 / max(r["requests"], 1)
                    runs[name][f"c{conns}"].append(r)
                    log(f"round {rnd + 1} c={conns} {name}: {r['rps']:.0f} req/s p50 {r['p50_us'] / 1000:.2f} ms "
                        f"p99 {r['p99_us'] / 1000:.2f} ms cpu {r['cpu_ms_per_request']:.2f} ms/req errors {r['errors']}")
        report["runs"] = runs
        results: dict = {}
        for name in urls:
            c1 = runs[name]["c1"]
            results[name] = {
                "c1_p50_ms": summarise([r["p50_us"] / 1000 for r in c1]),
                "c1_p99_ms": summarise([r["p99_us"] / 1000 for r in c1]),
                "cpu_ms_per_request_c1": summarise([r["cpu_ms_per_request"] for r in c1]),
                "errors": sum(r["errors"] for m in runs[name].values() for r in m),
                "requests": sum(r["requests"] for m in runs[name].values() for r in m),
            }
            if name not in ONE_CLIENT_ONLY:
                results[name]["rps_c50"] = summarise([r["rps"] for r in runs[name]["c50"]])
                results[name]["rps_c200"] = summarise([r["rps"] for r in runs[name]["c200"]])
                results[name]["cpu_ms_per_request_c50"] = summarise([r["cpu_ms_per_request"] for r in runs[name]["c50"]])
            if name != "stub":
                stub_c1 = runs["stub"]["c1"]
                results[name]["added_p50_ms"] = summarise([(a["p50_us"] - b["p50_us"]) / 1000 for a, b in zip(c1, stub_c1)])
                results[name]["added_p99_ms"] = summarise([(a["p99_us"] - b["p99_us"]) / 1000 for a, b in zip(c1, stub_c1)])
        ratios = {}
        if "routecraft" in urls:
            for other in ("routellm", "litellm"):
                if other in urls:
                    for c in ("c50", "c200"):
                        ratios[f"routecraft_over_{other}_{c}"] = summarise(
                            [a["rps"] / b["rps"] if b["rps"] else None for a, b in zip(runs["routecraft"][c], runs[other][c])])
        report["results"], report["ratios"] = results, ratios

        if "routecraft" in urls and args.soak_s > 0:
            log(f"soak: routecraft at 50 connections for {args.soak_s:.0f} s")
            pid = pids["routecraft"]
            samples = []
            env = {**os.environ, "RC_BODIES": str(bodies["routecraft"]), "RC_MAX": "0", "RC_KEY": KEY}
            load = subprocess.Popen(["wrk", "-t1", "-c50", f"-d{args.soak_s:g}s", "--timeout", "30s", "-s", str(lua),
                                     urls["routecraft"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env)
            t0 = time.monotonic()
            while load.poll() is None:
                samples.append({"t_s": round(time.monotonic() - t0, 1), "rss_mb": rss_mb(pid)})
                time.sleep(max(1.0, args.soak_s / 60))
            out = load.communicate()[0]
            line = next((l for l in out.splitlines() if l.startswith("RESULT ")), "RESULT {}")
            soak = json.loads(line[len("RESULT "):])
            warm = [s["rss_mb"] for s in samples if s["t_s"] >= 0.1 * args.soak_s] or [samples[-1]["rss_mb"]]
            report["soak"] = {
                "seconds": args.soak_s, "wrk": soak, "samples": samples,
                "rss_after_warmup_mb": warm[0], "rss_end_mb": warm[-1], "rss_max_mb": max(warm), "rss_min_mb": min(warm),
                "change_after_warmup": warm[-1] / warm[0] - 1.0,
                "max_deviation_from_warmup": max(abs(x / warm[0] - 1.0) for x in warm),
            }
            log(f"soak: RSS {warm[0]:.1f} → {warm[-1]:.1f} MB ({report['soak']['change_after_warmup']:+.1%})")
        if "routecraft" in urls:
            from routecraft.serve import summarise_log

            time.sleep(1.5)
            s = summarise_log(work / "routing.db")
            report["routing_log"] = {"requests": s["requests"], "errors": s["errors"],
                                     "models": {m["model"]: m["requests"] for m in s["models"]}}
    finally:
        procs.stop()
    path = write_results(args.out, "server", report, markdown, started)
    log(f"wrote {path} and server.md ({report['wall_s']:.0f} s)")
    shutil.rmtree(work, ignore_errors=True)
    return report


def markdown(r: dict) -> str:
    a, res = r["args"], r["results"]

    def rng(s: dict | None, fmt: str = "{:.2f}") -> str:
        if s is None:
            return "—"
        return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"

    lines = [
        "# Server load test (loopback)",
        "",
        f"Generated by `benchmarks/server.py` ({'--quick' if a['quick'] else 'full size'}): stub latency "
        f"{a['latency_ms']:g} ms, {a['rounds']} rounds of {a['seconds']:g} s wrk runs (≤ {a['max_requests']} requests each), "
        f"SW router on {r['setup']['n_battles']} {a['data']} battles, WordLlama embeddings, "
        f"{r['setup']['n_prompts']} test prompts (median {r['setup']['median_prompt_chars']:.0f} chars), threshold "
        f"{r['setup']['threshold']:.5f}. Medians over rounds, (min–max) in brackets.",
        "",
        f"Machine: {r['machine_before']['cpus']} CPUs, shared; load average before {r['machine_before']['loadavg_1_5_15']}, "
        f"after {r['machine_after']['loadavg_1_5_15']}. Absolute numbers are noisy; the ratios come from back-to-back runs. "
        "Under heavy load the added latency is mostly scheduling delay of the extra hop (every target's process "
        "waits for a core twice per request); CPU ms per request is what the target itself spends and does not "
        "grow with the load in the same way.",
        "",
        "| target | p50 1 client (ms) | p99 1 client (ms) | added p50 (ms) | added p99 (ms) | req/s at 50 | req/s at 200 | "
        "CPU ms/request (1 client) | CPU ms/request (50) | errors / requests |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, x in res.items():
        lines.append(
            f"| {name} | {rng(x['c1_p50_ms'])} | {rng(x['c1_p99_ms'])} | "
            f"{rng(x.get('added_p50_ms'))} | {rng(x.get('added_p99_ms'))} | "
            f"{rng(x.get('rps_c50'), '{:.0f}')} | {rng(x.get('rps_c200'), '{:.0f}')} | {rng(x['cpu_ms_per_request_c1'])} | "
            f"{rng(x.get('cpu_ms_per_request_c50'))} | {x['errors']} / {x['requests']} |")
    if "routecraft-pass" in res:
        lines += ["", "routecraft-pass is the routecraft server with `model` a pool model name (no routing), one client "
                      "only: the proxy's own share of routecraft's added latency; the rest is routing (WordLlama + SW)."]
    if r.get("ratios"):
        lines += ["", "| throughput ratio | median (min–max over rounds) |", "|---|---|"]
        lines += [f"| {k.replace('_', ' ')} | {rng(v)} |" for k, v in r["ratios"].items()]
    if "soak" in r:
        s = r["soak"]
        lines += ["", f"Soak ({s['seconds']:g} s at 50 connections, {s['wrk'].get('requests', '?')} requests, "
                      f"{s['wrk'].get('status_errors', '?')} non-2xx): routecraft RSS {s['rss_after_warmup_mb']:.1f} MB after "
                      f"warm-up → {s['rss_end_mb']:.1f} MB at the end ({s['change_after_warmup']:+.1%}; max deviation "
                      f"{s['max_deviation_from_warmup']:.1%})."]
    if "routing_log" in r:
        lines += ["", f"routecraft's routing log recorded {r['routing_log']['requests']} requests, "
                      f"{r['routing_log']['errors']} errors, model mix {r['routing_log']['models']}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
