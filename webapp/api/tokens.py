"""`core/tokens/`: API tokens. A regular user sees and manages only their own; a superuser
sees everyone's. The key is in the creation response only (Herald stores its hash)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from spectree import Response
from sqlalchemy.orm import selectinload

from webapp.api.directory_schemas import PaginatedTokenList, Token, TokenRequest, TokenWithKey
from webapp.api.pagination import PageQuery, entities, page_of, page_response
from webapp.api.schemas import ERRORS
from webapp.api.serializers import token_to_dict
from webapp.api.spec import api, bp, json_body, json_response
from webapp.core.extensions import db
from webapp.directory import accounts
from webapp.models import Group as GroupRow
from webapp.models import Token as TokenRow
from webapp.models import User as UserRow
from webapp.web.security import for_any_user

TAGS = ("core",)


def _visible() -> sa.Select:
    """The tokens the caller may see: all for an administrator, otherwise their own."""
    keys = sa.select(TokenRow.id)
    return keys if current_user.is_admin else keys.where(TokenRow.user_id == current_user.id)


@bp.get("/core/tokens/")
@for_any_user
@api.validate(query=PageQuery, resp=Response(HTTP_200=PaginatedTokenList, **ERRORS), tags=TAGS)
def list_tokens(query: PageQuery):
    order = (TokenRow.identifier, TokenRow.id)
    page = page_of(_visible(), order, query,
                   entities(TokenRow, order, selectinload(TokenRow.user)
                            .selectinload(UserRow.groups).selectinload(GroupRow.parent)))
    return page_response(page, token_to_dict)


@bp.get("/core/tokens/<identifier>/")
@for_any_user
@api.validate(resp=Response(HTTP_200=Token, **ERRORS), tags=TAGS)
def get_token(identifier: str):
    return json_response(token_to_dict(_token_or_404(identifier)))


@bp.post("/core/tokens/")
@for_any_user
@api.validate(json=TokenRequest, resp=Response(HTTP_201=TokenWithKey, **ERRORS), tags=TAGS)
def create_token(json: TokenRequest):
    json = json_body(json)
    try:
        token, key = accounts.create_token(
            current_user, identifier=json.identifier, description=json.description,
            expires=None if json.expiring is False else json.expires)
    except accounts.AccountError as exc:
        abort(json_response({"identifier": [str(exc)]}, 400))
    body = token_to_dict(token) | {"key": key}
    db.session.commit()
    return json_response(body, 201)


@bp.delete("/core/tokens/<identifier>/")
@for_any_user
@api.validate(resp=Response("HTTP_204", **ERRORS), tags=TAGS)
def delete_token(identifier: str):
    db.session.delete(_token_or_404(identifier))
    db.session.commit()
    return "", 204


def _token_or_404(identifier: str) -> TokenRow:
    """Someone else's token is 404 to a regular user: its existence is not theirs to know."""
    token_id = db.session.scalar(_visible().where(TokenRow.identifier == identifier))
    if token_id is None:
        abort(json_response({"detail": "No Token matches the given query."}, 404))
    return db.session.get_one(TokenRow, token_id)
