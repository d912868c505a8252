"""DICOM networking (PS3.7, PS3.8): the upper layer, DIMSE, transports and services."""
