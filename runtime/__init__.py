"""dicompile.runtime: the hand-written engine that executes the generated code."""
