"""Emitters: render the model into generated/ through the jinja2 templates."""
