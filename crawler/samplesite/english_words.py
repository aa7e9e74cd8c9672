"""English word lists of the sample site's English service (en.antaranews.com)."""

from __future__ import annotations

#: Title subjects: (as in a title, as in the lead sentence).
SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Indonesia", "The Indonesian government"),
    ("Jokowi", "President Joko Widodo"),
    ("Finance ministry", "The Finance Ministry"),
    ("Bank Indonesia", "Bank Indonesia"),
    ("Health ministry", "The Health Ministry"),
    ("BMKG", "The Meteorology, Climatology and Geophysics Agency (BMKG)"),
    ("Trade ministry", "The Trade Ministry"),
    ("Polri", "The National Police (Polri)"),
    ("Tourism ministry", "The Tourism and Creative Economy Ministry"),
    ("Energy ministry", "The Energy and Mineral Resources Ministry"),
    ("ASEAN", "ASEAN member states"),
    ("Jakarta", "The Jakarta provincial government"),
)

#: Title verbs: (present tense for the title, past tense for the lead).
VERBS: tuple[tuple[str, str], ...] = (
    ("launches", "launched"),
    ("expands", "expanded"),
    ("reviews", "reviewed"),
    ("speeds up", "sped up"),
    ("backs", "backed"),
    ("prepares", "prepared"),
    ("evaluates", "evaluated"),
    ("funds", "funded"),
    ("strengthens", "strengthened"),
    ("monitors", "monitored"),
)

OBJECTS: tuple[str, ...] = (
    "green sukuk issuance",
    "rice price stabilisation programme",
    "flood early warning system",
    "coral reef restoration project",
    "digital payment rollout",
    "measles immunisation drive",
    "toll road construction",
    "nickel downstreaming policy",
    "renewable energy auction",
    "village fund disbursement",
    "tourism village programme",
    "forest fire prevention patrols",
    "free nutritious meal programme",
    "port modernisation plan",
    "halal certification scheme",
    "mangrove planting campaign",
)

CITIES: tuple[str, ...] = (
    "Jakarta",
    "Surabaya",
    "Denpasar",
    "Medan",
    "Makassar",
    "Bandung",
    "Semarang",
    "Palangka Raya",
    "Jayapura",
    "Pekanbaru",
)

DAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

CATEGORIES: tuple[str, ...] = ("Business", "Politics", "Environment", "Health", "Sports", "Features")

TAGS: tuple[str, ...] = (
    "green economy",
    "food security",
    "disaster mitigation",
    "public health",
    "infrastructure",
    "tourism",
    "energy transition",
    "ASEAN",
    "digital economy",
    "climate change",
)

#: Body sentences; ``{obj}``, ``{city}``, ``{day}``, ``{pct}``, ``{money}``, ``{count}``, ``{person}`` are filled in.
SENTENCES: tuple[str, ...] = (
    '"We want the {obj} to reach every province by the end of the year," {person} said on {day}.',
    "Officials in {city} said the first phase would cover about {count} villages.",
    "The programme is expected to cost around Rp{money} billion, according to the ministry.",
    "Participation rose by {pct} percent compared with the same period last year.",
    "Local leaders welcomed the plan but asked for clearer guidance on its funding.",
    "The government will evaluate the results every three months, {person} added.",
    "Analysts said the move could strengthen investor confidence in the region.",
    "Residents of {city} have been invited to take part in public consultations.",
    "The initiative is part of a broader effort to meet the country's 2045 development targets.",
    "A task force of {count} officers has been formed to oversee the work on the ground.",
    "Several regional governments have already signed cooperation agreements for the {obj}.",
    "The ministry said it would publish progress reports on its website.",
)

#: The label that introduces a read-also link, in the forms the English service prints.
ALSO_READ: tuple[str, ...] = ("Also read:", "Also read:", "Read also:", "Related news:")
