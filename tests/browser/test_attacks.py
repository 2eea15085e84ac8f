"""Another page on the same site, in real Chromium: it cannot obtain an authenticated session.

The victim logged in on the server's page (the HttpOnly, SameSite=Strict ``token`` cookie is
set). The attacker's page is on another port of the same host: the same *site*, so the
browser sends that cookie with every request the page makes to the server.
"""

import pytest

from tests.browser.conftest import serve_foreign_page, until_true_in_page

pytestmark = pytest.mark.browser

ATTACK = """<!doctype html><title>attacker</title><body><script>
  window.results = {};
  // Engine.IO's JSONP transport answers with a script calling ___eio[j](packet).
  window.___eio = [packet => { window.results.jsonp = packet; }];
  function load(name, src) {
    const script = document.createElement("script");
    script.onload = () => { window.results[name] = window.results[name] || "loaded"; };
    script.onerror = () => { window.results[name] = window.results[name] || "refused"; };
    script.src = src;
    document.body.append(script);
  }
  const base = "SERVER/socket.io/?EIO=4&transport=polling";
  load("jsonp", base + "&j=0");
  load("polling", base);
</script></body>"""


@pytest.fixture
async def victim(server, context):
    """The server, and a browser that logged in on its page (the cookie is set)."""
    page = await context.new_page()
    await page.goto(server + "/")
    status = await page.evaluate("""async () => (await fetch("/login", {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({username: "alice", password: "wonderland"})})).status""")
    assert status == 200
    return server


async def test_a_page_on_another_port_cannot_obtain_a_session(victim, servers, context,
                                                              refusals):
    attacker = await serve_foreign_page(servers, ATTACK.replace("SERVER", victim))
    page = await context.new_page()
    await page.goto(attacker + "/")
    await until_true_in_page(page, "Object.keys(window.results).length === 2")
    results = await page.evaluate("window.results")
    assert results == {"jsonp": "refused", "polling": "refused"}, results
    assert set(refusals.codes) <= {"jsonp_disabled", "foreign_origin"}
