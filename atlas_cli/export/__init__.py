"""`ft-atlas export`: the atlas regenerated from the knowledge base as a document.

- document.py: the format-neutral content model (pages of headings, paragraphs, lists, tables);
- content.py: the atlas built from the KB (the guide's sections, every method's card, the
  corrections, references) and estimates.py: the memory / time / cost table from the estimator;
- labels.py: the atlas's own words in English and Russian (the KB holds the guide's Russian);
- registry.py and formats/: one module per output format (markdown, html), found by the
  registry; adding a format is adding a module.

It sits beside batch, above render and recipes: it reads the cards' content model from render.
"""
