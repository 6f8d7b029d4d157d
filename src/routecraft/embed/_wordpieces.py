"""Exact WordLlama pooling from cached per-word token sums: tokenise each distinct word once.

WordLlama's tokenizer is a SentencePiece-style BPE with no pre-tokenizer: a text
becomes ``"▁" + text.replace(" ", "▁")`` and BPE runs over the whole string, which
costs ~95% of an encode (about 2,000 MMLU-length texts/s on 2 cores). No merge can
cross the start of a ``"▁word"`` chunk, because the only vocabulary entries with a
``▁`` after their first character are runs of ``▁`` alone. So for a text whose
words are separated by single spaces, its tokens are the concatenation of each
``"▁" + word``'s tokens, and the mean-pooled embedding is

    (Σ_words vecsum(word)) / (Σ_words ntokens(word))

with ``vecsum``/``ntokens`` computed once per distinct word and kept in a bounded
table. Texts where that reasoning does not hold (runs of spaces, a leading or trailing space,
special-token strings such as ``<s>``, empty texts) take the tokenizer's own path;
both paths give the same token multiset, so the result equals WordLlama's ``embed``
up to float summation order (~1e-7). Why not a library: wordllama has no such path,
and no tokenizer library exposes word-level memoisation of a whitespace-free BPE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

SPECIAL = ("<s>", "</s>", "<unk>")
MAX_WORDS = 200_000  # distinct words kept (~0.4 GB at 256-d float64); the table restarts past it


def _needs_full_path(text: str) -> bool:
    return not text or text[0] == " " or text[-1] == " " or "  " in text or ("<" in text and any(s in text for s in SPECIAL))


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
        self._sums = np.zeros((1024, self._matrix.shape[1]), dtype=np.float64)
        self._counts = np.zeros(1024, dtype=np.float64)

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

    def _add_words(self, words: list[str]) -> None:
        if len(self._index) + len(words) > MAX_WORDS:
            self._reset()
        start = len(self._index)
        need = start + len(words)
        if need > len(self._counts):
            size = max(need, 2 * len(self._counts))
            self._sums = np.resize(self._sums, (size, self._sums.shape[1]))
            self._counts = np.resize(self._counts, size)
        sums, counts = self._ids_sums(words)  # the normaliser prepends "▁" to each word
        self._sums[start:need] = sums
        self._counts[start:need] = counts
        self._index.update(zip(words, range(start, need)))

    def mean_pool(self, texts: list[str]) -> np.ndarray:
        """Mean of token vectors per text, shape (n, 256), as ``WordLlamaInference.embed(norm=False)``."""
        n, dim = len(texts), self._matrix.shape[1]
        out = np.zeros((n, dim), dtype=np.float32)
        full = [i for i, t in enumerate(texts) if _needs_full_path(t)]
        if full:
            sums, counts = self._ids_sums([texts[i] for i in full])
            out[full] = sums / np.maximum(counts, 1.0)[:, None]
        fast = np.setdiff1d(np.arange(n), full, assume_unique=True) if full else np.arange(n)
        if len(fast) == 0:
            return out
        split = [texts[i].split(" ") for i in fast]
        index = self._index
        new = list({w: None for words in split for w in words if w not in index})
        if new:
            self._add_words(new)
            index = self._index
            if any(w not in index for words in split for w in words):  # the table restarted mid-batch
                self._reset()
                self._add_words(list({w: None for words in split for w in words}))
                index = self._index
        lens = np.fromiter((len(w) for w in split), dtype=np.int64, count=len(split))
        cols = np.fromiter((index[w] for words in split for w in words), dtype=np.int64, count=int(lens.sum()))
        rows = np.repeat(np.arange(len(split)), lens)
        bag = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float64), (rows, cols)), shape=(len(split), len(index))
        )
        sums = bag @ self._sums[: len(index)]
        counts = bag @ self._counts[: len(index)]
        out[fast] = (sums / np.maximum(counts, 1.0)[:, None]).astype(np.float32)
        return out
