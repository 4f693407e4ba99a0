"""EnigmaToM as a tom-harness plugin: the ``enigma`` prompt intervention.

Modules: :mod:`.story` (documents -> stories and events), :mod:`.characters` (speakers / NER),
:mod:`.kb` (knowledge bases), :mod:`.rules` (exact tracker), :mod:`.pipeline` (cached stages),
:mod:`.injection`, :mod:`.masking`, :mod:`.render`, :mod:`.intervention`.
"""
from tom_harness import hookimpl

from .intervention import Enigma


@hookimpl
def register_interventions(register):
    register(Enigma)


__all__ = ["Enigma", "register_interventions"]
