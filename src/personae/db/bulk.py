"""Many new rows at once: ORM objects built in memory, inserted without the unit of work
(nothing is read back, and the objects stay out of the session), one statement sent for
many rows through the driver's executemany. Vectors travel as binary float arrays, not
text: formatting and parsing hundreds of numbers a row as text costs more than writing
the row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.base import manager_of_class

from personae.db.base import Base
from personae.db.types import Vector

B = TypeVar("B", bound=Base)


def built(cls: type[B], **values: Any) -> B:
    """An object of `cls` with these column values, for `insert_all`: made as the ORM makes
    the rows it loads (the values set at once, not one attribute event each, which is most
    of the cost of building thousands of rows). Changes made to it later are tracked as
    usual."""
    made: B = manager_of_class(cls).new_instance()
    made.__dict__.update(values)
    return made


async def insert_all(session: AsyncSession, objects: Sequence[Base]) -> None:
    """INSERT `objects` (all of one class, their keys set) with the values they were given,
    in the session's transaction; the columns they leave unset take their defaults."""
    if not objects:
        return
    mapper = inspect(type(objects[0]))
    columns = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
    rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for obj in objects:
        given = {key: obj.__dict__[key] for key in columns if key in obj.__dict__}
        rows.setdefault(tuple(given), []).append(given)
    connection = await session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer
    table = quote.format_table(mapper.local_table)
    for keys, same in rows.items():  # one statement for each set of columns given
        chosen = [columns[key] for key in keys]
        places = [
            f"${n}::real[]::vector" if isinstance(c.type, Vector) else f"${n}"
            for n, c in enumerate(chosen, start=1)
        ]
        processors: list[Callable[[Any], Any] | None] = [
            None if isinstance(c.type, Vector) else c.type.bind_processor(dialect) for c in chosen
        ]
        sql = (
            f"INSERT INTO {table} ({', '.join(quote.quote(c.name) for c in chosen)}) "
            f"VALUES ({', '.join(places)})"
        )
        records = [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip(row.values(), processors, strict=True)
            )
            for row in same
        ]
        await connection.exec_driver_sql(sql, records)  # in the session's transaction
