"""Everything that is not drawing: tail, parse, store, analyse, glossary, report.

Never imports textual or rich (tests/test_core_imports.py checks it in a fresh subprocess).
"""
