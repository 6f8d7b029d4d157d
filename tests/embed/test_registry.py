from __future__ import annotations

import pytest

from routecraft._errors import RoutecraftError
from routecraft.embed import (
    DEFAULT_EMBEDDER,
    CachedEmbedder,
    HashingEmbedder,
    OpenAIEmbedder,
    TfidfEmbedder,
    WordLlamaEmbedder,
    embedder_names,
    make_embedder,
)


def test_every_builtin_is_registered():
    make_embedder("hashing")  # triggers registration
    assert {"wordllama", "tfidf", "hashing", "minilm", "sentence-transformers", "openai"} <= set(embedder_names())
    assert DEFAULT_EMBEDDER == "wordllama"


@pytest.mark.parametrize(
    ("spec", "cls", "dim"),
    [
        ("wordllama", WordLlamaEmbedder, 256),
        ("wordllama:128", WordLlamaEmbedder, 128),
        ("tfidf", TfidfEmbedder, 256),
        ("tfidf:32", TfidfEmbedder, 32),
        ("hashing", HashingEmbedder, 256),
        ("hashing:64", HashingEmbedder, 64),
    ],
)
def test_specs_build_the_right_embedder(spec, cls, dim):
    emb = make_embedder(spec)
    assert type(emb) is cls and emb.dim == dim
    # the name is itself a spec that rebuilds an equal embedder (artifacts rely on it)
    again = make_embedder(emb.name)
    assert type(again) is cls and again.dim == dim and again.name == emb.name


@pytest.mark.parametrize("spec", ["nope", "word-llama", "tfidf:abc", "tfidf:0", "hashing:-3", "wordllama:100", "minilm:x", "openai:", "sentence-transformers"])
def test_bad_specs_raise_one_clear_error(spec):
    with pytest.raises(RoutecraftError) as info:
        make_embedder(spec)
    assert "\n" not in str(info.value)


def test_unknown_spec_lists_known_names():
    with pytest.raises(RoutecraftError, match="unknown embedder 'nope'.*wordllama"):
        make_embedder("nope")


def test_slow_embedders_are_cached_and_fast_ones_are_not(monkeypatch):
    monkeypatch.delenv("ROUTECRAFT_NO_CACHE", raising=False)
    remote = make_embedder("openai:text-embedding-3-small@http://127.0.0.1:9/v1")
    assert isinstance(remote, CachedEmbedder) and isinstance(remote.inner, OpenAIEmbedder)
    assert remote.name == "openai:text-embedding-3-small@http://127.0.0.1:9/v1"
    assert isinstance(make_embedder("minilm"), CachedEmbedder)
    for spec in ("wordllama", "hashing", "tfidf"):
        assert not isinstance(make_embedder(spec), CachedEmbedder)


def test_no_cache_env_disables_the_cache(monkeypatch):
    monkeypatch.setenv("ROUTECRAFT_NO_CACHE", "1")
    assert isinstance(make_embedder("openai:m"), OpenAIEmbedder)


def test_embedder_instances_pass_through():
    emb = HashingEmbedder(16)
    assert make_embedder(emb) is emb
