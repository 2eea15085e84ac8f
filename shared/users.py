"""The demo users. Passwords are stored as argon2id hashes, never in clear.

alice / wonderland is a plain user, bob / builder an admin. The hashes were made with
``PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)`` (OWASP's argon2id minimum):
about 25 ms per check on one core, which is why checks run off the event loop.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


USERS = {
    user.name: user
    for user in (
        User(
            "alice",
            "user",
            "$argon2id$v=19$m=19456,t=2,p=1$JtFdwiabpbLJknkKOtfdOA$6hp6sEw1ii/VnyflwujK3kjgxLknjtxG9/qrD2aeA2M",
        ),
        User(
            "bob",
            "admin",
            "$argon2id$v=19$m=19456,t=2,p=1$DdDBknwNRz+FFyR7gl730g$B3nvFPt3zugbJ1YQtka2mE7MWaB73tS98KsPC2q7CYk",
        ),
    )
}

# Checked against when the user does not exist, so that "no such user" costs as much as
# "wrong password" and the answer time does not tell which usernames exist.
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$rHgOkO/K9USX/wS6pvmUdQ$oPjz+18GtEjTYYIXGwnXARPBWIfLJqHSGzRENpSNZRI"
)
