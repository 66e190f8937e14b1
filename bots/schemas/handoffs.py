"""The hand-off inbox as the builder reads it: one request with its conversation and the
e-mails and webhooks sent about it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from bots.schemas.conversations import Handoff, StoredMessage

# new: nobody has it yet; assigned: someone on the team has it; answered: a person replied;
# closed: done (assigning it again reopens it).
HandoffStatus = Literal["new", "assigned", "answered", "closed"]
HANDOFF_STATUSES: tuple[HandoffStatus, ...] = ("new", "assigned", "answered", "closed")


class Delivery(BaseModel):
    id: str
    kind: str  # team_email | team_webhook | customer_email
    target: str
    status: str  # pending | sent | failed
    error: str | None
    created_at: str
    finished_at: str | None


class HandoffDetail(BaseModel):
    handoff: Handoff
    channel: str
    # The conversation up to now (and the team's replies, role "staff"): the context.
    messages: list[StoredMessage]
    deliveries: list[Delivery]
