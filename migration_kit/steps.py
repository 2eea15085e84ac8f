"""The migration guide's steps, each a working app: ``create_app(step)``.

Step 0 is ``legacy_authorization`` itself and the last step is ``middleware_auth``; these are
the steps between, each the middleware server with a different ``wiring``.
"""

from legacy_authorization import auth as legacy_auth
from middleware_auth import app as middleware_app
from middleware_auth import auth
from migration_kit.adapter import as_middleware
from shared.policy import Policy
from socketio_handshake_auth.middleware import MiddlewareServer


# --8<-- [start:step1]
def step1_adapted(io: MiddlewareServer, policy: Policy) -> None:
    """Step 1: the new engine, the 0.9 functions unchanged behind the adapter."""
    authorization = as_middleware(legacy_auth.make_authorization(policy))
    admin_authorization = as_middleware(legacy_auth.make_admin_authorization(policy))
    io.use(authorization)
    io.of("/admin").use(authorization).use(admin_authorization)
# --8<-- [end:step1]


# --8<-- [start:step2]
def step2_native_authenticate(io: MiddlewareServer, policy: Policy) -> None:
    """Step 2: a native middleware authenticates; /admin's 0.9 check still runs adapted."""
    authenticate = auth.make_authenticate(policy)
    io.use(authenticate)
    io.of("/admin").use(authenticate).use(
        as_middleware(legacy_auth.make_admin_authorization(policy)))
# --8<-- [end:step2]


STEPS = {"step1": step1_adapted, "step2": step2_native_authenticate}


def create_app(step: str, **options):
    return middleware_app.create_app(wiring=STEPS[step], **options)
