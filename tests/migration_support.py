"""Fill a database at some revision with plain rows, for the tests of a migration's data step."""

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, Table


def insert_row(connection, name: str, **values) -> int:
    """A row with every required column filled with a plain value unless given."""
    table = Table(name, MetaData(), autoload_with=connection)
    row = {}
    for column in table.columns:
        if column.primary_key or column.nullable or column.server_default is not None:
            continue
        if isinstance(column.type, DateTime):
            row[column.name] = datetime.now(UTC)
        elif isinstance(column.type, Boolean):
            row[column.name] = False
        elif isinstance(column.type, Integer):
            row[column.name] = 0
        elif isinstance(column.type, JSON):
            row[column.name] = {}
        else:
            row[column.name] = "x"
    row.update(values)
    return connection.execute(table.insert().values(**row).returning(table.c.id)).scalar_one()
