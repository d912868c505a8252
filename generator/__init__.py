"""dicompile.generator: the standard's text (DocBook, JSON rendition) to typed Python."""
