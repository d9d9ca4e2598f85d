// The CLI layer builds on the JSONL records: a command that imports it has them too.
@_exported import Records
