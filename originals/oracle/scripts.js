// What a scripted authorization function or middleware does, by name: the oracle suite asks
// for one with `?do=NAME` (and `?ns=NAME` for /admin) and runs the same names on the Python
// engines (tests/oracle/scripts.py), so the real servers and ours answer the same script.
"use strict";

// The values JavaScript calls truthy or falsy, as the scripts pass them.
const VALUES = {
  "undefined": () => undefined,
  "null": () => null,
  "false": () => false,
  "true": () => true,
  "0": () => 0,
  "1": () => 1,
  "NaN": () => NaN,
  "''": () => "",
  "'boom'": () => "boom",
  "{}": () => ({}),
  "[]": () => [],
  "Error": () => new Error("boom"),
  "Error+data": () => Object.assign(new Error("boom"), { data: { code: "bad_credentials" } }),
  "Error+data=null": () => Object.assign(new Error("boom"), { data: null }),
  "{message+data}": () => ({ message: "plain", data: { code: 1 } }),
};

// "call:A,B" answers once with those values; the other names are behaviours.
function script(name, answer) {
  if (name.startsWith("call:")) {
    const args = name.slice(5).split(",").map((v) => VALUES[v]());
    return () => answer(...args);
  }
  switch (name) {
    case "async": return () => setTimeout(() => answer(null, true), 20);
    case "throws": return () => { throw new Error("boom"); };
    case "rejects": return async () => { throw new Error("boom"); };
    case "never": return () => {};
    case "twice": return () => { answer(null, true); answer(null, true); };
    case "error-then-ok": return () => { answer(new Error("boom")); answer(null, true); };
    default: throw new Error(`unknown script ${name}`);
  }
}

module.exports = { script, VALUES };
