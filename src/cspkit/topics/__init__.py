"""Topics: the chapters of the assessment (ASB, reducing reoffending, domestic abuse, sexual violence).

Each topic module turns warehouse data into Finding records and registers its builder in
:data:`cspkit.findings.engine.TOPIC_BUILDERS` when imported here.
"""

from cspkit.topics import asb as asb
from cspkit.topics import domestic_abuse as domestic_abuse
from cspkit.topics import profile as profile
from cspkit.topics import reoffending as reoffending
from cspkit.topics import sexual_violence as sexual_violence
from cspkit.topics import substance_misuse as substance_misuse
