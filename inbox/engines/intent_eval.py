"""Precision and recall of ``inbox.engines.intent`` on a labelled set (``manage.py intent_report``).

The labelled set is split once, by a fixed rule, into a development part (two thirds: the lexicon
and rules were tuned by looking at its mistakes) and a held-out part (every third message: only
measured, never used to tune). Both figures are reported; the held-out one is the honest one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from inbox.engines.intent import INTENTS, classify

LABELLED = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "intent" / "labelled.jsonl"


@dataclass(frozen=True, slots=True)
class Example:
    id: int
    text: str
    label: str
    lang: str = ""
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class ClassFigures:
    intent: str
    support: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    total: int
    correct: int
    classes: tuple[ClassFigures, ...]
    mistakes: tuple[tuple[Example, str], ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load(path: Path = LABELLED) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                data = json.loads(line)
                examples.append(
                    Example(
                        id=int(data["id"]),
                        text=data["text"],
                        label=data["label"],
                        lang=data.get("lang", ""),
                        rating=data.get("rating"),
                    )
                )
    return examples


def is_held_out(example: Example) -> bool:
    return example.id % 3 == 0


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    dev: list[Example] = []
    held_out: list[Example] = []
    for example in examples:
        (held_out if is_held_out(example) else dev).append(example)
    return dev, held_out


def evaluate(name: str, examples: Iterable[Example]) -> Report:
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    mistakes = []
    total = 0
    for example in examples:
        total += 1
        guess = classify(example.text, rating=example.rating).intent
        support[example.label] += 1
        predicted[guess] += 1
        if guess == example.label:
            correct[guess] += 1
        else:
            mistakes.append((example, guess))
    classes = tuple(
        ClassFigures(intent, support[intent], predicted[intent], correct[intent])
        for intent in INTENTS
    )
    return Report(name, total, sum(correct.values()), classes, tuple(mistakes))
