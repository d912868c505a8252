"""Storage media: Part 10 files (PS3.10), deferred values, and later DICOMDIR (PS3.11/3.12)."""
