"""JavaScript's rules, where the emulated Socket.IO code relied on them."""

import math

MISSING = object()  # JavaScript's ``undefined`` where Python's ``None`` stands for ``null``


def js_truthy(value) -> bool:
    """``if (value)``: only ``undefined``/``null``, ``false``, ``0``, ``NaN`` and ``""`` are
    falsy. Unlike Python, an empty object or array is truthy: ``next({})`` is an error."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def js_property(value, name: str):
    """``value[name]``: a key of a dict, an attribute of anything else; ``MISSING`` if absent.
    A Python exception's message is its ``str()``, as a JavaScript Error's ``message``."""
    if isinstance(value, dict):
        return value.get(name, MISSING)
    if name == "message" and isinstance(value, BaseException):
        return str(value)
    return getattr(value, name, MISSING) if not isinstance(value, str | list) else MISSING
