"""Fictional but realistic identifiers for the seed: unique company names and e-mail
addresses, phone numbers from ranges reserved for fiction, postal codes and slugs."""

from __future__ import annotations

import random
import re
import unicodedata

from trellis.examples.sales_crm.data import (
    COMPANY_WORDS,
    INDUSTRIES,
)


class Names:
    """Unique company names, e-mail addresses and domains for one seed run."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.companies: set[str] = set()
        self.emails: set[str] = set()

    def company(self, industry: str) -> str:
        for attempt in range(50):
            name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(INDUSTRIES[industry])}"
            if attempt >= 25:
                name = f"{name} {self.rng.randint(2, 99)}"
            if name not in self.companies:
                self.companies.add(name)
                return name
        raise RuntimeError("ran out of company names")

    def email(self, first: str, last: str, domain: str) -> str:
        local = f"{ascii_slug(first, '')}.{ascii_slug(last, '')}"
        candidate, number = f"{local}@{domain}", 2
        while candidate.lower() in self.emails:
            candidate, number = f"{local}{number}@{domain}", number + 1
        self.emails.add(candidate.lower())
        return candidate


def phone(rng: random.Random, country: str, area: str) -> str:
    """Numbers from ranges reserved for fiction where the country has one."""
    if country in {"United States", "Canada"}:
        return f"+1 ({area}) 555-01{rng.randint(0, 99):02d}"
    if country == "United Kingdom":
        return f"+44 {area} 0{rng.randint(0, 999):03d}"
    if country == "France":
        return f"+33 {area} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    if country == "Australia":
        return f"+61 {area} {rng.randint(0, 9999):04d}"
    if country == "Germany":
        return f"+49 {area} {rng.randint(1000000, 9999999)}"
    return f"+31 {area} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def postal_code(rng: random.Random, pattern: str) -> str:
    return re.sub("#", lambda _: str(rng.randint(0, 9)), pattern)


def ascii_slug(text: str, separator: str = "-") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return separator.join(words)
