"""Hugging Face helpers shared by the embedders and the torch routers."""

from __future__ import annotations

import contextlib
from typing import Iterator

from ._errors import require


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' logs and progress bars ("Loading weights", new-head warnings), then restore them."""
    logging = require("transformers", "ml").utils.logging
    level, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()
