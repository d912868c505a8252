"""DIMSE service classes over :mod:`dicompile.runtime.net.association` (PS3.4).

``verification``: C-ECHO SCU and SCP (PS3.4 Annex A).  ``storage``: C-STORE SCU and SCP
(PS3.4 Annex B), with Part 10 files written durably before Success is answered.
"""
