"""CSV import: rows of an uploaded file written into one object through the records
service, checked by a dry run first and written by a resumable background job."""
