"""CSV import of reps, deals, leads, activities, quotas and forecasts.

Native columns (DESIGN.md section 3), Salesforce and HubSpot exports, `--map` column maps and
stage map files. Everything is validated before anything is written. The way in:
`loader.import_file(session, path, options.ImportOptions(...))`; `fields` names the kinds.
`limits` (what a stored value may be) and the row rules in `records` are shared with the
ingest API's upserts (`ingest`).
"""
