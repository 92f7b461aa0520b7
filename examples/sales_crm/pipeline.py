"""The sales pipeline part of the seed: opportunities with their line items, leads, and
the tasks that follow them up."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from trellis.examples.sales_crm.data import (
    COMPETITORS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DEAL_PURPOSES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    LOSS_REASONS,
    NEXT_STEPS,
    QUANTITIES,
    STAGES,
    TASK_SUBJECTS,
    TASK_TOPICS,
    TITLES,
)
from trellis.examples.sales_crm.identifiers import Names, ascii_slug, phone
from trellis.examples.sales_crm.writer import Writer


def create_opportunities(
    writer: Writer,
    rng: random.Random,
    today: dt.date,
    account: dict[str, Any],
    contacts: list[dict[str, Any]],
    products: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    if account["Type"] in {"Competitor", "Other"}:
        return []
    count = rng.randint(1, 4) if account["Type"] == "Customer" else rng.randint(0, 2)
    created = []
    for purpose in rng.sample(DEAL_PURPOSES, count):
        stage = rng.choices(list(STAGES), weights=[w for w, _, _ in STAGES.values()])[0]
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
            _opportunity_values(
                rng, account, contact, purpose, stage, close_date, contacted, amount
            ),
        )
        for line in lines:
            writer.create("OpportunityLineItem", {**line, "Opportunity": opportunity["id"]})
        created.append(opportunity)
    return created


def _opportunity_values(
    rng: random.Random,
    account: dict[str, Any],
    contact: dict[str, Any],
    purpose: str,
    stage: str,
    close_date: dt.date,
    contacted: dt.datetime,
    amount: Decimal,
) -> dict[str, Any]:
    """An opportunity's fields; the draws come in the order the seed has always made them."""
    _, probability, forecast = STAGES[stage]
    closed = stage.startswith("Closed")
    company = account["_company"]
    return {
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
    }


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


def create_opportunity_tasks(
    writer: Writer,
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


def create_lead(
    writer: Writer,
    rng: random.Random,
    names: Names,
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
    domain = f"{ascii_slug(company)}.example"
    employees = int(10 ** rng.uniform(1, 4))
    lead = writer.create(
        "Lead",
        {
            "Name": f"{first} {last}",
            "Company": f"{company} {rng.choice(legal)}",
            "Title": rng.choice(TITLES)[0],
            "Email": contact["Email"] if converted else names.email(first, last, domain),
            "Phone": phone(rng, country, area),
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
    writer: Writer,
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
