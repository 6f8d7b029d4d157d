"""Property-based fuzzing of the server from its own OpenAPI schema (schemathesis).

Every operation gets ``MAX_EXAMPLES`` generated requests of each kind — valid ones
(positive) and schema-violating ones (negative) — derandomised, so the run is
deterministic. Each response must conform to the schema (status code, content type, body
shape) and never be a 5xx. Valid chat requests go through routing to the stub upstream.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from routecraft.serve import StubUpstream, create_app, load_config  # noqa: E402

from .conftest import CLIENT_KEY, LiveServer, write_config  # noqa: E402

MAX_EXAMPLES = 25  # per operation and mode: 4 positive + 1 negative operation → at most 125 cases


@pytest.fixture
def live(tmp_path, artifact):
    with StubUpstream() as stub:
        app = create_app(load_config(write_config(tmp_path, artifact, stub.base_url)))
        with LiveServer(app) as server:
            yield app, server


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(live, mode):
    app, server = live
    schema = schemathesis.openapi.from_dict(app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/v1/chat/completions", "/v1/models", "/healthz", "/metrics"}
    if mode == GenerationMode.NEGATIVE:  # only the chat endpoint takes input that can be invalid
        operations = [op for op in operations if op.method.upper() == "POST"]
    counted = []
    for op in operations:

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            counted.append(case)
            case.call_and_validate(base_url=server.url, headers={"authorization": f"Bearer {CLIENT_KEY}"})

        check()
    assert len(counted) >= len(operations)  # the fuzzer did generate cases
    print(f"schemathesis {mode.value}: {len(counted)} cases over {len(operations)} operations")
