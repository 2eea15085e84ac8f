"""The scripts of ``originals/oracle/scripts.js``, in Python, for our two engines.

``?do=call:A,B`` makes the authorization function answer ``callback(A, B)`` (0.9) or the
middleware ``next(A)`` (4.8); the other names are behaviours. Each JavaScript value has its
nearest Python value: ``undefined`` and ``null`` are both ``None``, unless a field is left out.
"""

import asyncio

JS_VALUES = {
    "undefined": lambda: None,
    "null": lambda: None,
    "false": lambda: False,
    "true": lambda: True,
    "0": lambda: 0,
    "1": lambda: 1,
    "NaN": lambda: float("nan"),
    "''": lambda: "",
    "'boom'": lambda: "boom",
    "{}": lambda: {},
    "[]": lambda: [],
    "Error": lambda: Exception("boom"),
    "Error+data": lambda: error_with(data={"code": "bad_credentials"}),
    "Error+data=null": lambda: error_with(data=None),
    "{message+data}": lambda: {"message": "plain", "data": {"code": 1}},
}


def error_with(**fields) -> Exception:
    err = Exception("boom")
    for name, value in fields.items():
        setattr(err, name, value)
    return err


def script(name: str, answer):
    """What the scripted function does with ``answer`` (``callback`` or ``next``)."""
    if name.startswith("call:"):
        args = [JS_VALUES[value]() for value in name[5:].split(",")]
        return lambda: answer(*args)

    async def later():
        await asyncio.sleep(0.02)
        answer(None, True)

    def throws():
        raise Exception("boom")

    async def rejects():
        raise Exception("boom")

    def twice():
        answer(None, True)
        answer(None, True)

    def error_then_ok():
        answer(Exception("boom"))
        answer(None, True)

    behaviours = {"async": later, "throws": throws, "rejects": rejects, "never": lambda: None,
                  "twice": twice, "error-then-ok": error_then_ok}
    return behaviours[name]
