"""The data model: tags, VRs, elements, datasets, sequences and value types (PS3.5)."""
