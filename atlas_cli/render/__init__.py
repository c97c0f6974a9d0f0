"""Renderers: rich views for terminals, Markdown for documents, JSON for scripts."""
