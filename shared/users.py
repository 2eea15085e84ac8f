"""The demo users. Passwords are stored as argon2id hashes, never in clear.

alice / wonderland is a plain user, bob / builder an admin. The hashes were made with
``PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)`` (OWASP's argon2id minimum):
about 25 ms per check on one core, which is why checks run off the event loop. They live in
``users.json``, which the JavaScript originals (``originals/policy.js``) read too.
"""

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


_FILE = json.loads((Path(__file__).parent / "users.json").read_text())

USERS = {name: User(name, entry["role"], entry["password_hash"])
         for name, entry in _FILE["users"].items()}

# Checked against when the user does not exist, so that "no such user" costs as much as
# "wrong password" and the answer time does not tell which usernames exist.
DUMMY_HASH = _FILE["dummy_hash"]
