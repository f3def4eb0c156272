"""Choosing in a search-as-you-type picker (templates/partials/_picker.html), as people do."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


def pick(scope: Page | Locator, label: str, typed: str, choice: str) -> None:
    """Type `typed` into the picker labelled `label` and click the match labelled `choice`;
    `scope` narrows the search for the picker (a binding row has its own "Group")."""
    box = scope.get_by_role("combobox", name=label, exact=True)
    box.page.wait_for_load_state()  # typing before the picker's script listens shows no matches
    box.fill(typed)
    box.page.locator(f'#{box.get_attribute("aria-controls")} '
                     f'[role=option][data-label="{choice}"]').click()
    expect(box).to_have_value(choice)
