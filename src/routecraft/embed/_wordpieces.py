"""Exact WordLlama pooling from cached per-word token sums: tokenise each distinct word once.

WordLlama's tokenizer is a SentencePiece-style BPE with no pre-tokenizer: a text
becomes ``"▁" + text.replace(" ", "▁")`` and BPE runs over the whole string, which
costs ~95% of an encode (about 2,000 MMLU-length texts/s on 2 cores). No merge can
cross the start of a ``"▁word"`` chunk, because the only vocabulary entries with a
``▁`` after their first character are runs of ``▁`` alone. So for a text whose
words are separated by single spaces, its tokens are the concatenation of each
``"▁" + word``'s tokens (a run of spaces goes with the word after it), and the
mean-pooled embedding is

    (Σ_words vecsum(word)) / (Σ_words ntokens(word))

with ``vecsum``/``ntokens`` computed once per distinct word and kept in a bounded
table. Texts where that reasoning does not hold (a trailing space, special-token strings
such as ``<s>``, empty texts) take the tokenizer's own path;
both paths give the same token multiset, so the result equals WordLlama's ``embed``
up to float summation order (~1e-7). Why not a library: wordllama has no such path,
and no tokenizer library exposes word-level memoisation of a whitespace-free BPE.
"""

from __future__ import annotations

import re
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

SPECIAL = ("<s>", "</s>", "<unk>")
MAX_WORDS = 200_000  # distinct words kept (~0.4 GB at 256-d float64); the table restarts past it


FULL, PLAIN, RUNS = 0, 1, 2
_BEFORE_RUN = re.compile(r"(?<=[^ ])(?= )")  # the start of every run of spaces that follows a non-space


def _kind(text: str) -> int:
    """FULL: the tokenizer's own path; PLAIN: single spaces only; RUNS: runs of spaces inside or in front."""
    if not text or text[-1] == " " or ("<" in text and any(s in text for s in SPECIAL)):
        return FULL
    return RUNS if text[0] == " " or "  " in text else PLAIN


def _n_words(text: str) -> int:
    return text.count(" ") + 1


def _pieces(text: str) -> list[str]:
    """Cut before each run of spaces; every piece but the first gives one space to the normaliser's "▁".

    ``"a  b"`` is ``"▁a▁▁b"`` to the model: pieces ``"a"`` → ``"▁a"`` and ``" b"`` → ``"▁▁b"``.
    """
    parts = _BEFORE_RUN.split(text)
    return parts[:1] + [p[1:] for p in parts[1:]]


