"""Which database errors mean "the connection is gone" (the ingest API retries those once)."""

from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from salesops_core.db.engine import connection_lost


class DriverError(Exception):
    pass


def test_an_invalidated_connection_is_lost():
    error = OperationalError("INSERT INTO lead ...", {}, DriverError(), connection_invalidated=True)
    assert connection_lost(error)


def test_a_connection_that_could_not_be_opened_is_lost():
    assert connection_lost(OperationalError(None, None, DriverError()))


def test_a_statement_the_database_refused_is_not_a_lost_connection():
    assert not connection_lost(OperationalError("SELECT 1", {}, DriverError()))
    assert not connection_lost(DataError("INSERT INTO deal ...", {}, DriverError()))
    assert not connection_lost(IntegrityError("INSERT INTO deal ...", {}, DriverError()))
    assert not connection_lost(ValueError("not a database error"))
