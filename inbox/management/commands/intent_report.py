"""Precision and recall per intent on the labelled set (and on kept corrections, if asked)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from inbox.engines import intent_eval
from inbox.engines.intent_eval import Example, Report


class Command(BaseCommand):
    help = "Measure the intent classifier: precision and recall per class, held-out and dev."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--split",
            choices=["held-out", "dev", "all"],
            default=None,
            help="Report only this part of the labelled set (default: held-out, dev and all).",
        )
        parser.add_argument("--lang", default="", help="Only messages in this language (nl, en).")
        parser.add_argument(
            "--mistakes", action="store_true", help="List the misclassified messages too."
        )
        parser.add_argument(
            "--corrections",
            action="store_true",
            help="Also measure on the intents leads corrected in the inbox (kept in the database).",
        )

    def handle(self, *args, **options) -> None:
        examples = intent_eval.load()
        if options["lang"]:
            examples = [e for e in examples if e.lang == options["lang"]]
        dev, held_out = intent_eval.split(examples)
        parts = {"held-out": held_out, "dev": dev, "all": examples}
        chosen = [options["split"]] if options["split"] else ["held-out", "dev", "all"]
        for name in chosen:
            self._print(intent_eval.evaluate(name, parts[name]), options["mistakes"])
        if options["corrections"]:
            from inbox.models import IntentCorrection

            kept = [
                Example(id=c.pk, text=c.text, label=c.corrected, rating=c.rating)
                for c in IntentCorrection.objects.order_by("pk")
            ]
            self._print(intent_eval.evaluate("corrections", kept), options["mistakes"])

    def _print(self, report: Report, mistakes: bool) -> None:
        self.stdout.write(
            f"\n{report.name}: {report.total} messages, accuracy {report.accuracy:.1%}"
        )
        self.stdout.write(
            f"  {'intent':<11} {'support':>7} {'precision':>9} {'recall':>7} {'F1':>6}"
        )
        for c in report.classes:
            self.stdout.write(
                f"  {c.intent:<11} {c.support:>7} {c.precision:>9.1%} {c.recall:>7.1%} {c.f1:>6.1%}"
            )
        if mistakes:
            for example, guess in report.mistakes:
                self.stdout.write(f"  #{example.id} {example.label} → {guess}: {example.text}")
