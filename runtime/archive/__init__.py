"""The embedded archive: index, matching, worklist, procedure step state."""
