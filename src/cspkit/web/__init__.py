"""The partnership workspace: a web application over the same workspace, findings, scoring and report code.

:func:`cspkit.web.app.create_app` builds it; ``cspkit serve`` runs it (see docs/web.md).
"""
