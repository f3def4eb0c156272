"""One palette: each action's colour and category, for badges, charts, markers and legends.

Colours come from the Okabe-Ito and Paul Tol sets, chosen to stay distinguishable with the
common colour-vision deficiencies; the text colour on each is picked for WCAG contrast, so
a badge is readable whatever its colour. A colour means the same action everywhere.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache

from webapp.models import EventAction

A = EventAction
AUTHENTICATION, DIRECTORY, SECURITY, SYSTEM, CUSTOM = (
    "authentication", "directory changes", "security", "system", "custom")
CATEGORIES = (AUTHENTICATION, DIRECTORY, SECURITY, SYSTEM, CUSTOM)
CATEGORY_COLOURS = {AUTHENTICATION: "#009E73", DIRECTORY: "#0072B2", SECURITY: "#D55E00",
                    SYSTEM: "#6F6F6F", CUSTOM: "#AA4499"}
#: action -> (category, colour); actions not listed take their category's colour.
ACTIONS: dict[str, tuple[str, str]] = {
    A.LOGIN: (AUTHENTICATION, "#009E73"),
    A.LOGIN_FAILED: (AUTHENTICATION, "#E69F00"),
    A.LOGOUT: (AUTHENTICATION, "#56B4E9"),
    A.PASSWORD_SET: (AUTHENTICATION, "#44AA99"),
    A.AUTHORIZE_APPLICATION: (AUTHENTICATION, "#117733"),
    A.IMPERSONATION_STARTED: (SECURITY, "#CC6677"),
    A.IMPERSONATION_ENDED: (SECURITY, "#CC6677"),
    A.INVITE_USED: (AUTHENTICATION, "#44AA99"),
    A.SOURCE_LINKED: (AUTHENTICATION, "#44AA99"),
    A.FLOW_EXECUTION: (AUTHENTICATION, "#88CCEE"),
    A.MODEL_CREATED: (DIRECTORY, "#0072B2"),
    A.MODEL_UPDATED: (DIRECTORY, "#332288"),
    A.MODEL_DELETED: (DIRECTORY, "#CC79A7"),
    A.USER_WRITE: (DIRECTORY, "#88CCEE"),
    A.SUSPICIOUS_REQUEST: (SECURITY, "#D55E00"),
    A.SECRET_VIEW: (SECURITY, "#882255"),
    A.SECRET_ROTATE: (SECURITY, "#882255"),
    A.SYSTEM_EXCEPTION: (SYSTEM, "#882255"),
    A.SYSTEM_TASK_EXCEPTION: (SYSTEM, "#882255"),
    A.POLICY_EXCEPTION: (SYSTEM, "#882255"),
    A.PROPERTY_MAPPING_EXCEPTION: (SYSTEM, "#882255"),
    A.CONFIGURATION_ERROR: (SYSTEM, "#AA3377"),
    A.CONFIGURATION_WARNING: (SYSTEM, "#DDCC77"),
}


#: Custom actions are many and unknown in advance: each takes one of these purples and pinks
#: (Tol's muted and vibrant sets), always the same one for the same name.
CUSTOM_SHADES = ("#AA4499", "#882255", "#CC6677", "#EE3377", "#994455", "#EE99AA", "#AA3377")


@dataclass(frozen=True)
class Swatch:
    action: str
    category: str
    colour: str
    text: str  # black or white, whichever reads better on `colour`


@cache
def swatch(action: str) -> Swatch:
    category, colour = ACTIONS.get(action, (None, None))
    if category is None and action.startswith(A.CUSTOM_PREFIX):
        category = CUSTOM
        colour = CUSTOM_SHADES[zlib.crc32(action.encode()) % len(CUSTOM_SHADES)]
    elif category is None:
        category, colour = SYSTEM, CATEGORY_COLOURS[SYSTEM]
    return Swatch(action, category, colour, _text_on(colour))


def grouped(actions: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """Actions by category, in the palette's category order (for pickers and legends)."""
    groups: dict[str, list[str]] = {category: [] for category in CATEGORIES}
    for action in actions:
        groups[swatch(action).category].append(action)
    return {category: found for category, found in groups.items() if found}


def _text_on(colour: str) -> str:
    """White or black text, by WCAG contrast against the colour."""
    luminance = _relative_luminance(colour)
    on_white = 1.05 / (luminance + 0.05)
    on_black = (luminance + 0.05) / 0.05
    return "#ffffff" if on_white >= on_black else "#000000"


def _relative_luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
