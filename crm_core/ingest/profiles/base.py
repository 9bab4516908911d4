"""What an import profile is: the header layout of one known export."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    """One source's export layout for one upload kind.

    `columns`: source header (as the source writes it) -> our field.
    `signature`: headers that must all be present for the profile to be detected.
    `date_order`: "dmy" or "mdy", used when a column's dates are ambiguous.
    `decimal`: "," or ".", used when a money column has no decisive value.
    `utc_fields`: timestamp fields whose naive values are UTC (not business time).
    `footers`: the export may end with report footer lines to ignore.
    """

    name: str
    kind: str
    columns: dict[str, str]
    signature: tuple[str, ...]
    date_order: str = "mdy"
    decimal: str = "."
    utc_fields: tuple[str, ...] = ()
    footers: bool = False
    source: str = field(default="")

    @property
    def source_name(self) -> str:
        """Value recorded in the `source` columns of loaded rows."""
        return self.source or self.name.split("_")[0]
