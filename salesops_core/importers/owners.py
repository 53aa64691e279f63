"""Owner resolution: a cell names a rep by email, CRM user id or full name.

All reps are loaded in one query. An owners file (`crm_user_id,email` or `crm_user_id,name`)
links CRM user ids to reps and stores the id in `Rep.crm_user_id`, so later imports need no
owners file. Unknown owners are errors unless `create_missing`, then they are created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Role
from salesops_core.importers.csvfile import plan_columns, read_csv
from salesops_core.importers.report import ImportFailed, RowError

_CRM_ID = re.compile(r"^(?=.*\d)[A-Za-z0-9_-]{6,64}$")


@dataclass
class PendingRep:
    """A rep to create when the import is written (with `create_missing`)."""

    name: str
    email: str | None
    crm_user_id: str | None
    id: int | None = None


def name_from_email(email: str) -> str:
    """`jane.doe@x.com` -> `Jane Doe` (a readable name for a rep created from an email)."""
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._\-+]+", local) if part) or email


class OwnerResolver:
    """Resolves owner cells to rep ids, collecting reps to create and CRM ids to store."""

    def __init__(self, session: Session, *, create_missing: bool, hint: str) -> None:
        self.create_missing = create_missing
        self.hint = hint
        self.by_email: dict[str, int] = {}
        self.by_crm: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.crm_of: dict[int, str | None] = {}
        for rep_id, name, email, crm in session.execute(
            select(Rep.id, Rep.name, Rep.email, Rep.crm_user_id)
        ):
            if email:
                self.by_email[email.lower()] = rep_id
            if crm:
                self.by_crm[crm] = rep_id
            self.by_name.setdefault(name.strip().lower(), []).append(rep_id)
            self.crm_of[rep_id] = crm
        self.links: dict[str, int | PendingRep] = {}
        self.crm_updates: dict[int, str] = {}
        self.pending: dict[str, PendingRep] = {}
        self._cache: dict[str, int | PendingRep | str] = {}

    def load_owners_file(self, path: Path) -> None:
        """Read `crm_user_id,email` / `crm_user_id,name` rows; raise ImportFailed on bad ones."""
        table = read_csv(path)
        plan = plan_columns(
            table,
            kind="owners file",
            fields=("crm_user_id", "email", "name"),
            required=("crm_user_id",),
            candidates={
                "crm_user_id": ("crm_user_id", "Id", "OwnerId", "user_id"),
                "email": ("email", "Email"),
                "name": ("name", "Name"),
            },
            overrides={},
        )
        if not (plan.has("email") or plan.has("name")):
            found = ", ".join(table.header)
            raise ImportFailed(
                [RowError(table.file, 1, "email", f"needs an email or name column; found: {found}")]
            )
        errors: list[RowError] = []
        for line, values in plan.rows(table):
            crm, email, name = values["crm_user_id"], values.get("email"), values.get("name")
            if not crm:
                errors.append(RowError(table.file, line, "crm_user_id", "empty crm_user_id"))
                continue
            target: int | str | PendingRep | None = self._lookup(email) if email else None
            if target is None and name:
                target = self._lookup(name)
            if isinstance(target, str):
                errors.append(RowError(table.file, line, "name", target))
                continue
            if target is None:
                if not self.create_missing:
                    column = "email" if email else "name"
                    errors.append(
                        RowError(
                            table.file,
                            line,
                            column,
                            f"no rep with {column} {email or name!r}; import reps first, "
                            "or pass --create-missing to create it",
                        )
                    )
                    continue
                target = self._pending(name or name_from_email(email or crm), email, crm)
            self.links[crm] = target
            if isinstance(target, int) and self.crm_of.get(target) != crm:
                holder = self.by_crm.get(crm)
                if holder is not None and holder != target:
                    errors.append(
                        RowError(
                            table.file,
                            line,
                            "crm_user_id",
                            f"crm_user_id {crm!r} already belongs to another rep (id {holder})",
                        )
                    )
                    continue
                self.crm_updates[target] = crm
        if errors:
            raise ImportFailed(errors)

    def _lookup(self, value: str) -> int | str | None:
        """A rep id, an error reason (ambiguous), or None when nobody matches."""
        if value in self.by_crm:
            return self.by_crm[value]
        if "@" in value:
            return self.by_email.get(value.lower())
        ids = self.by_name.get(value.lower(), [])
        if len(ids) > 1:
            return f"{len(ids)} reps are named {value!r}; use their email instead"
        return ids[0] if ids else None

    def _pending(self, name: str, email: str | None, crm: str | None) -> PendingRep:
        key = (email or crm or name).lower()
        if key not in self.pending:
            self.pending[key] = PendingRep(name, email, crm)
        return self.pending[key]

    def resolve(self, value: str) -> int | PendingRep | str:
        """The rep (id or to-be-created) for a cell, or the reason it names nobody."""
        if value in self._cache:
            return self._cache[value]
        result: int | PendingRep | str | None
        result = self.links.get(value)
        if result is None:
            result = self._lookup(value)
        if result is None:
            if self.create_missing:
                if "@" in value:
                    result = self._pending(name_from_email(value), value.lower(), None)
                elif _CRM_ID.match(value):
                    result = self._pending(value, None, value)
                else:
                    result = self._pending(value, None, None)
            else:
                result = (
                    f"unknown owner {value!r}; {self.hint}, or pass --create-missing "
                    "to create the rep"
                )
        self._cache[value] = result
        return result

    def write(self, session: Session) -> int:
        """Create pending reps and store CRM ids; returns how many reps were created."""
        created = 0
        for pending in self.pending.values():
            pending.id = session.execute(
                insert(Rep)
                .values(
                    name=pending.name,
                    email=pending.email,
                    crm_user_id=pending.crm_user_id,
                    role=Role.REP,
                )
                .returning(Rep.id)
            ).scalar_one()
            created += 1
        for rep_id, crm in self.crm_updates.items():
            session.execute(update(Rep).where(Rep.id == rep_id).values(crm_user_id=crm))
        return created

    @staticmethod
    def rep_id(target: int | PendingRep) -> int:
        """The id of a resolved owner (after `write` for created reps)."""
        if isinstance(target, PendingRep):
            assert target.id is not None, "write() creates pending reps first"
            return target.id
        return target
