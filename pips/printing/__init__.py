"""Print copies of plans: `render` (the print HTML of a version), `seal` (rendered with
WeasyPrint, signed by the organisation, stored once per version and state) and `verify` (the
check of an uploaded copy against the record)."""
