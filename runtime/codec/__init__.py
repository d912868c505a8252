"""Transfer syntaxes and value encodings (PS3.5): VR codecs, encapsulated pixel data, RLE."""
