"""Batch routes of the ingest API: `POST /api/v1/{kind}/batch` for a CRM's bulk pushes.

A body is `{"records": [...]}` with 1 to MAX_RECORDS records of the single route's model,
validated the same way. The records are written in one transaction, each exactly as the
single route writes it (same row checks, same idempotency on external_id). When any record
is refused, nothing is written and the 422 lists every refused record:
`detail[].loc` is `["body", "records", <index>, <field>]`.
"""

# no `from __future__ import annotations`: FastAPI reads the route's body type from the
# annotation of a function built here, and that type exists only inside `add_batch_route`.

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, create_model
from sqlalchemy.orm import Session

from salesops_core.importers.ingest import IngestError

MAX_RECORDS = 1000

# A record's writer for one batch: given the batch's session, the function that writes one
# record and returns what the single route answers (shared lookups are made once per batch).
Prepare = Callable[[Session], Callable[[Any], BaseModel]]


def write_all(session: Session, records: list[Any], write_one: Callable[[Any], BaseModel]) -> Any:
    """Write every record; HTTP 422 listing each refused record by index and field if any was
    refused (raised inside the transaction, so it rolls back and nothing is written)."""
    results, refused = [], []
    for index, record in enumerate(records):
        try:
            results.append(write_one(record))
        except IngestError as exc:
            refused.append(
                {"loc": ["body", "records", index, exc.field], "msg": exc.message, "type": exc.kind}
            )
    if refused:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=refused)
    return results


def add_batch_route(
    router: APIRouter,
    kind: str,
    record: type[BaseModel],
    answer: type[BaseModel],
    write: Callable[[Callable[[Session], Any]], Any],
    prepare: Prepare,
) -> None:
    """Add `POST /{kind}/batch` for records of `record`, answering a list of `answer`.

    `write(work)` runs `work(session)` in one transaction (the single routes' writer, with
    its error mapping and its retry of a dropped connection).
    """
    name = record.__name__.removesuffix("In")
    batch_in = create_model(
        f"{name}BatchIn",
        records=(list[record], Field(min_length=1, max_length=MAX_RECORDS)),  # type: ignore[valid-type]
        __config__={"extra": "forbid"},
    )
    batch_out = create_model(
        f"{name}BatchOut",
        results=(list[answer], Field(description="One answer per record, in order")),  # type: ignore[valid-type]
    )

    def post_batch(body: batch_in) -> batch_out:  # type: ignore[valid-type]
        records = body.records  # type: ignore[attr-defined]
        results = write(lambda session: write_all(session, records, prepare(session)))
        return batch_out(results=results)

    post_batch.__name__ = f"post_{kind}_batch"
    post_batch.__doc__ = (
        f"Write up to {MAX_RECORDS} {kind} in one transaction: all or, when any record is "
        "refused, none (the 422 names each refused record by index and field)."
    )
    router.post(
        f"/{kind}/batch",
        response_model=batch_out,
        summary=f"Post {kind} in bulk",
        responses={422: {"description": "A record was refused; nothing was written"}},
    )(post_batch)
