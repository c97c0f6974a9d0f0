"""One module per `ft-atlas export --format`; each calls registry.register at import."""
