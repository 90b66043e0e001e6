"""Intent of a customer message: complaint, question, compliment or other (Dutch and English).

A transparent method on purpose: a lead must be able to see *why* a ticket was called a
complaint and correct it. So no trained model, but a lexicon and a handful of rules, each of which
leaves an :class:`Evidence` row ("'teleurgesteld' → complaint +2", "question mark → question
+1.5"). The scores are summed per class and a short decision list picks the label:

1. a clear complaint (score >= 1.5 and not outweighed by praise) wins, also over a question:
   "Waar blijft mijn pakket?! Al 5 dagen" asks something, but the customer is unhappy;
2. then praise, unless the message is more of a question;
3. then a question;
4. anything weaker is "other" (tags of friends, spam, "ok", statements).

Rules besides the lexicon:

- negation: a negator up to three words before a positive term turns it into a complaint term
  ("niet blij", "not happy"); before a negative term it becomes mild praise ("geen klachten",
  "not bad");
- intensifiers ("heel", "echt", "super", "very", "really", ...) right before a term raise it by
  half; a word in capitals ("NIET", "AGAIN") adds to a complaint;
- sarcasm: a sarcasm marker ("🙄", "🙃", "thanks for nothing") turns the praise in the same message
  into complaint points;
- question marks and question openings ("kan ik", "how do I", "is het mogelijk") count towards
  a question; "waar blijft", "still no", "why is it" count towards a complaint;
- a review's star rating: 1–2 stars count as a complaint, 4–5 as praise.

The figures on the labelled set are in docs/intent.md (``manage.py intent_report``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from inbox.engines.intent_lexicon import (
    CHATTER,
    COMPLAINT,
    COMPLIMENT,
    EMOJI,
    INTENSIFIERS,
    INTENTS,
    NEGATIVE,
    NEGATORS,
    OTHER,
    POSITIVE,
    QUESTION,
    QUESTION_OPENINGS,
    REQUEST_PHRASES,
    SARCASM,
    SPAM,
    THRESHOLD,
)

_TOKEN = re.compile(r"[\w']+|[?!.,;:]", re.UNICODE)
# Punctuation is kept as tokens so phrases and negation never reach across a sentence.
_BOUNDARY = frozenset("?!.,;:")


@dataclass(frozen=True, slots=True)
class Evidence:
    rule: str  # lexicon, emoji, negation, intensifier, capitals, sarcasm, question, rating, spam
    match: str
    intent: str
    points: float

    def __str__(self) -> str:
        return f"{self.rule}: '{self.match}' → {self.intent} {self.points:+g}"


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: str
    scores: dict[str, float]
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """JSON-safe form, for storing beside a ticket or rendering an explanation."""
        return {
            "intent": self.intent,
            "scores": self.scores,
            "evidence": [
                {"rule": e.rule, "match": e.match, "intent": e.intent, "points": e.points}
                for e in self.evidence
            ],
        }


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return text.lower()


def _compile(lexicon: dict[str, float]) -> list[tuple[tuple[str, ...], bool, float, str]]:
    entries = []
    for term, weight in lexicon.items():
        prefix = term.endswith("*")
        words = tuple(term.rstrip("*").split())
        entries.append((words, prefix, weight, term.rstrip("*")))
    # Longest phrases first, so "nog steeds niet" is seen before "niet".
    entries.sort(key=lambda e: -len(e[0]))
    return entries


class _Lexicon:
    """Lexicon entries indexed by their first word, so a message costs a dictionary lookup per
    token instead of a scan of every entry. Single-word stems ("teleurgesteld*") are few and
    checked against each token."""

    def __init__(self, entries) -> None:
        self.by_first_word: dict[str, list] = {}
        self.stems: list = []
        for order, entry in enumerate(entries):
            words, prefix = entry[0], entry[1]
            if prefix and len(words) == 1:
                self.stems.append((order, words[0], entry))
            else:
                self.by_first_word.setdefault(words[0], []).append((order, entry))
        # One C-level test per token first: most tokens start with none of the stems.
        self.stem_prefixes = tuple(stem for _order, stem, _entry in self.stems)


_CHATTER = [(p, w, re.compile(rf"\b{re.escape(p)}\b")) for p, w in CHATTER.items()]
_REQUESTS = [(p, w, re.compile(rf"\b{re.escape(p)}\b")) for p, w in REQUEST_PHRASES.items()]
_SPAM = [(s, re.compile(rf"(?<!\w){re.escape(s)}(?!\w)")) for s in SPAM]
_NEGATIVE = _Lexicon(_compile(NEGATIVE))
_EMOJI = list(EMOJI.items())
_EMOJI_START = (
    re.compile("[" + "".join(sorted({re.escape(e[0]) for e in EMOJI})) + "]") if EMOJI else None
)
# Emoji by their first character, with their place in the lexicon (evidence keeps that order).
_EMOJI_BY_START: dict[str, list[tuple[int, str, tuple[str, float]]]] = {}
for _n, (_emoji, _value) in enumerate(_EMOJI):
    _EMOJI_BY_START.setdefault(_emoji[0], []).append((_n, _emoji, _value))


def _any_of(phrases) -> re.Pattern | None:
    """One scan that finds whether any phrase occurs as a substring: most messages hold none,
    and then the per-phrase loops below are skipped. Never a false "none"."""
    phrases = list(phrases)  # an empty phrase makes an empty alternative: it always matches
    return re.compile("|".join(re.escape(p) for p in phrases)) if phrases else None


_CHATTER_ANY = _any_of(CHATTER)
_REQUESTS_ANY = _any_of(REQUEST_PHRASES)
_SPAM_ANY = _any_of(SPAM)
_SARCASM_ANY = _any_of(SARCASM)
_SHOUTING = re.compile(r"\b[A-Z]{3,}\b")
_POSITIVE = _Lexicon(_compile(POSITIVE))


def _find(tokens: list[str], lexicon: _Lexicon) -> list[tuple[int, int, float, str]]:
    """(start, end, weight, term) of each lexicon match; a word is used by one match at most.

    Matches are taken in lexicon order (longest phrases first), then by position, exactly as a
    scan of every entry over the message would take them.
    """
    candidates = []
    for i, token in enumerate(tokens):
        for order, entry in lexicon.by_first_word.get(token, ()):
            words, prefix = entry[0], entry[1]
            n = len(words)
            window = tokens[i : i + n]
            if len(window) < n or window[1:-1] != list(words[1:-1]):
                continue
            if n > 1:
                last = window[-1]
                if not (last.startswith(words[-1]) if prefix else last == words[-1]):
                    continue
            candidates.append((order, i, entry))
        if token.startswith(lexicon.stem_prefixes):
            for order, stem, entry in lexicon.stems:
                if token.startswith(stem):
                    candidates.append((order, i, entry))
    candidates.sort(key=lambda c: (c[0], c[1]))
    used: set[int] = set()
    found = []
    for _order, i, (words, _prefix, weight, term) in candidates:
        span = range(i, i + len(words))
        if used.isdisjoint(span):
            used.update(span)
            found.append((i, i + len(words), weight, term))
    return found


def classify(text: str, *, rating: int | None = None) -> IntentResult:
    """Classify one customer message. ``rating`` is a review's stars (1–5), when there are any."""
    scores, evidence = _classify(text, rating, explain=True)
    return IntentResult(
        _decide(scores), {k: round(v, 2) for k, v in scores.items()}, tuple(evidence)
    )


