"""Email through the SMTP server in HERALD_MAIL_*, with authentik's content: the subject
prefix and title, the body, the key/value table and the link, as HTML and plain text.

Each successful send records an `email_sent` event as authentik does (the caller commits it
with the delivery's outcome). The SMTP password is only ever handed to smtplib.
"""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import PurePosixPath
from typing import Any

from flask import current_app, render_template
from jinja2 import TemplateError, TemplateNotFound

from webapp.events import record
from webapp.models import EventAction
from webapp.notifications.transports.base import OutgoingMessage, SendResult, TransportError
from webapp.notifications.transports.content import (
    absolute_link,
    event_user_fields,
    recipient_fields,
    string_context,
    title,
)
from webapp.notifications.transports.http import DELIVERY_HEADER

#: authentik's NOTIFICATION_SUMMARY_LENGTH: the subject's share of a body without an event.
SUMMARY_LENGTH = 75
TIMEOUT = 15.0  # seconds, for connecting and for each SMTP command
TEMPLATE_FOLDER = "email/"
DEFAULT_TEXT_TEMPLATE = "email/event_notification.txt"
EVENT_APP = "herald.notifications"


def send(message: OutgoingMessage) -> SendResult:
    config = current_app.config
    if not config.get("MAIL_HOST"):
        raise TransportError("email is not configured (set HERALD_MAIL_HOST)", permanent=True)
    recipient = message.recipient
    if recipient is None or not recipient.email.strip():
        who = recipient.username if recipient else "nobody"
        raise TransportError(f"user {who} has no email address", permanent=True)
    email = build_email(message)
    started = time.monotonic()
    _deliver(email, config)
    latency = round((time.monotonic() - started) * 1000)
    _record_sent(email)
    return SendResult(status_code=None, latency_ms=latency,
                      response_excerpt=f"accepted by {config['MAIL_HOST']}")


def build_email(message: OutgoingMessage) -> EmailMessage:
    """The message for a recipient with an address (send() has checked that)."""
    context = template_context(message)
    email = EmailMessage()
    email["Subject"] = " ".join((message.transport.email_subject_prefix + context["title"]).split())
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = formataddr((message.recipient.name, message.recipient.email))
    email["Message-ID"] = make_msgid(domain="herald")
    email[DELIVERY_HEADER] = str(message.delivery_key)
    text, html = _render(message.transport.email_template, context)
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email


def _render(html_template: str, context: dict[str, Any]) -> tuple[str, str]:
    """(plain text, HTML). Only templates under email/ qualify: the app's page templates
    need a request and would fail on every attempt."""
    if not html_template.startswith(TEMPLATE_FOLDER):
        raise TransportError(f"email template {html_template!r} is not in {TEMPLATE_FOLDER}",
                             permanent=True)
    try:
        return (render_template([_text_twin(html_template), DEFAULT_TEXT_TEMPLATE], **context),
                render_template(html_template, **context))
    except TemplateNotFound as exc:
        raise TransportError(f"email template {exc.name!r} does not exist",
                             permanent=True) from None
    except TemplateError as exc:
        raise TransportError(f"email template {html_template!r} failed: {exc}",
                             permanent=True) from None


def template_context(message: OutgoingMessage) -> dict[str, Any]:
    """What the templates show, in authentik's names (key_value, body, title, link, source)."""
    key_value = {**recipient_fields(message.recipient), **event_user_fields(message.event),
                 **dict(string_context(message.event))}
    link = absolute_link(message.hyperlink)
    return {
        "title": title(message, max_body=SUMMARY_LENGTH),
        "body": message.body,
        "key_value": key_value,
        "link": {"target": link, "label": "View event" if message.event else "Open"}
        if link else None,
        # authentik names the transport to administrators only, so they can find the rule.
        "source": {"from": message.transport.name} if message.recipient.is_admin else None,
    }


def _text_twin(html_template: str) -> str:
    return str(PurePosixPath(html_template).with_suffix(".txt"))


def _deliver(email: EmailMessage, config: Any) -> None:
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    try:
        with smtp_class(config["MAIL_HOST"], int(config["MAIL_PORT"]), timeout=TIMEOUT) as smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(email)
    except (smtplib.SMTPException, OSError) as exc:
        raise _smtp_error(exc, config["MAIL_HOST"]) from None


def _smtp_error(exc: smtplib.SMTPException | OSError, host: str) -> TransportError:
    """SMTP's 5xx replies are permanent by the protocol's own definition (RFC 5321)."""
    code, reply = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
    reason = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply or exc)
    reason = reason or type(exc).__name__
    return TransportError(f"SMTP server {host}: {reason}", status_code=code,
                          response_excerpt=reason[:1000],
                          permanent=code is not None and 500 <= code < 600)


def _record_sent(email: EmailMessage) -> None:
    html = email.get_body(("html",))
    record(EventAction.EMAIL_SENT, {
        "message": f"Email to {email['To']} sent",
        "subject": str(email["Subject"]),
        "body": html.get_content() if html is not None else "",
        "from_email": str(email["From"]),
        "to_email": [str(email["To"])],
    }, app=EVENT_APP)
