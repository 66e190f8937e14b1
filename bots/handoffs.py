"""The hand-off inbox's use case: tell the team of a new request (e-mail, signed webhook) and
carry a person's reply to the customer (the widget conversation, and e-mail when they left an
address).

Sending happens on a background thread: an SMTP server or webhook receiver that is slow or
down must never hold up, or fail, the customer's request. Each send is first recorded as a
pending delivery, then marked sent or failed with the reason, and the inbox shows failures."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import httpx
from sqlalchemy.orm import sessionmaker

from bots.settings import Settings
from bots.store import handoffs as store
from bots.store import tables as t

log = logging.getLogger("prompteur.handoffs")

SIGNATURE_HEADER = "X-Prompteur-Signature"
SEND_TIMEOUT_S = 15


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`: the receiver recomputes it with the shared
    secret and compares in constant time before trusting the payload."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Handoffs:
    def __init__(self, sessions: sessionmaker, settings: Settings):
        self.sessions = sessions
        self.settings = settings
        # Two threads: one slow SMTP server does not queue the webhook behind it.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="handoff-send")

    def stop(self) -> None:
        # Sends already running finish (each has a timeout); queued ones stay `pending`.
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- a new request: tell the team ---------------------------------------------------
    def announce(self, handoff_id: str) -> None:
        targets = [("team_email", address) for address in self.settings.handoff_notify_emails]
        if self.settings.handoff_webhook_url:
            targets.append(("team_webhook", self.settings.handoff_webhook_url))
        self._queue(handoff_id, targets)

    # --- the team's reply: to the conversation now, by e-mail in the background ---------
    def reply(self, row: t.HandoffRequest, text: str, author: str | None) -> None:
        with self.sessions() as s:
            stored = s.get(t.HandoffRequest, row.id)
            assert stored is not None
            store.add_reply(s, stored, text, author)
        if row.email:
            self._queue(row.id, [("customer_email", row.email)], reply=text)

    def _queue(self, handoff_id: str, targets: list[tuple[str, str]], reply: str | None = None) -> None:
        for kind, target in targets:
            with self.sessions() as s:
                delivery = store.add_delivery(s, handoff_id, kind, target)
            self._pool.submit(self._send, delivery.id, handoff_id, kind, target, reply)

    def _send(self, delivery_id: str, handoff_id: str, kind: str, target: str, reply: str | None) -> None:
        error = None
        try:
            with self.sessions() as s:
                row = s.get(t.HandoffRequest, handoff_id)
                bot = s.get(t.Bot, row.bot_id) if row else None
                if row is None or bot is None:
                    return
                payload = _payload(row, bot)
            if kind == "team_webhook":
                self._post_webhook(target, payload)
            elif kind == "team_email":
                self._mail(target, f"New hand-off request for {bot.name}: {row.name}", _team_text(payload))
            else:
                self._mail(target, f"Re: your question to {bot.name}", _customer_text(row, reply or "", bot.name))
        except Exception as err:  # noqa: BLE001 - any failure is recorded and shown, never raised
            error = f"{type(err).__name__}: {err}"[:500]
            log.warning("hand-off %s: %s to %s failed: %s", handoff_id, kind, target, error)
        with self.sessions() as s:
            store.finish_delivery(s, delivery_id, error)

    def _post_webhook(self, url: str, payload: dict) -> None:
        body = json.dumps({"event": "handoff.created", "sent_at": int(time.time()), "handoff": payload}).encode()
        secret = self.settings.handoff_webhook_secret or ""
        response = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)},
            timeout=SEND_TIMEOUT_S,
        )
        if response.status_code >= 300:
            raise RuntimeError(f"the receiver answered HTTP {response.status_code}")

    def _mail(self, to: str, subject: str, text: str) -> None:
        settings = self.settings
        if not settings.smtp_host:
            raise RuntimeError("no SMTP server is set (PROMPTEUR_SMTP_HOST): the e-mail was not sent")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
        message.set_content(text)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SEND_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)


def _payload(row: t.HandoffRequest, bot: t.Bot) -> dict:
    return {
        "id": row.id,
        "bot_id": bot.id,
        "bot_name": bot.name,
        "conversation_id": row.conversation_id,
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "message": row.message,
        "created_at": row.created_at.isoformat(),
    }


def _team_text(p: dict) -> str:
    contact = " / ".join(x for x in (p["email"], p["phone"]) if x)
    return (
        f"{p['name']} ({contact}) asked for a person to follow up with {p['bot_name']}:\n\n"
        f"{p['message']}\n\nOpen the builder's Conversations page, Hand-offs tab, to answer "
        f"(request {p['id']}, conversation {p['conversation_id']})."
    )


def _customer_text(row: t.HandoffRequest, reply: str, bot_name: str) -> str:
    return (
        f"Hello {row.name},\n\n{reply}\n\n"
        f"— The support team ({bot_name})\n\nYou wrote: {row.message}\n"
        "This reply is also in the chat window, if it is still open."
    )
