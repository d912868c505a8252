"""The ``dicompile`` command line."""
