"""The one tabular-import pipeline: units, roster, results and question files alike.

A file goes through the same steps whatever it holds:

1. ``files`` and ``sheets``: its name, size and container are checked (no macros, zip bombs or
   XML entities) before anything parses it, and its sheets are read as numbered rows of text
   cells (XLSX by python-calamine, or openpyxl where it is missing);
2. ``tables``: a header row is mapped to column keys through the aliases in
   ``bot/core/tabular.toml``; ``reading`` finds the header among a sheet's first rows (below a
   title row, or a two-row merged header read as one) and reads the rows below it, each with
   its row number in the file (``read_table`` does both steps for units, roster and results,
   says where it found the header, and keeps a city's rows as compact tuples);
3. ``rows``: the importer checks row by row with a ``RowCheck`` and collects every problem in
   one ``RowErrors``; an ``ImportReport`` says what was written.

Problems are codes with parameters (``RowError``, ``ImportFileError``), never text: the words
are written by the templates ``_import_messages.j2`` (the pipeline's own codes) and
``_<table>_import_messages.j2`` (each table's). A bad row rejects the whole file unless the
import asks to skip bad rows, in which case only the good rows are written.

A long import tells a ``Progress`` callback how far it has come (``progress``: rows read,
checked, written); the command line prints it, services never do.

Importers use this package's names; its modules are its own business.
"""

from bot.core.tabular.files import (
    MAX_FILE_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    ImportFileError,
    Record,
    Sheet,
    Span,
    check_file_name,
    check_file_size,
    decode_csv,
    first_filled,
)
from bot.core.tabular.progress import CHECK, READ, WRITE, Progress, counted, step
from bot.core.tabular.reading import (
    HEADER_SCAN_ROWS,
    MAX_INFLATED_BYTES,
    MAX_ROWS,
    ROW_KEY,
    TableRow,
    TableRows,
    find_header,
    read_table,
)
from bot.core.tabular.rows import (
    ImportReport,
    ImportRequest,
    Row,
    RowCheck,
    RowError,
    RowErrors,
)
from bot.core.tabular.sheets import check_xlsx_container, open_sheets
from bot.core.tabular.tables import (
    Header,
    Table,
    YesNo,
    fold,
    load_data,
    parse_number,
    read_header,
    table,
    vocabulary,
)

__all__ = [
    "CHECK",
    "HEADER_SCAN_ROWS",
    "MAX_FILE_BYTES",
    "MAX_INFLATED_BYTES",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "READ",
    "ROW_KEY",
    "WRITE",
    "Header",
    "ImportFileError",
    "ImportReport",
    "ImportRequest",
    "Progress",
    "Record",
    "Row",
    "RowCheck",
    "RowError",
    "RowErrors",
    "Sheet",
    "Span",
    "Table",
    "TableRow",
    "TableRows",
    "YesNo",
    "check_file_name",
    "check_file_size",
    "check_xlsx_container",
    "counted",
    "decode_csv",
    "find_header",
    "first_filled",
    "fold",
    "load_data",
    "open_sheets",
    "parse_number",
    "read_header",
    "read_table",
    "step",
    "table",
    "vocabulary",
]
