"""Owners named in ingest API bodies: exact names only, and reps who left still own their data."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep
from salesops_core.importers.ingest import IngestError, owner_rep


def test_an_owner_who_left_is_still_found_by_email_or_full_name(session: Session) -> None:
    gone = Rep(name="Gus Gone", email="gus@acme.test", active=False)
    session.add(gone)
    session.flush()
    assert owner_rep(session, "GUS@acme.test") is gone
    assert owner_rep(session, "gus gone") is gone


def test_part_of_a_name_is_not_an_owner_and_the_error_names_the_field(session: Session) -> None:
    session.add(Rep(name="Annabel Lee", email="annabel@acme.test"))
    session.flush()
    with pytest.raises(IngestError) as error:
        owner_rep(session, "Ann", field="responded_by")
    assert error.value.field == "responded_by"
    assert error.value.message == "no rep matches 'Ann' (did you mean Annabel Lee?)"
