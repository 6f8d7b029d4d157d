"""The n-gram features shared by the TF-IDF and hashing embedders.

Word 1–2 grams carry topic; character 3–5 grams (within word boundaries) make short,
misspelt or morphologically varied queries still overlap.
"""

from __future__ import annotations

from typing import Any

WORD_NGRAMS: dict[str, Any] = {"analyzer": "word", "ngram_range": (1, 2), "lowercase": True}
CHAR_NGRAMS: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (3, 5), "lowercase": True}
