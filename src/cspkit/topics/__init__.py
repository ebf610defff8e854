"""Topics: the chapters of the assessment (ASB, domestic abuse, reducing reoffending, sexual violence).

Each topic module turns warehouse data into Finding records with one ``build(TopicInput) -> list[Finding]``.
:data:`TOPIC_BUILDERS` is the explicit list of them, in the order their findings appear; whoever asks for findings
(the CLI, the assessment, the performance pack, the web app) passes it to
:func:`cspkit.findings.engine.compute_findings`. The engine never imports the topics, so the findings stage stays
below them. A new topic is one module here and one line in this list.
"""

from __future__ import annotations

from collections.abc import Mapping

from cspkit.findings.engine import TopicBuilder
from cspkit.topics import asb, domestic_abuse, linkage, profile, reoffending, sexual_violence, substance_misuse

__all__ = ["TOPIC_BUILDERS"]

#: Topic name (as in ``cspkit findings --topic``) -> builder, in the order the findings are listed.
TOPIC_BUILDERS: Mapping[str, TopicBuilder] = {
    "profile": profile.build,
    "asb": asb.build,
    "da": domestic_abuse.build,
    "reoffending": reoffending.build,
    "sv": sexual_violence.build,
    "substance": substance_misuse.build,
    "linkage": linkage.build,
}
