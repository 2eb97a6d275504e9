"""The rules applied to single values, and the values computed from others."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from offboard.fixup.rules import Rules

DIRECT, WSADMIN = "direct", "wsadmin"  # who rewrites whole user-id columns: the fix-up, or the product's commands
Where = tuple[str, str]  # (SCHEMA.TABLE, COLUMN)


class Rewriter:
    """The rules applied to single values, counting what it changed and, per user id left in
    place that is not the new home's, where it stands (table, column) in how many rows."""

    def __init__(self, rules: Rules, users: Mapping[str, str], route: str = DIRECT) -> None:
        self.rules = rules
        self.users = dict(users)
        self.route = route
        self.known_targets = set(users.values())
        self.guests: set[str] = set()  # ids of people of another org: never mapped into this one
        hosts = "|".join(re.escape(host) for host in sorted(rules.hosts, key=len, reverse=True))
        # A whole host name: not part of a longer name on either side (a trailing dot may end a sentence).
        self.host_pattern = re.compile(rf"(?<![\w.-])(?:{hosts})(?![\w-]|\.[\w-])", re.IGNORECASE)
        self.org_patterns = [re.compile(p) for p in rules.org.in_text]
        self.user_patterns = [re.compile(p) for p in rules.users.in_text]
        self.unmapped: dict[str, Counter[Where]] = {}

    def copy(self) -> Rewriter:
        """The same rules, mapping and guests, counting afresh."""
        twin = Rewriter(self.rules, self.users, self.route)
        twin.guests = self.guests
        return twin

    def mapped(self, value: str) -> str:
        """A user id as the mapping turns it: guests and unknown ids stay as they are."""
        return value if value in self.guests else self.users.get(value, value)

    def text(self, value: str, tally: Counter, where: Where | None) -> str:
        """Host names, and the org id and user ids the rules' patterns find, in a link or a body."""
        value, count = self.host_pattern.subn(lambda m: self.rules.hosts[m[0].lower()], value)
        tally["hosts"] += count
        for pattern in self.org_patterns:
            value = pattern.sub(lambda m: _replace_id(m, self.org(m["id"], tally, where)), value)
        for pattern in self.user_patterns:
            value = pattern.sub(lambda m: _replace_id(m, self._user(m["id"], tally, where, DIRECT)), value)
        return value

    def user(self, value: str, tally: Counter, where: Where | None) -> str:
        """A whole user-id column's value; with the wsadmin route it stays for the product's commands."""
        return self._user(value, tally, where, self.route)

    def _user(self, value: str, tally: Counter, where: Where | None, route: str) -> str:
        new = self.mapped(value) if route == DIRECT else value
        if new != value:
            tally["users"] += 1
        elif where is not None and value not in self.known_targets and value not in self.guests:
            self.unmapped.setdefault(value, Counter())[where] += 1
        return new

    def org(self, value: str, tally: Counter, where: Where | None) -> str:
        if value == self.rules.org.cloud:
            tally["orgs"] += 1
            return self.rules.org.target
        return value


def _replace_id(match: re.Match, new: str) -> str:
    start, end = match.span("id")
    whole = match[0]
    return whole[: start - match.start()] + new + whole[end - match.start():]
