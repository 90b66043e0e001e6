"""What simulated customers say, in Dutch and English.

Slots in braces are filled from SLOTS. Kept apart from the generator so the texts can grow
without touching its logic.
"""

from typing import TypedDict

FIRST_NAMES = [
    "Anna",
    "Bram",
    "Chantal",
    "Daan",
    "Eva",
    "Fleur",
    "Gijs",
    "Hanna",
    "Ilse",
    "Jeroen",
    "Kim",
    "Lars",
    "Marloes",
    "Noah",
    "Olivia",
    "Pieter",
    "Roos",
    "Sem",
    "Tess",
    "Vera",
    "Wouter",
    "Yara",
    "Zoë",
    "Emma",
    "Liam",
    "Sophie",
    "James",
    "Mia",
    "Oliver",
    "Chloe",
    "Mohamed",
    "Fatima",
    "Youssef",
    "Aylin",
    "Priya",
    "Lucas",
    "Julia",
    "Thijs",
    "Sanne",
    "Ruben",
]
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Dekker",
    "Brouwer",
    "Smith",
    "Brown",
    "Wilson",
    "Taylor",
    "Khan",
    "Yilmaz",
    "El Amrani",
    "Kaur",
    "Novak",
    "Rossi",
]


class Slots(TypedDict):
    """The values a template's braces are filled with; products by language."""

    order: list[str]
    product: dict[str, list[str]]
    city: list[str]
    days: list[str]


SLOTS: Slots = {
    "order": [f"{n}" for n in (48213, 50917, 51230, 52877, 53301, 54018, 55592, 56004, 57118)],
    "product": {
        "nl": [
            "koptelefoon",
            "wasmachine",
            "winterjas",
            "laptop",
            "koffiezetapparaat",
            "sneakers",
            "stofzuiger",
            "fietsstoeltje",
            "matras",
        ],
        "en": [
            "headphones",
            "washing machine",
            "winter coat",
            "laptop",
            "coffee maker",
            "sneakers",
            "vacuum cleaner",
            "bike seat",
            "mattress",
        ],
    },
    "city": ["Utrecht", "Amsterdam", "Rotterdam", "Den Haag", "Eindhoven", "Groningen", "Zwolle"],
    "days": ["3", "4", "5", "6", "8", "10"],
}

TEXTS = {
    ("complaint", "nl"): [
        "Al {days} dagen wacht ik op bestelling {order}. Niemand reageert. Belachelijk 😡",
        "Mijn {product} is kapot aangekomen. Doos helemaal ingedeukt. Wat nu?",
        "Pakket staat al {days} dagen op 'onderweg' in {city}. Waar blijft het?",
        "Voor de derde keer bellen en weer 20 minuten in de wacht. Slechte service!",
        "Geld nog steeds niet terug voor mijn geretourneerde {product}. Order {order}.",
        "Bezorger heeft het pakket gewoon bij de buren gegooid zonder briefje. Niet oké.",
        "De {product} doet het na twee weken al niet meer. Zo teleurgesteld 😞",
        "Jullie app crasht steeds bij het afrekenen. Drie keer geprobeerd.",
    ],
    ("complaint", "en"): [
        "Been waiting {days} days for order {order}. Nobody replies. This is ridiculous 😡",
        "My {product} arrived broken. The box was completely crushed. What now?",
        "Parcel stuck 'in transit' in {city} for {days} days. Where is it?",
        "Third time calling and on hold for 20 minutes again. Terrible service!",
        "Still no refund for the {product} I returned. Order {order}.",
        "Courier left my parcel outside in the rain. Everything is soaked.",
        "The {product} stopped working after two weeks. So disappointed 😞",
        "Your app keeps crashing at checkout. Tried three times.",
    ],
    ("question", "nl"): [
        "Hoe lang duurt de levering naar {city} op dit moment?",
        "Kan ik mijn bestelling {order} nog wijzigen? Ik wil een andere maat.",
        "Hebben jullie de {product} ook in het zwart?",
        "Wat zijn jullie openingstijden tijdens de feestdagen?",
        "Hoe kan ik een retour aanmelden voor mijn {product}?",
        "Is er garantie op de {product}? En hoe lang?",
        "Kan ik ook achteraf betalen?",
    ],
    ("question", "en"): [
        "How long does delivery to {city} take at the moment?",
        "Can I still change order {order}? I need a different size.",
        "Do you have the {product} in black as well?",
        "What are your opening hours over the holidays?",
        "How do I start a return for my {product}?",
        "Is there a warranty on the {product}? How long?",
        "Can I pay later?",
    ],
    ("compliment", "nl"): [
        "Wauw, binnen een dag mijn {product} binnen. Top service! 👏",
        "Super vriendelijk geholpen door jullie chat vandaag, dank jullie wel!",
        "Mijn nieuwe {product} is geweldig. Echt blij mee ❤️",
        "Complimenten aan de bezorger in {city}, wat een aardige man.",
        "Retour was zo geregeld. Zo hoort het!",
    ],
    ("compliment", "en"): [
        "Wow, got my {product} within a day. Great service! 👏",
        "Your chat team was so friendly today, thank you!",
        "Loving my new {product}. Really happy with it ❤️",
        "Shout-out to the courier in {city}, such a kind person.",
        "Return was sorted in no time. That's how it should be!",
    ],
}

FOLLOW_UPS = {
    "nl": [
        "Hallo? Nog steeds geen antwoord...",
        "Nog een vraag: kan het ook vóór vrijdag?",
        "Bedankt voor het snelle antwoord!",
        "Ordernummer is {order} trouwens.",
        "Is hier al iets over bekend?",
    ],
    "en": [
        "Hello? Still no answer...",
        "One more question: could it be before Friday?",
        "Thanks for the quick reply!",
        "Order number is {order} by the way.",
        "Any news on this?",
    ],
}

# A colleague answering from the platform's own app: the platform echoes it back to us.
ECHOES = {
    "nl": ["Hoi! We kijken er direct naar, je hoort vandaag van ons. ^Sanne"],
    "en": ["Hi! We're looking into it right now, you'll hear from us today. ^Sanne"],
}
