"""The SCIM language, pure (no HTTP): the error catalogue, schemas and profiles, filters, PATCH, queries, validation.

Modules: ``errors`` (docs/behaviour.md §7), ``schema`` (RFC 7643 §7 attributes), ``profile`` (§11), ``filters`` and
``filter_parser`` (RFC 7644 §3.4.2.2, §5), ``patch`` and its engine (RFC 7644 §3.5.2, §6), ``query`` (paging,
sorting, projection: §4), ``validate`` (coercion of request values).
"""
