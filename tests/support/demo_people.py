"""The demo org's people and teams (`salesops demo`'s seed and scale), without any deals.

Enough to resolve names as a new user types them on the demo: teams NA East, NA West and EMEA;
admin Olivia Hughes; managers Freya Moreau (NA East) and Sara Jensen (NA West); reps such as
Ines Dubois (NA West), Olivia Khan and Olivia Laurent (NA East), Julia Müller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.demo.org import build_org
from salesops_core.demo.store import reset_sequences
from salesops_core.org.access import Viewer, viewer_for_rep

DEMO_SEED = 42  # `salesops demo`'s default seed: the same names


@dataclass
class DemoPeople:
    """Viewers of the demo org, one per role the tests ask as."""

    admin: Viewer  # Olivia Hughes
    east_manager: Viewer  # Freya Moreau
    west_manager: Viewer  # Sara Jensen
    ines: Viewer  # a rep in NA West


def load_demo_people(session: Session) -> DemoPeople:
    """Insert the demo's teams and reps (ids as the demo writes them) and commit."""
    org = build_org(np.random.default_rng([DEMO_SEED, 0]), 1.0, 0, 86_400)
    session.execute(insert(Team), org.teams)
    session.execute(insert(Rep), org.reps)
    reset_sequences(session.connection(), [Team.__table__, Rep.__table__])
    session.commit()

    def viewer(email: str) -> Viewer:
        return viewer_for_rep(session.scalars(select(Rep).where(Rep.email == email)).one())

    return DemoPeople(
        admin=viewer("olivia.hughes@example.com"),
        east_manager=viewer("freya.moreau@example.com"),
        west_manager=viewer("sara.jensen@example.com"),
        ines=viewer("ines.dubois@example.com"),
    )
