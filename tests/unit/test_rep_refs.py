"""Reading what a text names a rep by, before any database lookup."""

from __future__ import annotations

import pytest

from salesops_core.org.lookup import RepBy, RepRef, parse_rep_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0JANE|jane>", RepRef(RepBy.SLACK_USER, "U0JANE", "@jane")),
        ("<@W0JANE>", RepRef(RepBy.SLACK_USER, "W0JANE", "@W0JANE")),
        ("<mailto:jane@x.co|jane@x.co>", RepRef(RepBy.EMAIL, "jane@x.co", "jane@x.co")),
        (" Jane@X.co ", RepRef(RepBy.EMAIL, "Jane@X.co", "Jane@X.co")),
        ("@jane", RepRef(RepBy.TEXT, "jane", "@jane")),
        ("Jane Doe", RepRef(RepBy.TEXT, "Jane Doe", "Jane Doe")),
        ("U0JANE", RepRef(RepBy.TEXT, "U0JANE", "U0JANE")),  # a bare id may also be a name
        ("jane@localhost", RepRef(RepBy.TEXT, "jane@localhost", "jane@localhost")),
        ("<#C123|sales>", RepRef(RepBy.TEXT, "<#C123|sales>", "<#C123|sales>")),
    ],
)
def test_parse_rep_ref_tells_mentions_and_emails_from_names(text: str, expected: RepRef) -> None:
    assert parse_rep_ref(text) == expected
