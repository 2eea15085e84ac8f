"""User code, 0.9 style: the functions an app author handed to ``io.set('authorization', …)``.

Socket.IO 0.9 (Node):  io.set('authorization', function (handshakeData, callback) {…})
"""

from shared.policy import Identity, Policy, Refusal, credentials_in


def make_authorization(policy: Policy):
    # --8<-- [start:authorize]
    async def authorization(handshake_data, callback):
        """Runs once per connection, on the HTTP handshake, before any socket exists."""
        session_id = policy.sessions.id_in(handshake_data)  # parsed from its Cookie header
        handshake_data["session"] = await policy.sessions.get(session_id, handshake_data["secure"])
        presented = credentials_in(handshake_data, handshake_data["session"])
        client = policy.client(handshake_data["address"]["address"], handshake_data["headers"])
        verdict = await policy.authenticate(presented, client=client)
        if isinstance(verdict, Refusal):
            return callback(None, False)  # 403 "handshake unauthorized"; the reason stays here
        handshake_data.update(verdict.as_dict())  # in place: this becomes socket.handshake
        callback(None, True)
    # --8<-- [end:authorize]

    return authorization


def make_admin_authorization(policy: Policy):
    # --8<-- [start:namespace]
    def admin_authorization(handshake_data, callback):
        """Runs when a client joins /admin, with the handshake data stored above."""
        identity = Identity(handshake_data["user"], handshake_data["role"])
        refusal = policy.authorize_namespace(identity, "/admin")
        callback(None, refusal is None)  # False: the client's /admin gets "unauthorized"
    # --8<-- [end:namespace]

    return admin_authorization
