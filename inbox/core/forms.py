"""Form fields more than one area's forms share."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User


def person_label(user: User) -> str:
    """How a form names a person: their full name, else their username."""
    return user.get_full_name() or user.get_username()


class PersonChoiceField(forms.ModelChoiceField):
    """A choice of one user, each named by :func:`person_label`."""

    def label_from_instance(self, obj: User) -> str:
        return person_label(obj)
