"""Prompts for the generator and the pool, and strict parsing of what comes back.

The generator is asked for JSON only. An item is kept only if it is exactly what was
asked for (a non-empty question, the right number of distinct options, an answer
letter among them; or a short answer of at most ``MAX_SHORT_ANSWER`` characters).
Anything else is rejected and counted with its reason: a lenient parser would let a
weak generator's malformed questions into the training data unseen.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass

from ..data._tables import query_id_for
from ..data.adapters.mmlu_pro import LETTERS, question_text
from ._toml import GenerationTask

MAX_SHORT_ANSWER = 100
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.DOTALL)
_LEADING_LETTER = re.compile(r"^\s*(?:the\s+)?(?:answer\s*(?:is)?\s*[:\-]?\s*)?[\(\[]?([A-Za-z])[\)\]]?(?:[\s.:,)]|$)", re.IGNORECASE)
_ANSWER_PREFIX = re.compile(r"^\s*(?:the\s+)?(?:final\s+)?answer\s*(?:is)?\s*[:\-]?\s*", re.IGNORECASE)
_ANSWER_IS = re.compile(r"answer\s*(?:is)?\s*[:\-]?\s*[\(\[]?([A-Z])[\)\]]?(?:[\s.:,)]|$)")


@dataclass(frozen=True)
class Item:
    """A generated question with the generator's own answer (a letter, or a short text)."""

    generator: str
    task: str
    kind: str
    question: str
    options: tuple[str, ...]
    answer: str

    @property
    def text(self) -> str:
        """The query as the pool sees it (MC options lettered as in MMLU-Pro)."""
        return question_text(self.question, list(self.options)) if self.kind == "mc" else self.question

    @property
    def query_id(self) -> str:
        return query_id_for(self.text)


def generator_messages(task: GenerationTask, n: int, batch: int) -> list[dict[str, str]]:
    """Chat messages asking for ``n`` questions; ``batch`` makes each request distinct (and cacheable)."""
    if task.kind == "mc":
        letters = ", ".join(LETTERS[: task.options])
        shape = (
            f'{{"items": [{{"question": "...", "options": [{task.options} strings], "answer": "<one of {letters}>"}}]}}'
        )
        ask = f"{n} challenging, graduate-level multiple-choice questions with exactly {task.options} options each"
    else:
        shape = '{"items": [{"question": "...", "answer": "<a short answer: a number, word or phrase>"}]}'
        ask = f"{n} challenging, graduate-level questions that each have one short, checkable answer"
    system = (
        "You write exam questions to evaluate language models. Reply with JSON only, no prose, "
        f"in exactly this shape: {shape}. Each question must be self-contained, and the answer must be correct."
    )
    user = f"Subject: {task.name}\nDescription: {task.description}\n\nWrite {ask}. This is question set #{batch + 1}; do not repeat earlier sets."
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_generated(text: str, task: GenerationTask, generator: str) -> tuple[list[Item], dict[str, int]]:
    """Items found in a generator reply, and rejected counts by reason (``{"bad_json": 1}``...)."""
    rejected: dict[str, int] = {}

    def reject(reason: str, n: int = 1) -> None:
        rejected[reason] = rejected.get(reason, 0) + n

    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        doc = json.loads(body)
    except ValueError:
        reject("bad_json")
        return [], rejected
    raw = doc.get("items") if isinstance(doc, dict) else doc
    if not isinstance(raw, list):
        reject("no_items_list")
        return [], rejected
    items: list[Item] = []
    for entry in raw:
        item, reason = _parse_item(entry, task, generator)
        if item is None:
            reject(reason)
        else:
            items.append(item)
    return items, rejected


def _parse_item(entry: object, task: GenerationTask, generator: str) -> tuple[Item | None, str]:
    if not isinstance(entry, dict):
        return None, "item_not_object"
    question = entry.get("question")
    answer = entry.get("answer")
    if not isinstance(question, str) or not question.strip():
        return None, "no_question"
    if not isinstance(answer, str) or not answer.strip():
        return None, "no_answer"
    if task.kind == "short":
        if len(answer.strip()) > MAX_SHORT_ANSWER:
            return None, "answer_too_long"
        return Item(generator, task.name, "short", question.strip(), (), answer.strip()), ""
    options = entry.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
        return None, "bad_options"
    options = [o.strip() for o in options]
    if len(options) != task.options or len(set(options)) != len(options):
        return None, "wrong_option_count"
    letter = answer.strip().upper()
    if letter not in LETTERS[: task.options] or len(letter) != 1:
        return None, "answer_not_an_option"
    return Item(generator, task.name, "mc", question.strip(), tuple(options), letter), ""


def answer_messages(item: Item) -> list[dict[str, str]]:
    """What a pool model is asked: the question and a one-token answer format."""
    if item.kind == "mc":
        instruction = "Answer the multiple-choice question. Reply with the letter of the correct option only."
    else:
        instruction = "Answer the question. Reply with the short answer only (a number, word or phrase)."
    return [{"role": "system", "content": instruction}, {"role": "user", "content": item.text}]


def normalise_short(text: str) -> str:
    """Lower-case, strip punctuation, articles and extra spaces: how short answers are compared."""
    t = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(w for w in t.split() if w not in ("a", "an", "the"))


def parse_answer(text: str, item: Item) -> str | None:
    """The pool model's answer in the item's format, or None when it gave no usable one."""
    if item.kind == "short":
        first = text.strip().splitlines()[0] if text.strip() else ""
        return normalise_short(_ANSWER_PREFIX.sub("", first)) or None
    valid = LETTERS[: len(item.options)]
    m = _LEADING_LETTER.match(text)
    if m and m.group(1).upper() in valid:
        return m.group(1).upper()
    m = _ANSWER_IS.search(text)
    if m and m.group(1) in valid:
        return m.group(1)
    return None


def reference_answer(item: Item) -> str:
    """The generator's answer on the scale pool answers are compared on."""
    return item.answer if item.kind == "mc" else normalise_short(item.answer)