class WordPieceCache:
    """Per-word token-vector sums and counts for one WordLlama model (thread-compatible, not thread-safe)."""

    def __init__(self, inference: Any) -> None:
        from tokenizers import Tokenizer

        self._matrix = inference.embedding  # (vocab, 256) float32
        # A private unpadded copy: the model's own tokenizer pads, which it needs for its own path.
        self._tok = Tokenizer.from_str(inference.tokenizer.to_str())
        self._tok.no_padding()
        self._tok.no_truncation()
        self._reset()

    def _reset(self) -> None:
        self._index: dict[str, int] = {}
        # float64: a text's sum then does not depend on the order its words entered the table
        # (which differs between processes), so every worker gives bit-identical vectors.
        # Room for the whole table at once: np.zeros maps zero pages lazily, so memory grows only
        # as rows fill, and no doubling copies (they were 15% of embedding a stream of new words).
        self._sums = np.zeros((MAX_WORDS, self._matrix.shape[1]), dtype=np.float64)
        self._counts = np.zeros(MAX_WORDS, dtype=np.float64)

    def _ids_sums(self, chunks: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Σ of token vectors and token counts of each string, tokenised as the model does."""
        enc = self._tok.encode_batch(chunks, add_special_tokens=False)
        lens = np.fromiter((len(e.ids) for e in enc), dtype=np.int64, count=len(enc))
        flat = np.fromiter((i for e in enc for i in e.ids), dtype=np.int64, count=int(lens.sum()))
        np.clip(flat, 0, self._matrix.shape[0] - 1, out=flat)
        rows = np.repeat(np.arange(len(enc)), lens)
        counts = sp.csr_matrix(
            (np.ones(len(flat), dtype=np.float32), (rows, flat)), shape=(len(enc), self._matrix.shape[0])
        )
        return np.asarray(counts @ self._matrix, dtype=np.float32), lens.astype(np.float32)

    def _add_words(self, words: list[str]) -> bool:
        """Add ``words`` to the table; False when it had to restart first (earlier rows are gone)."""
        kept = len(self._index) + len(words) <= MAX_WORDS
        if not kept:
            self._reset()
        start = len(self._index)
        need = start + len(words)
        if need > len(self._counts):  # only a batch with more distinct words than MAX_WORDS
            size = max(need, 2 * len(self._counts))
            self._sums = np.resize(self._sums, (size, self._sums.shape[1]))
            self._counts = np.resize(self._counts, size)
        sums, counts = self._ids_sums(words)  # the normaliser prepends "▁" to each word
        self._sums[start:need] = sums
        self._counts[start:need] = counts
        self._index.update(zip(words, range(start, need)))
        return kept

    def _columns(self, words: list[str]) -> np.ndarray:
        """Table row of every word, adding the words not seen yet."""
        cols = np.fromiter(map(self._index.get, words, repeat(-1)), dtype=np.int64, count=len(words))
        missing = np.flatnonzero(cols < 0).tolist()  # Python ints: zipping a numpy mask was 60% of a batch
        if missing:
            new = list(dict.fromkeys([words[i] for i in missing]))
            if not self._add_words(new):  # the table restarted: every row index changed
                self._add_words(list(dict.fromkeys(words)))
                return np.fromiter(map(self._index.get, words), dtype=np.int64, count=len(words))
            index = self._index
            cols[missing] = [index[words[i]] for i in missing]
        return cols

    def _one(self, text: str) -> np.ndarray:
        """``mean_pool([text])[0]``, summed in float64 like the batch path."""
        kind = _kind(text)
        if kind == FULL:
            ids = np.clip(np.asarray(self._tok.encode(text, add_special_tokens=False).ids, dtype=np.int64),
                          0, self._matrix.shape[0] - 1)
            if len(ids) == 0:
                return np.zeros(self._matrix.shape[1], dtype=np.float32)
            return (self._matrix[ids].sum(axis=0, dtype=np.float32) / len(ids)).astype(np.float32)
        cols = self._columns(_pieces(text) if kind == RUNS else text.split(" "))
        total = np.add.reduce(self._sums[cols], axis=0)  # = .sum(axis=0), without the method's wrapper
        return (total / max(float(np.add.reduce(self._counts[cols])), 1.0)).astype(np.float32)

    def mean_pool(self, texts: list[str]) -> np.ndarray:
        """Mean of token vectors per text, shape (n, 256), as ``WordLlamaInference.embed(norm=False)``."""
        n, dim = len(texts), self._matrix.shape[1]
        if n == 1:  # a server's batch: skip the sparse machinery, whose set-up dominates one text
            return self._one(texts[0])[None, :]
        out = np.zeros((n, dim), dtype=np.float32)
        kinds = np.fromiter(map(_kind, texts), dtype=np.int8, count=n)
        full = np.flatnonzero(kinds == FULL)
        if len(full):
            sums, counts = self._ids_sums([texts[i] for i in full])
            out[full] = sums / np.maximum(counts, 1.0)[:, None]
        plain, runs = np.flatnonzero(kinds == PLAIN), np.flatnonzero(kinds == RUNS)
        if len(plain) + len(runs) == 0:
            return out
        # Plain texts (single spaces only) are cut by one C-level split of the joined batch:
        # text i owns the next count(" ") + 1 words. Texts with runs of spaces are cut by regex.
        chunk = [texts[i] for i in plain]
        words = " ".join(chunk).split(" ") if chunk else []
        lens = [np.fromiter(map(_n_words, chunk), dtype=np.int64, count=len(chunk))]
        for i in runs:
            pieces = _pieces(texts[i])
            words += pieces
            lens.append(np.array([len(pieces)]))
        rows = np.repeat(np.concatenate([plain, runs]), np.concatenate(lens))
        cols = self._columns(words)
        bag = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float64), (rows, cols)), shape=(n, int(cols.max()) + 1)
        )
        sums = bag @ self._sums[: bag.shape[1]]
        counts = bag @ self._counts[: bag.shape[1]]
        done = np.concatenate([plain, runs])
        out[done] = (sums[done] / np.maximum(counts[done], 1.0)[:, None]).astype(np.float32)
        return out