def intent_of(text: str, *, rating: int | None = None) -> str:
    """Only the label of :func:`classify` (the same one): for ingest, which classifies hundreds
    of messages a batch and keeps no evidence (it is recomputed when someone asks why)."""
    return _decide(_classify(text, rating, explain=False)[0])


class _Scoring:
    """One text being scored: its forms, the points per intent so far and, with ``explain``,
    the evidence for them."""

    __slots__ = ("raw", "lowered", "tokens", "scores", "evidence", "explain")

    def __init__(self, text: str, explain: bool) -> None:
        self.raw = unicodedata.normalize("NFKC", text or "")
        self.lowered = _normalise(self.raw)
        self.tokens: list[str] = _TOKEN.findall(self.lowered)
        self.scores = dict.fromkeys(INTENTS, 0.0)
        self.evidence: list[Evidence] = []
        self.explain = explain

    def add(self, rule: str, match: str, intent: str, points: float) -> None:
        self.scores[intent] += points
        if self.explain:
            self.evidence.append(Evidence(rule, match, intent, round(points, 2)))

    def modifiers(self, start: int) -> tuple[bool, bool]:
        """Whether the term at ``start`` is negated, and whether it is intensified, by the
        words just before it (within its clause)."""
        tokens = self.tokens
        before: list[str] = []
        for t in reversed(tokens[max(0, start - 3) : start]):
            if t in _BOUNDARY:
                break
            before.append(t)
        negated = any(t in NEGATORS or t.endswith("n't") for t in before)
        intensified = start > 0 and tokens[start - 1] in INTENSIFIERS
        return negated, intensified


def _lexicon_score(s: _Scoring) -> None:
    """Positive and negative words, turned by a negator and strengthened by an intensifier."""
    tokens = s.tokens
    for start, end, weight, term in _find(tokens, _POSITIVE):
        negated, intensified = s.modifiers(start)
        points = weight * (1.5 if intensified else 1)
        if negated:
            s.add("negation", " ".join(tokens[max(0, start - 3) : end]), COMPLAINT, points)
        else:
            match = f"{tokens[start - 1]} {term}" if intensified else term
            s.add("intensifier" if intensified else "lexicon", match, COMPLIMENT, points)
    for start, end, weight, term in _find(tokens, _NEGATIVE):
        negated, intensified = s.modifiers(start)
        # "nog steeds niet", "geen antwoord": the negator is part of the phrase itself.
        if negated and not any(w in NEGATORS for w in term.split()):
            s.add("negation", " ".join(tokens[max(0, start - 3) : end]), COMPLIMENT, weight / 2)
        else:
            points = weight * (1.5 if intensified else 1)
            match = f"{tokens[start - 1]} {term}" if intensified else term
            s.add("intensifier" if intensified else "lexicon", match, COMPLAINT, points)


