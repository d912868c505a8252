"""Readers of NEMA's DocBook XML, one module per part."""
