"""Topics: the chapters of the assessment (ASB, reducing reoffending, domestic abuse, sexual violence).

Each topic module turns warehouse data into Finding records and registers its builder in
:data:`cspkit.findings.engine.TOPIC_BUILDERS` when imported here.
"""
