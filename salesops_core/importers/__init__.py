"""CSV import of reps, deals, leads, activities, quotas and forecasts.

Native columns (DESIGN.md section 3), Salesforce and HubSpot exports, `--map` column maps and
stage map files. Everything is validated before anything is written.
"""

from salesops_core.importers.formats import FIELDS, FORMATS, KINDS, REQUIRED
from salesops_core.importers.loader import ImportOptions, import_file, write_rejected
from salesops_core.importers.report import ImportFailed, ImportResult, RowError, rejected_path

__all__ = [
    "FIELDS",
    "FORMATS",
    "KINDS",
    "REQUIRED",
    "ImportFailed",
    "ImportOptions",
    "ImportResult",
    "RowError",
    "import_file",
    "rejected_path",
    "write_rejected",
]
