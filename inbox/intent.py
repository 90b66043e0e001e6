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

COMPLAINT = "complaint"
QUESTION = "question"
COMPLIMENT = "compliment"
OTHER = "other"
INTENTS = (COMPLAINT, QUESTION, COMPLIMENT, OTHER)

# Lexicon entries: a word, a phrase of words, or a word ending in "*" (matches any word starting
# with it: "teleurgesteld*" also matches "teleurgestelde"). Weights are points for the class.
NEGATIVE: dict[str, float] = {
    # Dutch
    "belachelijk": 2,
    "schandalig": 2.5,
    "waardeloos": 2.5,
    "slecht*": 2,
    "slechtste": 2.5,
    "teleurgesteld*": 2,
    "teleurstell*": 2,
    "irritant": 2,
    "vervelend": 1.5,
    "frustrerend": 2,
    "kapot": 2,
    "beschadigd": 2,
    "defect": 2,
    "gebroken": 1.5,
    "kwijt": 1.5,
    "ontbreekt": 1.5,
    "ontbreken": 1.5,
    "incompleet": 1.5,
    "klacht": 1.5,
    "klachten": 1.5,
    "onbereikbaar": 2,
    "onacceptabel": 2.5,
    "ongelooflijk": 1.5,
    "drama": 2,
    "gedoe": 1.5,
    "zonde": 1.5,
    "klaar mee": 2,
    "nooit meer": 2.5,
    "nog steeds": 1.5,
    "nog altijd": 1.5,
    "nog steeds niet": 1,
    "waar blijft": 2,
    "waarom duurt": 2,
    "wachttijd": 1.5,
    "in de wacht": 1.5,
    "opgehangen": 1.5,
    "geblokkeerd": 1.5,
    "misgaat": 1.5,
    "mis": 1,
    "helaas": 1,
    "jammer": 1.5,
    "vertraging": 1.5,
    "verkeerd*": 1.5,
    "geannuleerd": 1.5,
    "2x afgeschreven": 2,
    "afgezet": 2,
    "slaat nergens op": 2,
    "klopt niet": 1.5,
    "werkt niet": 2,
    "crasht": 2,
    "lekt": 1.5,
    "achteruit": 1.5,
    "geen antwoord": 2,
    "geen reactie": 2,
    "niemand reageert": 2,
    "reageren nergens op": 2,
    "niet bezorgd": 2,
    "niks ontvangen": 2,
    "niets ontvangen": 2,
    "geen terugbetaling": 2,
    "niks gekomen": 2,
    "zoveelste": 2,
    "boos": 2,
    "lekker dan": 1.5,
    "wat is dit nou": 2,
    "serieus": 1,
    "ik wacht": 1.5,
    "wacht ik": 1.5,
    "retour afzender": 1.5,
    "gaten": 1,
    # English
    "ridiculous": 2,
    "worst": 2.5,
    "terrible": 2.5,
    "horrible": 2.5,
    "awful": 2.5,
    "disgusting": 2.5,
    "unacceptable": 2.5,
    "useless": 2,
    "poor": 1.5,
    "disappoint*": 2,
    "annoying": 2,
    "frustrat*": 2,
    "broken": 2,
    "broke": 2,
    "damaged": 2,
    "ruined": 2,
    "soaked": 1.5,
    "defective": 2,
    "missing": 1.5,
    "missed": 1.5,
    "wrong": 1.5,
    "complaint": 1.5,
    "angry": 2,
    "furious": 2.5,
    "unbelievable": 1.5,
    "waste": 2,
    "liar": 2,
    "rude": 2,
    "overcharged": 2,
    "charged twice": 2,
    "hung up": 1.5,
    "on hold": 1.5,
    "crashing": 2,
    "crashes": 2,
    "delayed": 1.5,
    "cancelled": 1.5,
    "still no": 2,
    "still not": 2,
    "still waiting": 2,
    "no update": 1.5,
    "no reply": 1.5,
    "never reply": 2,
    "nobody": 1.5,
    "no one": 1.5,
    "done with": 1.5,
    "last time": 1.5,
    "never again": 2.5,
    "doesn't work": 2,
    "does not work": 2,
    "stopped working": 2,
    "not working": 2,
    "never showed up": 2,
    "never arrives": 2,
    "where is my": 1.5,
    "why is it": 1.5,
    "sorry for the inconvenience": 1,
    "fix this": 2,
    "again": 1,
    "ugh": 1.5,
    "sad": 1.5,
    "dead": 1,
    "not here": 1.5,
    "hasn't updated": 1.5,
    "been waiting": 2,
    "getting old": 1.5,
    "no apology": 2,
    "no compensation": 2,
    "what's going on": 1.5,
    "seriously": 1,
    "geen excuses": 2,
    "geen compensatie": 2,
    "refund": 0.5,
}

