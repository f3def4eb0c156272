"""`make docs`: write docs/configuration.md from the code's own list of settings.

The reference is generated, never edited by hand, so it cannot drift from what Herald reads:
tests/unit/test_config_reference.py fails when the file differs from render() or when code
reads a key that SETTINGS does not declare.

    python -m scripts.config_reference
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from webapp.core.config import SETTINGS

TABLE_SAFE = str.maketrans({"|": r"\|"})  # a pipe would end the table cell
REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

HEADER = """\
# Configuration reference

<!-- Generated from SETTINGS in webapp/core/config.py by `make docs`; do not edit by hand. -->

Herald reads its configuration from environment variables named `HERALD_` plus the setting's
name. Values are JSON-decoded where they parse (`true`, `25`, `["10.0.0.0/8"]`) and taken as
plain strings otherwise, so `HERALD_SCHEDULER=true` is a boolean and
`HERALD_MAIL_FROM=herald@example.com` a string. A variable that is not set keeps the default
below.

| variable | default | meaning |
| --- | --- | --- |
"""


def render() -> str:
    """The whole reference, one table row per setting, in the order SETTINGS declares them."""
    rows = (f"| `HERALD_{setting.name}` | {_default(setting.default)} | "
            f"{setting.help.translate(TABLE_SAFE)} |\n" for setting in SETTINGS)
    return HEADER + "".join(rows)


def _default(value: Any) -> str:
    """A default as it would be written in the environment: strings bare, the rest as JSON."""
    if value is None:
        return "unset"
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def main() -> None:
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(render(), encoding="utf-8")
    print(f"Wrote {REFERENCE} ({len(SETTINGS)} settings).")


if __name__ == "__main__":
    main()
