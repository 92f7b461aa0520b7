"""Realistic, repeatable sales data for the sales CRM example.

Every record goes through :class:`RecordService`, so the seed exercises the same
validation, lookups, auto-numbers, history and events as the API. The same
``random_seed`` and ``today`` always give the same records (ids aside). Web sites,
emails and phone numbers use reserved example domains and fictional number ranges.

Run it against a tenant (the package is imported first if the tenant lacks it; a
tenant whose sales CRM objects already hold records is left alone)::

    python -m trellis.examples.sales_crm --tenant acme --accounts 50
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import re
import unicodedata
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.examples.sales_crm.data import (
    CALL_TIMES,
    CHANNELS,
    COMPANY_WORDS,
    COMPETITORS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DEAL_PURPOSES,
    DEFAULT_ACCOUNTS,
    DEFAULT_RANDOM_SEED,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    LOSS_REASONS,
    NEXT_STEPS,
    PRODUCTS,
    QUANTITIES,
    STAGES,
    STREETS,
    TASK_SUBJECTS,
    TASK_TOPICS,
    TITLES,
)
from trellis.metadata.compiled import MetadataCache, TenantSchema
from trellis.records.service import RecordService


class _Writer:
    """Creates records through the records service and counts them per object."""

    def __init__(
        self,
        connection: Connection,
        actor: Actor,
        schema: TenantSchema,
        owners: Sequence[uuid.UUID],
        rng: random.Random,
    ) -> None:
        self.connection, self.actor, self.schema = connection, actor, schema
        # Owners are drawn from a generator of their own, so that the same seed gives
        # the same records with or without owners.
        self.owners, self.owner_rng = list(owners), random.Random(rng.random())
        self.services: dict[str, RecordService] = {}
        self.counts: collections.Counter[str] = collections.Counter()

    def service(self, object_name: str) -> RecordService:
        if object_name not in self.services:
            self.services[object_name] = RecordService(
                self.connection, self.actor, self.schema, self.schema.object(object_name)
            )
        return self.services[object_name]

    def create(self, object_name: str, values: dict[str, Any]) -> dict[str, Any]:
        values = {name: value for name, value in values.items() if value is not None}
        if self.owners:
            values["owner_id"] = str(self.owner_rng.choice(self.owners))
        record = self.service(object_name).create(values)
        self.counts[object_name] += 1
        return record

    def update(self, object_name: str, record_id: str, values: dict[str, Any]) -> None:
        self.service(object_name).update(record_id, values)


def seed(
    connection: Connection,
    actor: Actor,
    metadata_cache: MetadataCache,
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    random_seed: int = DEFAULT_RANDOM_SEED,
    today: dt.date | None = None,
    owners: Sequence[uuid.UUID] = (),
) -> dict[str, int]:
    """Create products, accounts with contacts, opportunities with line items, leads and
    tasks; return how many records of each object were created.

    Dates are spread around ``today`` (default: the current date): closed deals in the
    past, open ones ahead. Each record gets one of ``owners`` (user ids) at random.
    """
    if accounts < 1:
        raise ValueError("seed at least one account")
    rng = random.Random(random_seed)
    today = today or dt.date.today()
    writer = _Writer(
        connection, actor, metadata_cache.get(connection, actor.tenant_id), owners, rng
    )
    names = _Names(rng)
    products = [
        writer.create(
            "Product",
            {
                "Name": name,
                "ProductCode": code,
                "Family": family,
                "ListPrice": price,
                "Active": True,
                "Description": f"{name}. Family: {family}.",
            },
        )
        for name, code, family, price in PRODUCTS
    ]
    account_rows: list[dict[str, Any]] = []
    for number in range(accounts):
        account = _account(writer, rng, names, today, account_rows, number)
        contacts = _contacts(writer, rng, names, today, account)
        writer.update("Account", account["id"], {"PrimaryContact": contacts[0]["id"]})
        opportunities = _opportunities(writer, rng, today, account, contacts, products)
        for opportunity in opportunities:
            _opportunity_tasks(writer, rng, today, account, contacts, opportunity)
        account_rows.append({**account, "contacts": contacts, "opportunities": opportunities})
    for _ in range(max(1, accounts * 4 // 5)):
        _lead(writer, rng, names, today, account_rows)
    return dict(sorted(writer.counts.items()))


class _Names:
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
        local = f"{_ascii_slug(first, '')}.{_ascii_slug(last, '')}"
        candidate, number = f"{local}@{domain}", 2
        while candidate.lower() in self.emails:
            candidate, number = f"{local}{number}@{domain}", number + 1
        self.emails.add(candidate.lower())
        return candidate


def _account(
    writer: _Writer,
    rng: random.Random,
    names: _Names,
    today: dt.date,
    earlier: list[dict[str, Any]],
    number: int,
) -> dict[str, Any]:
    ((country, legal, cities),) = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)
    city, area, postal = rng.choice(cities)
    industry = rng.choice(list(INDUSTRIES))
    company = names.company(industry)
    account_type = rng.choices(
        ("Customer", "Prospect", "Partner", "Competitor", "Other"), weights=(45, 38, 10, 3, 4)
    )[0]
    employees = int(10 ** rng.uniform(1.2, 4.4))
    revenue = round(employees * rng.randint(70, 320), -1) * 1000
    parent = None
    if number >= 5 and rng.random() < 0.1:
        parent = rng.choice(earlier[:number])["id"]
    domain = f"{_ascii_slug(company)}.example"
    return writer.create(
        "Account",
        {
            "Name": f"{company} {rng.choice(legal)}",
            "Type": account_type,
            "Industry": industry,
            "Rating": rng.choices(("Hot", "Warm", "Cold"), weights=(2, 5, 3))[0],
            "Website": f"https://www.{domain}",
            "Phone": _phone(rng, country, area),
            "AnnualRevenue": revenue,
            "Employees": employees,
            "BillingStreet": f"{rng.randint(1, 480)} {rng.choice(STREETS)}",
            "BillingCity": city,
            "BillingPostalCode": _postal_code(rng, postal),
            "BillingCountry": country,
            "CustomerSince": (today - dt.timedelta(days=rng.randint(60, 2500))).isoformat()
            if account_type == "Customer"
            else None,
            "Active": rng.random() > 0.05,
            "ParentAccount": parent,
            "Description": f"{industry} company in {city}, {country}, with about {employees:,} "
            f"employees.\nFirst contact through {rng.choice(LEAD_SOURCES).lower()}.",
        },
    ) | {"_company": company, "_domain": domain, "_country": country, "_area": area, "_city": city}


def _contacts(
    writer: _Writer, rng: random.Random, names: _Names, today: dt.date, account: dict[str, Any]
) -> list[dict[str, Any]]:
    count = rng.randint(2, 4) if account["Type"] == "Customer" else rng.randint(1, 3)
    titles = rng.sample(TITLES, count)
    contacts: list[dict[str, Any]] = []
    for title, department in titles:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        birth_year = today.year - rng.randint(26, 64)
        contact = writer.create(
            "Contact",
            {
                "Name": f"{first} {last}",
                "Salutation": rng.choices(("Dr.", "Prof.", None), weights=(10, 3, 87))[0],
                "FirstName": first,
                "LastName": last,
                "Title": title,
                "Department": department,
                "Account": account["id"],
                "ReportsTo": contacts[0]["id"] if contacts else None,
                "Email": names.email(first, last, account["_domain"]),
                "Phone": _phone(rng, account["_country"], account["_area"]),
                "MobilePhone": _phone(rng, account["_country"], account["_area"])
                if rng.random() < 0.6
                else None,
                "LinkedIn": f"https://linkedin.example/in/{_ascii_slug(first + ' ' + last)}"
                f"-{rng.randint(100, 999)}"
                if rng.random() < 0.5
                else None,
                "PreferredChannels": rng.sample(CHANNELS, rng.randint(1, 2)),
                "BestTimeToCall": rng.choice(CALL_TIMES) if rng.random() < 0.7 else None,
                "Birthdate": dt.date(birth_year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
                if rng.random() < 0.4
                else None,
                "LeadSource": rng.choice(LEAD_SOURCES),
                "DoNotCall": rng.random() < 0.05,
                "EmailOptOut": rng.random() < 0.1,
                "MailingCity": account["_city"],
            },
        )
        contacts.append(contact)
    return contacts


def _opportunities(
    writer: _Writer,
    rng: random.Random,
    today: dt.date,
    account: dict[str, Any],
    contacts: list[dict[str, Any]],
    products: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    if account["Type"] in {"Competitor", "Other"}:
        return []
    count = rng.randint(1, 4) if account["Type"] == "Customer" else rng.randint(0, 2)
    company = account["_company"]
    created = []
    for purpose in rng.sample(DEAL_PURPOSES, count):
        stage = rng.choices(list(STAGES), weights=[w for w, _, _ in STAGES.values()])[0]
        _, probability, forecast = STAGES[stage]
        closed = stage.startswith("Closed")
        close_date = today + dt.timedelta(
            days=-rng.randint(5, 330) if closed else rng.randint(7, 180)
        )
        contacted = dt.datetime.combine(
            min(close_date, today) - dt.timedelta(days=rng.randint(0, 20)),
            dt.time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))),
            dt.UTC,
        )
        contact = rng.choice(contacts)
        lines = _line_items(rng, products, close_date) if rng.random() < 0.75 else []
        amount = (
            sum((line.pop("_total") for line in lines), Decimal(0))
            if lines
            else Decimal(rng.randint(4, 400) * 500)
        )
        opportunity = writer.create(
            "Opportunity",
            {
                "Name": f"{company} - {purpose}"[:120],
                "Account": account["id"],
                "PrimaryContact": contact["id"],
                "Amount": amount,
                "Stage": stage,
                "Probability": probability,
                "CloseDate": close_date.isoformat(),
                "Type": "New Business"
                if account["Type"] != "Customer"
                else rng.choice(("Existing Business - Upgrade", "Renewal", "New Business")),
                "ForecastCategory": forecast,
                # Derived, not drawn, so the random sequence (and the seeded data) is unchanged.
                "LossReason": LOSS_REASONS[len(purpose) % len(LOSS_REASONS)]
                if stage == "Closed Lost"
                else None,
                "LeadSource": rng.choice(LEAD_SOURCES),
                "Competitors": rng.sample(COMPETITORS, rng.randint(0, 2)) or None,
                "NextStep": None if closed else rng.choice(NEXT_STEPS),
                "LastContactedAt": contacted.isoformat(),
                "Private": rng.random() < 0.05,
                "ProposalNotes": None
                if stage in {"Prospecting", "Qualification"}
                else f"<p>Proposal for <strong>{account['Name']}</strong>, prepared for "
                f"{contact['Name']}.</p><ul><li>{purpose}</li><li>Payment terms: net 30</li></ul>",
            },
        )
        for line in lines:
            writer.create("OpportunityLineItem", {**line, "Opportunity": opportunity["id"]})
        created.append(opportunity)
    return created


def _line_items(
    rng: random.Random, products: list[dict[str, Any]], close_date: dt.date
) -> list[dict[str, Any]]:
    lines = []
    for product in rng.sample(products, rng.randint(1, 3)):
        low, high = QUANTITIES[product["Family"]]
        quantity = Decimal(rng.randint(low, high))
        price = Decimal(str(product["ListPrice"]))
        discount = Decimal(rng.choice((0, 0, 0, 5, 10, 12.5, 15, 20)))
        total = (quantity * price * (100 - discount) / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        lines.append(
            {
                "Product": product["id"],
                "Quantity": quantity,
                "UnitPrice": price,
                "Discount": discount,
                "_total": total,
                "ServiceDate": (close_date + dt.timedelta(days=30)).isoformat(),
            }
        )
    return lines


def _opportunity_tasks(
    writer: _Writer,
    rng: random.Random,
    today: dt.date,
    account: dict[str, Any],
    contacts: list[dict[str, Any]],
    opportunity: dict[str, Any],
) -> None:
    closed = opportunity["Stage"].startswith("Closed")
    for _ in range(rng.randint(0, 1) if closed else rng.randint(1, 2)):
        contact = next(
            (c for c in contacts if c["id"] == opportunity["PrimaryContact"]), contacts[0]
        )
        task_type = rng.choice(list(TASK_SUBJECTS))
        due = today + dt.timedelta(days=-rng.randint(1, 60) if closed else rng.randint(-10, 30))
        done = closed or due < today and rng.random() < 0.7
        _task(
            writer,
            rng,
            task_type,
            due,
            done,
            first=contact["FirstName"],
            company=account["Name"],
            Account=account["id"],
            Contact=contact["id"],
            Opportunity=opportunity["id"],
        )


def _lead(
    writer: _Writer,
    rng: random.Random,
    names: _Names,
    today: dt.date,
    accounts: list[dict[str, Any]],
) -> None:
    ((country, legal, cities),) = rng.choices(COUNTRIES, weights=COUNTRY_WEIGHTS)
    _, area, _ = rng.choice(cities)
    industry = rng.choice(list(INDUSTRIES))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    status = rng.choices([s for s, _ in LEAD_STATUSES], weights=[w for _, w in LEAD_STATUSES])[0]
    converted: dict[str, Any] = {}
    company = names.company(industry)
    if status == "Closed - Converted":
        account = rng.choice(accounts)
        contact = account["contacts"][0]
        company, first, last = account["_company"], contact["FirstName"], contact["LastName"]
        converted = {
            "ConvertedAccount": account["id"],
            "ConvertedContact": contact["id"],
            "ConvertedOpportunity": account["opportunities"][0]["id"]
            if account["opportunities"]
            else None,
            "ConvertedDate": (today - dt.timedelta(days=rng.randint(30, 400))).isoformat(),
        }
    domain = f"{_ascii_slug(company)}.example"
    employees = int(10 ** rng.uniform(1, 4))
    lead = writer.create(
        "Lead",
        {
            "Name": f"{first} {last}",
            "Company": f"{company} {rng.choice(legal)}",
            "Title": rng.choice(TITLES)[0],
            "Email": contact["Email"] if converted else names.email(first, last, domain),
            "Phone": _phone(rng, country, area),
            "Website": f"https://www.{domain}",
            "Status": status,
            "Rating": rng.choice(("Hot", "Warm", "Cold")),
            "LeadSource": rng.choice(LEAD_SOURCES),
            "Industry": industry,
            "Interests": rng.sample(list(QUANTITIES), rng.randint(1, 3)),
            "AnnualRevenue": round(employees * rng.randint(60, 300), -1) * 1000,
            "Employees": employees,
            "Score": rng.randint(5, 98),
            "Notes": f"Asked about {rng.choice(TASK_TOPICS)} at "
            f"{rng.choice(('the spring trade show', 'a webinar', 'our website'))}.",
            **converted,
        },
    )
    if status in {"Open - Not Contacted", "Working - Contacted"} and rng.random() < 0.6:
        due = today + dt.timedelta(days=rng.randint(-5, 14))
        _task(writer, rng, "Call", due, False, first=first, company=company, Lead=lead["id"])


def _task(
    writer: _Writer,
    rng: random.Random,
    task_type: str,
    due: dt.date,
    done: bool,
    *,
    first: str,
    company: str,
    **links: str,
) -> None:
    subject = TASK_SUBJECTS[task_type].format(
        first=first, company=company, topic=rng.choice(TASK_TOPICS)
    )
    reminder = None
    if not done:
        reminder = dt.datetime.combine(due, dt.time(8, 30), dt.UTC).isoformat()
    writer.create(
        "Task",
        {
            "Subject": subject[:160],
            "Type": task_type,
            "Status": "Completed"
            if done
            else rng.choice(("Not Started", "In Progress", "Waiting")),
            "Priority": rng.choices(("High", "Normal", "Low"), weights=(2, 6, 2))[0],
            "DueDate": due.isoformat(),
            "ReminderAt": reminder,
            "DurationMinutes": rng.choice((15, 30, 45, 60))
            if task_type in {"Call", "Meeting", "Demo"}
            else None,
            "Description": f"{task_type} regarding {company}.",
            **links,
        },
    )


def _phone(rng: random.Random, country: str, area: str) -> str:
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


def _postal_code(rng: random.Random, pattern: str) -> str:
    return re.sub("#", lambda _: str(rng.randint(0, 9)), pattern)


def _ascii_slug(text: str, separator: str = "-") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return separator.join(words)
