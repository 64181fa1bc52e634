"""Contact details in a customers table: which columns they are, so they never become features.

A CRM export carries the name, phone, e-mail and preferred channel next to the plan and the
segment (the channel is shown with them but stays a feature: ``CHANNEL_COLUMNS``). The
retention page needs them (who to call, how); the model must never learn from
them (a name is no reason to leave, and a model that splits on e-mail domains leaks identity
into scores). Columns are recognised by name from a list (``Settings.contact_columns``,
``CXCHURN_CONTACT_COLUMNS``; the default covers common English and Turkish spellings), each
with a role the page shows it under.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from cxchurn.settings import DEFAULT_CONTACT_COLUMNS, contact_key

ROLES: Final = ("name", "phone", "email", "channel")
# How a customer likes to be reached: shown beside the contact details, but not personal data
# and a fair feature (people who prefer the call centre leave differently), so it is not in
# the default contact list that keeps columns out of the model.
CHANNEL_COLUMNS: Final = ("preferred_channel", "contact_channel", "tercih_edilen_kanal",
                          "iletisim_kanali")


def shown_columns(names: Sequence[str]) -> tuple[str, ...]:
    """What the page shows as contact details: the contact list plus the channel columns."""
    return (*names, *CHANNEL_COLUMNS)
# substrings of a folded column name that say which role it plays (first match wins)
_ROLE_HINTS: Final = (
    ("email", ("mail", "posta")),
    ("phone", ("phone", "mobile", "tel", "gsm")),
    ("channel", ("channel", "kanal")),
)


def contact_role(column: str) -> str:
    """The role a contact column plays: email, phone, channel, else name."""
    key = contact_key(column)
    for role, hints in _ROLE_HINTS:
        if any(h in key for h in hints):
            return role
    return "name"


def contact_columns(columns: Iterable[str],
                    names: Sequence[str] = DEFAULT_CONTACT_COLUMNS) -> list[str]:
    """The columns (as spelled in the table) whose folded name is in ``names``."""
    wanted = {contact_key(n) for n in names}
    return [c for c in columns if contact_key(str(c)) in wanted]


def contact_roles(columns: Iterable[str], names: Sequence[str] = DEFAULT_CONTACT_COLUMNS
                  ) -> dict[str, list[str]]:
    """Role -> the table's contact columns playing it, in table order (e.g. first and last
    name are both "name": the page joins them)."""
    out: dict[str, list[str]] = {}
    for column in contact_columns(columns, names):
        out.setdefault(contact_role(column), []).append(column)
    return out


__all__ = ["CHANNEL_COLUMNS", "ROLES", "contact_columns", "contact_role", "contact_roles",
           "shown_columns"]