POSITIVE: dict[str, float] = {
    # Dutch
    "blij": 2,
    "dolblij": 2.5,
    "tevreden": 2,
    "top": 2,
    "topservice": 2.5,
    "super": 1,
    "geweldig": 2.5,
    "fantastisch*": 2.5,
    "prima": 1.5,
    "fijn*": 1.5,
    "mooi*": 1.5,
    "heerlijk*": 2,
    "perfect*": 2,
    "snel": 1,
    "snelle": 1,
    "netjes": 1.5,
    "keurig": 1.5,
    "vriendelijk*": 1.5,
    "behulpzaam": 1.5,
    "bedankt": 2,
    "dank": 2,
    "dankjewel": 2,
    "dank je wel": 2,
    "dank jullie": 2,
    "complimenten": 2.5,
    "compliment": 2,
    "chapeau": 2.5,
    "petje af": 2.5,
    "aanrader": 2.5,
    "de beste": 2,
    "beste": 1.5,
    "held": 2,
    "fan": 1.5,
    "lof": 2,
    "dikke duim": 2.5,
    "goed": 1,
    "goede": 1,
    "goed gedaan": 2,
    "zo hoort het": 2.5,
    "dat noem ik service": 2.5,
    "opgelost": 1,
    "blij verrast": 2,
    "makkelijk": 1,
    # English
    "happy": 2,
    "pleased": 2,
    "satisfied": 2,
    "great": 1.5,
    "amazing": 2.5,
    "awesome": 2.5,
    "excellent": 2.5,
    "fantastic": 2.5,
    "brilliant": 2.5,
    "lovely": 2,
    "love": 2,
    "loves": 2,
    "beautiful": 2,
    "nice": 1.5,
    "nicely": 1.5,
    "good": 1,
    "well done": 2,
    "fast": 1,
    "quick": 0.5,
    "friendly": 1.5,
    "helpful": 1.5,
    "thank you": 2,
    "thanks": 2,
    "thx": 2,
    "cheers": 1.5,
    "kudos": 2.5,
    "respect": 2,
    "hats off": 2.5,
    "compliments": 2.5,
    "praise": 2,
    "recommend": 2,
    "legend": 2,
    "the best": 2,
    "best": 1.5,
    "impressed": 2,
    "thumbs up": 2.5,
    "keep up the good work": 3,
    "that's how it's done": 2.5,
    "that's service": 2.5,
    "solved": 1,
    "sorting it out": 1.5,
    "saved my day": 2.5,
    "looked after": 1.5,
    "easy": 1,
    "perfect": 2,
    "perfectly": 2,
    "wow": 1.5,
    "wauw": 1.5,
    "deserved": 1.5,
    "verdiend": 1.5,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that make what follows within three words mean its opposite.
NEGATORS = _words(
    "niet geen nooit niks niets not no never dont don't isn't wasn't aren't won't didn't "
    "doesn't cannot can't nothing"
)
INTENSIFIERS = _words(
    "heel erg echt super zo zeer enorm hartstikke ontzettend totaal helemaal absoluut "
    "very really so totally absolutely extremely super incredibly truly"
)

EMOJI: dict[str, tuple[str, float]] = {
    "😡": (COMPLAINT, 2),
    "😠": (COMPLAINT, 2),
    "🤬": (COMPLAINT, 2.5),
    "😤": (COMPLAINT, 1.5),
    "😒": (COMPLAINT, 1.5),
    "👎": (COMPLAINT, 2),
    "😞": (COMPLAINT, 1.5),
    "😢": (COMPLAINT, 1),
    "😭": (COMPLAINT, 1),
    "💩": (COMPLAINT, 2),
    "😍": (COMPLIMENT, 2),
    "🥰": (COMPLIMENT, 2),
    "❤": (COMPLIMENT, 2),
    "♥": (COMPLIMENT, 2),
    "💕": (COMPLIMENT, 2),
    "👍": (COMPLIMENT, 1.5),
    "👌": (COMPLIMENT, 1.5),
    "🙏": (COMPLIMENT, 1),
    "👏": (COMPLIMENT, 1),
    "🔥": (COMPLIMENT, 1),
    "💪": (COMPLIMENT, 1.5),
    "🏆": (COMPLIMENT, 1.5),
    "💐": (COMPLIMENT, 1),
    "😁": (COMPLIMENT, 1),
    "😊": (COMPLIMENT, 1),
    "🙂": (COMPLIMENT, 0.5),
    "⭐": (COMPLIMENT, 1),
    "🌟": (COMPLIMENT, 1),
    "🤔": (QUESTION, 1),
    "❓": (QUESTION, 1.5),
}

# A marker of sarcasm turns the praise of the same message into complaint points.
SARCASM = ("🙄", "🙃", "bedankt voor niks", "thanks for nothing", "yeah right", "ja hoor")

QUESTION_OPENINGS = _words(
    "wanneer waar hoe hoeveel wat welke welk wie kan kun kunnen kunt mag mogen heb hebben "
    "hebt is zijn zit bestaat moet weet verzenden bezorgen klopt wil "
    "when where how what which who can could do does is are may will would should have has "
    "did anyone any"
)
REQUEST_PHRASES: dict[str, float] = {
    "vraagje": 2,
    "ik heb een vraag": 2,
    "graag weten": 2,
    "graag informatie": 2,
    "wil graag weten": 2,
    "laten weten": 1.5,
    "is het mogelijk": 2,
    "quick question": 2,
    "i have a question": 2,
    "i'd like some info": 2,
    "i was wondering": 2,
    "wondering": 1.5,
    "could you let me know": 2,
    "let me know": 1.5,
    "is it possible": 2,
    "help me": 1,
    "helpen met": 1,
}

# Unsolicited promotion and the like: "other", whatever the praise in it.
SPAM = (
    "win",
    "gratis",
    "free",
    "dm me",
    "bit.ly",
    "volgers",
    "followers",
    "klik hier",
    "click",
    "profiel",
    "profile",
)

# Chatter addressed to the crowd or a friend rather than to us: greetings, wishes, polls.
CHATTER: dict[str, float] = {
    "goedemorgen": 2,
    "good morning": 2,
    "fijne feestdagen": 2.5,
    "happy holidays": 2.5,
    "iedereen": 1.5,
    "everyone": 1.5,
    "allemaal": 1.5,
    "iemand anders": 2,
    "anyone else": 2,
    "wie gaat": 2,
    "who's going": 2,
    "wat vinden jullie": 2,
    "what do you all think": 2,
}

# Points a class needs before the decision list considers it at all.
THRESHOLD = 1.5

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


_CHATTER = [(p, w, re.compile(rf"\b{re.escape(p)}\b")) for p, w in CHATTER.items()]
_REQUESTS = [(p, w, re.compile(rf"\b{re.escape(p)}\b")) for p, w in REQUEST_PHRASES.items()]
_SPAM = [(s, re.compile(rf"(?<!\w){re.escape(s)}(?!\w)")) for s in SPAM]
_NEGATIVE = _Lexicon(_compile(NEGATIVE))
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
    raw = unicodedata.normalize("NFKC", text or "")
    lowered = _normalise(raw)
    tokens = _TOKEN.findall(lowered)
    scores = dict.fromkeys(INTENTS, 0.0)
    evidence: list[Evidence] = []

    def add(rule: str, match: str, intent: str, points: float) -> None:
        scores[intent] += points
        evidence.append(Evidence(rule, match, intent, round(points, 2)))

    def modifiers(start: int) -> tuple[bool, bool]:
        before: list[str] = []
        for t in reversed(tokens[max(0, start - 3) : start]):
            if t in _BOUNDARY:
                break
            before.append(t)
        negated = any(t in NEGATORS or t.endswith("n't") for t in before)
        intensified = start > 0 and tokens[start - 1] in INTENSIFIERS
        return negated, intensified

    for start, end, weight, term in _find(tokens, _POSITIVE):
        negated, intensified = modifiers(start)
        points = weight * (1.5 if intensified else 1)
        if negated:
            add("negation", " ".join(tokens[max(0, start - 3) : end]), COMPLAINT, points)
        else:
            match = f"{tokens[start - 1]} {term}" if intensified else term
            add("intensifier" if intensified else "lexicon", match, COMPLIMENT, points)
    for start, end, weight, term in _find(tokens, _NEGATIVE):
        negated, intensified = modifiers(start)
        # "nog steeds niet", "geen antwoord": the negator is part of the phrase itself.
        if negated and not any(w in NEGATORS for w in term.split()):
            add("negation", " ".join(tokens[max(0, start - 3) : end]), COMPLIMENT, weight / 2)
        else:
            points = weight * (1.5 if intensified else 1)
            match = f"{tokens[start - 1]} {term}" if intensified else term
            add("intensifier" if intensified else "lexicon", match, COMPLAINT, points)

    for emoji, (intent, points) in EMOJI.items():
        count = raw.count(emoji)
        if count:
            add("emoji", emoji, intent, points * min(count, 2))

    shouting = [w for w in re.findall(r"\b[A-Z]{3,}\b", raw) if w not in {"APP", "USA", "OK"}]
    if shouting and scores[COMPLAINT] > 0:
        add("capitals", " ".join(shouting[:3]), COMPLAINT, 1)

    sarcasm = next((m for m in SARCASM if m in lowered), None)
    if sarcasm and scores[COMPLIMENT] > 0:
        moved = scores[COMPLIMENT]
        add("sarcasm", sarcasm, COMPLIMENT, -moved)
        add("sarcasm", sarcasm, COMPLAINT, moved)
    elif sarcasm:
        add("sarcasm", sarcasm, COMPLAINT, 1.5)

    if "?" in raw:
        add("question", "?", QUESTION, 1.5)
        if "?!" in raw or "??" in raw or "!?" in raw:
            add("question", "?! / ??", COMPLAINT, 1)
    if tokens and tokens[0] in QUESTION_OPENINGS:
        add("question", f"opens with '{tokens[0]}'", QUESTION, 1)
    joined = " ".join(t for t in tokens if t not in _BOUNDARY)
    # A plain substring test first: most phrases are absent, and it is far cheaper than a regex.
    for phrase, points, pattern in _CHATTER:
        if phrase in joined and pattern.search(joined):
            add("chatter", phrase, OTHER, points)
    for phrase, points, pattern in _REQUESTS:
        if phrase in joined and pattern.search(joined):
            add("question", phrase, QUESTION, points)

    spam = [s for s, pattern in _SPAM if s in lowered and pattern.search(lowered)]
    if len(spam) >= 2 or (spam and "http" in lowered) or "bit.ly" in spam:
        add("spam", ", ".join(spam), OTHER, 5)

    if rating is not None:
        if rating <= 2:
            add("rating", f"{rating} stars", COMPLAINT, 3)
        elif rating >= 4:
            add("rating", f"{rating} stars", COMPLIMENT, 3)

    return IntentResult(
        _decide(scores), {k: round(v, 2) for k, v in scores.items()}, tuple(evidence)
    )


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
