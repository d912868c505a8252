# Generated package: everything below is written by "nox -s generate". Do not edit.
"""dicompile.generated: output of the generator, committed."""