def _tone_score(s: _Scoring) -> None:
    """Emoji, shouting in capitals and sarcasm."""
    raw, lowered = s.raw, s.lowered
    # Only the emoji whose first character occurs (one regex scan), in lexicon order.
    starts = set(_EMOJI_START.findall(raw)) if _EMOJI_START else ()
    present = sorted(e for start in starts for e in _EMOJI_BY_START[start])
    for _n, emoji, (intent, points) in present:
        count = raw.count(emoji)
        if count:
            s.add("emoji", emoji, intent, points * min(count, 2))

    shouting = [w for w in _SHOUTING.findall(raw) if w not in {"APP", "USA", "OK"}]
    if shouting and s.scores[COMPLAINT] > 0:
        s.add("capitals", " ".join(shouting[:3]), COMPLAINT, 1)

    sarcasm = (
        next((m for m in SARCASM if m in lowered), None)
        if _SARCASM_ANY and _SARCASM_ANY.search(lowered)
        else None
    )
    if sarcasm and s.scores[COMPLIMENT] > 0:
        moved = s.scores[COMPLIMENT]
        s.add("sarcasm", sarcasm, COMPLIMENT, -moved)
        s.add("sarcasm", sarcasm, COMPLAINT, moved)
    elif sarcasm:
        s.add("sarcasm", sarcasm, COMPLAINT, 1.5)


def _question_score(s: _Scoring) -> None:
    """Question marks, question openings, requests, and chatter that needs no answer."""
    raw, tokens = s.raw, s.tokens
    if "?" in raw:
        s.add("question", "?", QUESTION, 1.5)
        if "?!" in raw or "??" in raw or "!?" in raw:
            s.add("question", "?! / ??", COMPLAINT, 1)
    if tokens and tokens[0] in QUESTION_OPENINGS:
        s.add("question", f"opens with '{tokens[0]}'", QUESTION, 1)
    joined = " ".join(t for t in tokens if t not in _BOUNDARY)
    # A plain substring test first: most phrases are absent, and it is far cheaper than a regex.
    for phrase, points, pattern in _CHATTER if _CHATTER_ANY and _CHATTER_ANY.search(joined) else ():
        if phrase in joined and pattern.search(joined):
            s.add("chatter", phrase, OTHER, points)
    for phrase, points, pattern in (
        _REQUESTS if _REQUESTS_ANY and _REQUESTS_ANY.search(joined) else ()
    ):
        if phrase in joined and pattern.search(joined):
            s.add("question", phrase, QUESTION, points)


def _spam_and_rating_score(s: _Scoring, rating: int | None) -> None:
    """Spam phrases (two, one with a link, or a shortener), and a review's star rating."""
    lowered = s.lowered
    spam = (
        [m for m, pattern in _SPAM if m in lowered and pattern.search(lowered)]
        if _SPAM_ANY and _SPAM_ANY.search(lowered)
        else []
    )
    if len(spam) >= 2 or (spam and "http" in lowered) or "bit.ly" in spam:
        s.add("spam", ", ".join(spam), OTHER, 5)

    if rating is not None:
        if rating <= 2:
            s.add("rating", f"{rating} stars", COMPLAINT, 3)
        elif rating >= 4:
            s.add("rating", f"{rating} stars", COMPLIMENT, 3)


def _classify(
    text: str, rating: int | None, *, explain: bool
) -> tuple[dict[str, float], list[Evidence]]:
    """The scores per intent and, with ``explain``, the evidence for them. The order of the
    steps matters: capitals and sarcasm weigh what the words scored."""
    s = _Scoring(text, explain)
    _lexicon_score(s)
    _tone_score(s)
    _question_score(s)
    _spam_and_rating_score(s, rating)
    return s.scores, s.evidence


def _decide(scores: dict[str, float]) -> str:
    complaint, compliment, question = scores[COMPLAINT], scores[COMPLIMENT], scores[QUESTION]
    if scores[OTHER] >= max(complaint, compliment, question):
        return OTHER
    if complaint >= THRESHOLD and complaint >= compliment:
        return COMPLAINT
    if compliment >= THRESHOLD and compliment >= question:
        return COMPLIMENT
    if question >= THRESHOLD:
        return QUESTION
    if max(complaint, compliment, question) >= 1:
        return max((complaint, COMPLAINT), (compliment, COMPLIMENT), (question, QUESTION))[1]
    return OTHER
