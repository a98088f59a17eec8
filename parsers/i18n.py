"""The Kausal Watch UI's own strings, in every locale it ships, and their readers.

The tables hold what ``locales/<lang>/{actions,common}.json`` of kausal-watch-ui says
(every ICU ``{context, select, ...}`` variant: actions, strategies, case studies; tasks,
milestones), plus older wordings that deployments of earlier builds still serve. A
locale missing a key falls back to its base language and then to English, so the
readers below try the strings of every locale: a page's language does not tell which
table its strings came from.

``{n}`` marks where the UI puts a number.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "CONTINUOUS_LABELS",
    "DATE_FORMATS",
    "LAST_UPDATED_LABELS",
    "LOADING_TEXTS",
    "MERGED_LABELS",
    "NOT_FOUND_TEXTS",
    "UI_LOCALES",
    "absolute_date",
    "dayjs_locale",
    "last_updated_date",
    "parse_responsible_count",
    "parse_task_label",
]

# Locales with a directory under locales/ (cs and pl carry paths.json only; mww and so,
# en-AU and en-GB, es-US and sv-FI carry few or no keys of their own).
UI_LOCALES: tuple[str, ...] = (
    *("cs", "da", "de", "de-CH", "el", "en", "en-AU", "en-GB", "es", "es-US"),
    *("fi", "lv", "mww", "pl", "pt-BR", "so", "sv", "sv-FI"),
)

# org-responsible-in-actions: the organization page heading.
RESPONSIBLE_IN_ACTIONS: dict[str, tuple[str, ...]] = {
    "en": (
        "Responsible in {n} actions",
        "Responsible in {n} strategies",
        "Responsible in {n} case studies",
    ),
    "da": ("Ansvarlig i {n} handlinger",),
    "de": (
        "Verantwortlich in {n} Maßnahmen",
        "Verantwortlich in {n} Strategien",
        "Verantwortlich in {n} Fallstudien",
        "Verantwortlich für {n} Maßnahmen",  # 2024-2025 builds
    ),
    "de-CH": ("Verantwortlich für {n} Massnahmen",),
    "el": ("Υπεύθυνος σε {n} ενέργειες",),
    "es": ("Responsable en {n} acciones",),
    "fi": ("{n} toimenpiteen vastuuorganisaationa",),
    "lv": ("Atbildīgi {n} rīcības", "Atbildīgi {n} darbības"),
    "pt-BR": ("Responsável pelas ações {n}",),
    "sv": ("Responsible in {n} actions",),  # untranslated in the UI
}

# action-tasks-count: the word after the number in a task bar ("7 tasks").
TASK_COUNT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("tasks", "milestones"),
    "da": ("projekter", "opgaver"),
    "de": ("Aufgaben", "Meilensteine"),
    "es": ("tareas",),
    "fi": ("tehtävää",),
    "lv": ("uzdevumi", "stūrakmeņi"),
    "sv": ("uppgifter", "milstolpar"),
}

# action-no-tasks: what the task bar says for zero tasks.
NO_TASKS: dict[str, tuple[str, ...]] = {
    "en": ("No tasks", "No milestones"),
    "da": ("Ingen projekter", "Ingen opgaver"),
    "de": ("Keine Aufgaben", "Keine Meilensteine"),
    "el": ("Δεν υπάρχουν εργασίες", "Δεν υπάρχουν ορόσημα"),
    "es": ("Sin tareas",),
    "fi": ("Ei tehtäviä",),
    "lv": ("Nav uzdevumu", "Nav atskaites punktu"),
    "sv": ("Inga uppgifter", "Inga milstolpar"),
}

# action-status-merged: the status of an action merged into another.
MERGED: dict[str, tuple[str, ...]] = {
    "en": ("Merged with action", "Merged with strategy", "Merged with case study"),
    "da": (
        "Slået sammen med handling",
        "Sammenflettet med strategi",
        "Sammenlagt med casestudie",
    ),
    "de": (
        "Zusammengeführt mit Maßnahme",
        "Zusammengeführt mit Strategie",
        "Zusammengeführt mit Fallstudie",
    ),
    "de-CH": ("Zusammengeführt mit Massnahme",),
    # The Greek case-study variant really reads just "case study".
    "el": (
        "Συγχωνεύεται με τη δράση",
        "Συγχωνεύεται με τη στρατηγική",
        "Μελέτη περίπτωσης",
    ),
    "es": ("Fusionado con la acción", "Fusionado con la estrategia"),
    "fi": ("Yhdistetty",),
    "lv": (
        "Apvienots ar rīcību",
        "Apvienots ar stratēģiju",
        "Apvienots ar gadījumu izpēti",
        "Apvienots ar darbību",
    ),
    "pt-BR": (
        "Mergulhado com ação",
        "Mergulhado com estratégia",
        "Combinado com estudo de caso",
    ),
    "sv": (
        "Sammanfogad med åtgärden",
        "Sammanslagen med strategi",
        "Sammanslagen med handling",
    ),
}

# action-continuous: the schedule badge of an action without an end.
CONTINUOUS: dict[str, tuple[str, ...]] = {
    "en": ("Continuous", "Ongoing", "Continous"),  # the last two from older builds
    "da": ("Igangværende",),
    "de": ("Laufend", "Fortlaufend"),
    "el": ("Συνεχής",),
    "es": ("En curso",),
    "fi": ("Jatkuva",),
    "lv": ("Notiek",),
    "pt-BR": ("Em andamento",),
    "sv": ("Ständig",),
}

# page-not-found, and the body of Next.js's built-in 404 page the UI also serves.
NOT_FOUND: dict[str, tuple[str, ...]] = {
    "en": (
        "Page not found",
        "404: This page could not be found.",
        "This page could not be found.",
    ),
    "da": ("Siden blev ikke fundet",),
    "de": ("Seite nicht gefunden",),
    "el": ("Η σελίδα δεν βρέθηκε",),
    "es": ("Página no encontrada",),
    "fi": ("Sivua ei löydy",),
    "lv": ("Lapa nav atrasta",),
    "pt-BR": ("Página não encontrada",),
    "sv": ("Sidan hittas inte",),
}

# loading: the fallback a streamed page shows before (or beside) its content;
# "Loading..." is hard-coded in the UI's shell and shown in every language.
LOADING: dict[str, tuple[str, ...]] = {
    "en": ("Loading", "Loading..."),
    "da": ("Indlæser",),
    "de": ("Wird geladen",),
    "el": ("Φόρτωση",),
    "es": ("Cargando",),
    "fi": ("Ladataan",),
    "lv": ("Iekraušana",),
    "pt-BR": ("Carregamento",),
    "sv": ("Läser in",),
}


# action-last-updated: the line under an action page's responsible parties.
LAST_UPDATED: dict[str, tuple[str, ...]] = {
    "en": ("Information updated",),
    "da": ("Oplysninger opdateret",),
    "de": ("Letzte Aktualisierung",),
    "el": ("Ενημερωμένες πληροφορίες",),
    "es": ("Información actualizada",),
    "fi": ("Tietoja päivitetty",),
    "lv": ("Atjaunināta informācija",),
    "pt-BR": ("Informações atualizadas",),
    "sv": ("Information uppdaterad",),
}

# Words of pages that are not plan content: error pages, login walls, maintenance
# notices (Next.js's own texts, common proxies' and the UI's languages').
ERROR_TEXTS: tuple[str, ...] = (
    "application error",
    "internal server error",
    "bad gateway",
    "gateway time-out",
    "gateway timeout",
    "service unavailable",
    "server error",
    "an error occurred",
    "something went wrong",
    "palvelinvirhe",
    "virhe",
    "serverfehler",
)
LOGIN_TEXTS: tuple[str, ...] = (
    "log in",
    "login",
    "sign in",
    "kirjaudu",
    "logga in",
    "anmelden",
    "iniciar sesión",
    "unauthorized",
    "forbidden",
    "access denied",
    "password",
    "salasana",
)
MAINTENANCE_TEXTS: tuple[str, ...] = (
    "maintenance",
    "huoltokatko",
    "huolto",
    "underhåll",
    "wartung",
    "mantenimiento",
    "temporarily unavailable",
    "back soon",
)


def _all(table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(text for texts in table.values() for text in texts)


MERGED_LABELS: frozenset[str] = _all(MERGED)
CONTINUOUS_LABELS: frozenset[str] = _all(CONTINUOUS)
NOT_FOUND_TEXTS: frozenset[str] = _all(NOT_FOUND)
LOADING_TEXTS: frozenset[str] = _all(LOADING)
LAST_UPDATED_LABELS: frozenset[str] = _all(LAST_UPDATED)


def normalise(text: str) -> str:
    """Fold case, soft hyphens and every kind of whitespace (NBSP included)."""
    text = text.replace("\u00ad", "").replace("\u200b", "")
    return " ".join(text.split()).casefold()


# -- counts in headings and task bars -----------------------------------------------

# ICU may group thousands ("1 234", "1,234").
_NUMBER = r"(\d{1,3}(?:[ ,.'\u202f]\d{3})+|\d+)"


def _compile(templates: dict[str, tuple[str, ...]]) -> tuple[re.Pattern[str], ...]:
    patterns = {
        re.escape(normalise(template)).replace(r"\{n\}", _NUMBER)
        for texts in templates.values()
        for template in texts
    }
    return tuple(re.compile(pattern) for pattern in sorted(patterns))


def _to_int(digits: str) -> int:
    return int(re.sub(r"\D", "", digits))


_RESPONSIBLE = _compile(RESPONSIBLE_IN_ACTIONS)
_TASK_COUNT = _compile({"": tuple(f"{{n}} {word}" for word in _all(TASK_COUNT_WORDS))})
_NO_TASKS = frozenset(normalise(text) for text in _all(NO_TASKS))
_TASK_WORDS = frozenset(normalise(word) for word in _all(TASK_COUNT_WORDS))


def parse_responsible_count(heading: str) -> int | None:
    """The N of "Responsible in N actions" (any locale, any action term), or None."""
    folded = normalise(heading)
    for pattern in _RESPONSIBLE:
        found = pattern.fullmatch(folded)
        if found:
            return _to_int(found.group(1))
    return None


def parse_task_label(text: str) -> int | None:
    """The count of a task bar label ("7 tasks", "Ei tehtäviä" -> 0), or None."""
    folded = normalise(text)
    if folded in _NO_TASKS:
        return 0
    number, _, word = folded.partition(" ")
    if number.isdecimal() and word in _TASK_WORDS:
        return int(number)
    for pattern in _TASK_COUNT:
        found = pattern.fullmatch(folded)
        if found:
            return _to_int(found.group(1))
    return None


# -- absolute dates (dayjs format "L") ----------------------------------------------

# dayjs "L" of every locale the UI registers; "en" is built in.
DATE_FORMATS: dict[str, str] = {
    "de": "DD.MM.YYYY",
    "el": "DD/MM/YYYY",
    "en": "MM/DD/YYYY",
    "en-au": "DD/MM/YYYY",
    "en-gb": "DD/MM/YYYY",
    "es": "DD/MM/YYYY",
    "es-us": "MM/DD/YYYY",
    "fi": "DD.MM.YYYY",
    "fr": "DD/MM/YYYY",
    "fr-ca": "YYYY-MM-DD",
    "sv": "YYYY-MM-DD",
    "sv-fi": "DD.MM.YYYY",
}

_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DOTTED = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
_SLASHED = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")


def dayjs_locale(lang: str | None) -> str | None:
    """The dayjs locale ``dayjs.locale(lang)`` selects, or None if it selects none.

    dayjs lower-cases the name and falls back to the part before "-" ("de-CH" -> "de");
    for an unregistered language (da, lv, pt-BR, ...) it keeps whatever locale the
    server last used, which a page cannot tell.
    """
    if not lang:
        return None
    name = lang.strip().lower().replace("_", "-")
    if name in DATE_FORMATS:
        return name
    base = name.split("-")[0]
    return base if base in DATE_FORMATS else None


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def absolute_date(text: str, lang: str | None = None) -> date | None:
    """The date in an "Information updated 12/03/2026" line, in any dayjs "L" format.

    YYYY-MM-DD and DD.MM.YYYY are unambiguous. For NN/NN/YYYY a part above 12 decides;
    otherwise the page language's dayjs format does (MM/DD for en and es-us, DD/MM for
    en-gb, en-au, el, es, fr). When the language has no slashed format (fi, de, sv,
    an unregistered one, or None), a slashed date came from another request's locale
    and its order is unknown: then the answer is None rather than a guess.
    """
    if found := _ISO.search(text):
        return _date(*found.groups())
    if found := _DOTTED.search(text):
        day, month, year = found.groups()
        return _date(year, month, day)
    found = _SLASHED.search(text)
    if found is None:
        return None

    first, second, year = found.groups()
    if int(first) > 12 or first == second:
        return _date(year, second, first)
    if int(second) > 12:
        return _date(year, first, second)
    fmt = DATE_FORMATS.get(dayjs_locale(lang) or "", "")
    if fmt.startswith("MM/"):
        return _date(year, first, second)
    if fmt.startswith("DD/"):
        return _date(year, second, first)
    return None


_UPDATED_LINE = tuple(
    re.compile(re.escape(normalise(label)) + r"\s*:?\s+(\S+)$")
    for label in sorted(LAST_UPDATED_LABELS)
)


def last_updated_date(text: str, lang: str | None = None) -> date | None:
    """The date of an "Information updated 12/03/2026" line, or None.

    None also when the line is not one (any locale's label, then a dayjs "L" date)
    or when the date's order cannot be told (see ``absolute_date``).
    """
    folded = normalise(text)
    for pattern in _UPDATED_LINE:
        found = pattern.fullmatch(folded)
        if found:
            return absolute_date(found.group(1), lang)
    return None
