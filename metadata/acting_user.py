"""The acting user in formulas: the ``$``-globals, as Python values for evaluation and as
SQL for formulas that run in PostgreSQL (``where=`` filters, formula fields and roll-ups
computed on read).

In SQL the acting user is a bind parameter, never text written into the statement:
statements are built once per metadata revision and shape (trellis.metadata.statements)
and serve every user, who arrive as :func:`actor_parameters`. ``$User.<Field>`` is then
a scalar subquery on the user's User record, in the same statement. The access gate
reads the same ``access_user`` parameter.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID

from trellis.actor import Actor
from trellis.errors import ValidationError

ACTOR_USER = "access_user"
# The globals that are bind parameters, beside $User.Id (``access_user``).
PARAMETER_GLOBALS = {
    "$User.Email": "access_email",
    "$Profile.Name": "access_profile",
    "$Organization.Name": "access_organization",
}
ACTOR_PARAMETERS = frozenset({ACTOR_USER, *PARAMETER_GLOBALS.values()})
BUILT_IN_USER_GLOBALS = ("Id", "Email")  # from the account, whatever the User object says


def profile_name(actor: Actor) -> str:
    return "admin" if actor.is_admin else "standard"


def actor_globals(actor: Actor) -> dict[str, Any]:
    """The globals known from the actor alone, as formula evaluation reads them."""
    return {
        "$User.Id": str(actor.user_id) if actor.user_id else None,
        "$User.Email": actor.email,
        "$Profile.Name": profile_name(actor),
        "$Organization.Id": str(actor.tenant_id),
        "$Organization.Name": actor.tenant_slug,
    }


def actor_parameters(actor: Actor) -> dict[str, Any]:
    """The bind parameters of every statement whose formulas may read the actor."""
    return {
        ACTOR_USER: actor.user_id,
        "access_email": actor.email,
        "access_profile": profile_name(actor),
        "access_organization": actor.tenant_slug,
    }


def actor_user() -> sa.BindParameter[Any]:
    """The acting user's id as a bind parameter (None: the platform itself)."""
    return sa.bindparam(ACTOR_USER, None, type_=UUID(as_uuid=True))


def reads_actor(expression: sa.ClauseElement) -> bool:
    """Whether SQL built from formulas reads the acting user (directly, or through a
    formula field or roll-up that does)."""
    compiled = expression.compile(dialect=postgresql.dialect())
    return not ACTOR_PARAMETERS.isdisjoint(compiled.params)


def refuse_acting_user(expression: sa.ClauseElement, what: str) -> sa.ClauseElement:
    """``expression``, unless it reads the acting user where ``what`` (a criteria sharing
    rule, a scheduled automation's filter) runs with none."""
    if reads_actor(expression):
        raise ValidationError(
            f"{what} runs with no acting user: it cannot read $User, $Profile or "
            "$Organization.Name, nor a formula field that does. Use Owner.<Field> for the "
            "fields of the record owner's User record."
        )
    return expression
