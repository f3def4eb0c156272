"""Cleansing: no value under a sensitive key survives, at any depth; input is never mutated."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from webapp.events.sanitize import MASK, cleanse, is_sensitive_key

SENSITIVE = ["password", "api_key", "Token", "client_secret", "AUTHORIZATION", "signature",
             "HTTP_COOKIE", "x-goauthentik.io/key", "passphrase"]
ALLOWED = ["passing", "password_change_date", "auth_method", "auth_method_args",
           "authorized_application"]
ORDINARY = ["name", "email", "path", "count", "items", "user"]

keys = st.sampled_from(SENSITIVE + ALLOWED + ORDINARY) | st.text(max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)


def leaked_values(original, cleansed, under_secret=False):
    """Scalars of the original that are still there below a sensitive key."""
    if under_secret:
        if cleansed != MASK:
            yield original
        return
    if isinstance(original, dict):
        for key, value in original.items():
            yield from leaked_values(value, cleansed[key], is_sensitive_key(key))
    elif isinstance(original, list):
        for value, out in zip(original, cleansed, strict=True):
            yield from leaked_values(value, out)


@given(st.dictionaries(keys, documents, max_size=6))
def test_nothing_under_a_sensitive_key_leaks_at_any_depth(document):
    assert list(leaked_values(document, cleanse(document))) == []


@given(st.dictionaries(keys, documents, max_size=6))
def test_cleansing_never_mutates_its_input(document):
    before = copy.deepcopy(document)
    cleanse(document)
    assert document == before


@given(st.dictionaries(st.sampled_from(ORDINARY + ALLOWED), scalars, max_size=6))
def test_ordinary_and_allowed_keys_are_kept(document):
    assert cleanse(document) == document


def test_a_secret_nested_under_an_ordinary_key_is_masked():
    cleansed = cleanse({"request": {"args": {"token": "abc", "page": "2"}},
                        "items": [{"password": "x"}, {"name": "y"}]})
    assert cleansed == {"request": {"args": {"token": MASK, "page": "2"}},
                        "items": [{"password": MASK}, {"name": "y"}]}


def test_a_structure_under_a_sensitive_key_is_masked_whole():
    assert cleanse({"credentials": "x", "secret": {"value": "s3cr3t"}, "keys": ["a", "b"]}) == {
        "credentials": "x", "secret": MASK, "keys": MASK}


def test_the_exceptions_match_whole_keys_only():
    assert cleanse({"auth_method": "password", "auth_method_token": "t"}) == {
        "auth_method": "password", "auth_method_token": MASK}
