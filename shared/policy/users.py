"""The users a policy knows. Passwords are stored as argon2id hashes, never in clear.

The demo's users live in ``users.json``, which the JavaScript originals (``originals/policy.js``)
read too: alice / wonderland is a plain user, bob / builder an admin. The hashes were made with
``PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)`` (OWASP's argon2id minimum):
about 25 ms per check on one core, which is why checks run off the event loop.
"""

import json
from dataclasses import dataclass
from pathlib import Path

DEMO_USERS_FILE = Path(__file__).parent / "users.json"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class Users:
    """Users by name, and the hash an unknown name is checked against, so that "no such user"
    costs as much as "wrong password" and the answer time does not tell which names exist."""

    by_name: dict[str, User]
    dummy_hash: str

    def get(self, name: str) -> User | None:
        return self.by_name.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name


def load_users(path: Path = DEMO_USERS_FILE) -> Users:
    """Read a users file (``{"users": {name: {role, password_hash}}, "dummy_hash": …}``)."""
    data = json.loads(path.read_text())
    return Users({name: User(name, entry["role"], entry["password_hash"])
                  for name, entry in data["users"].items()}, data["dummy_hash"])
