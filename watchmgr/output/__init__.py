"""Rendering, the edge where data and messages leave watchmgr.

`watches` writes watches (ndjson, json, curl, files), `plan` plans and apply reports (Rich text,
versioned JSON, Markdown), `messages` is the one sink for errors, warnings and notes on stderr.
Data goes to stdout, messages to stderr; nothing here decides exit codes or reads input.
"""
