"""Validation of Data Sets against the generated PS3.3 requirement tables (issue #4).

:func:`~dicompile.runtime.validate.engine.validate` finds the IOD of a Data Set by its SOP
Class UID and checks it module by module: usage (M/C/U), attribute types (1, 1C, 2, 2C, 3),
Enumerated Values and Defined Terms, VR and VM against the data dictionary, Sequence Item
counts, attributes no module of the IOD allows, and the functional groups of enhanced
multi-frame IODs.  The rule tables are ``dicompile.generated.requirements``, found lazily by
:mod:`~dicompile.runtime.validate.registry`.

References
----------
PS3.3 Annex A, Annex C, §C.7.6.16; PS3.5 §6.2, §6.4, §7.4; PS3.6 §6.
"""
