"""Checks of user input shared by the models' constraints."""

import math

from odoo.exceptions import ValidationError


def ensure_finite(records, fnames):
    """Refuse NaN and infinite values in the float fields `fnames` of `records`.

    PostgreSQL's numeric type stores NaN, and every comparison with it is false: a NaN share or
    number of hours would pass the range checks and break each computation that reads it later.
    """
    for record in records:
        for fname in fnames:
            value = record[fname]
            if isinstance(value, float) and not math.isfinite(value):
                field = record._fields[fname]
                raise ValidationError(
                    record.env._(
                        "“%(field)s” must be a number (it is %(value)s).",
                        field=field._description_string(record.env),
                        value=value,
                    )
                )
