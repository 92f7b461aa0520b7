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

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.examples.sales_crm.data import (
    CALL_TIMES,
    CHANNELS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DEFAULT_ACCOUNTS,
    DEFAULT_RANDOM_SEED,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEAD_SOURCES,
    PRODUCTS,
    STREETS,
    TITLES,
)
from trellis.examples.sales_crm.identifiers import Names, ascii_slug, phone, postal_code
from trellis.examples.sales_crm.pipeline import (
    create_lead,
    create_opportunities,
    create_opportunity_tasks,
)
from trellis.examples.sales_crm.writer import Writer
from trellis.metadata.compiled import MetadataCache


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
    writer = Writer(connection, actor, metadata_cache.get(connection, actor.tenant_id), owners, rng)
    names = Names(rng)
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
        opportunities = create_opportunities(writer, rng, today, account, contacts, products)
        for opportunity in opportunities:
            create_opportunity_tasks(writer, rng, today, account, contacts, opportunity)
        account_rows.append({**account, "contacts": contacts, "opportunities": opportunities})
    for _ in range(max(1, accounts * 4 // 5)):
        create_lead(writer, rng, names, today, account_rows)
    return dict(sorted(writer.counts.items()))


def _account(
    writer: Writer,
    rng: random.Random,
    names: Names,
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
    domain = f"{ascii_slug(company)}.example"
    return writer.create(
        "Account",
        {
            "Name": f"{company} {rng.choice(legal)}",
            "Type": account_type,
            "Industry": industry,
            "Rating": rng.choices(("Hot", "Warm", "Cold"), weights=(2, 5, 3))[0],
            "Website": f"https://www.{domain}",
            "Phone": phone(rng, country, area),
            "AnnualRevenue": revenue,
            "Employees": employees,
            "BillingStreet": f"{rng.randint(1, 480)} {rng.choice(STREETS)}",
            "BillingCity": city,
            "BillingPostalCode": postal_code(rng, postal),
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
    writer: Writer, rng: random.Random, names: Names, today: dt.date, account: dict[str, Any]
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
                "Phone": phone(rng, account["_country"], account["_area"]),
                "MobilePhone": phone(rng, account["_country"], account["_area"])
                if rng.random() < 0.6
                else None,
                "LinkedIn": f"https://linkedin.example/in/{ascii_slug(first + ' ' + last)}"
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
