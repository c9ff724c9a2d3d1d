"""The Textual app and its widgets."""
