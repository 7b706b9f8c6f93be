"""Kodama syntax layer: tree-sitter languages, documents, positions and queries (pure)."""
