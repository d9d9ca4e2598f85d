// Records are JSON objects: every tool that reads or writes them gets the JSON module with Records.
@_exported import JSON
