"""The partnership workspace: a web front door over the same workspace, findings and report (docs/web.md)."""
