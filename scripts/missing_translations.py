"""Print the English texts that have no Russian yet as catalog entries to fill in, grouped by the
catalog file each belongs in (data/translations/ru/*.yaml); `ft-atlas validate --strict` fails
while any is missing.

    python scripts/missing_translations.py            # print the entries
    python scripts/missing_translations.py --write    # append them to the catalog files, ru: ""
    python scripts/missing_translations.py --unused   # entries whose English no longer exists

An entry written with an empty `ru` still counts as missing until it is filled in. The comment
above each entry says where its text is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from atlas_cli.cli.knowledge_base import translation_sources  # noqa: E402
from atlas_cli.i18n import translations_dir  # noqa: E402
from atlas_cli.kb.files import bundled_kb_path  # noqa: E402
from atlas_cli.kb.loading import load_located  # noqa: E402
from atlas_cli.translations import Source, missing, read_catalog, unused  # noqa: E402


def entry(source: Source) -> str:
    fields: dict[str, str] = {"en": source.text}
    if source.context:
        fields["context"] = source.context
    fields["ru"] = ""
    text = yaml.safe_dump([fields], allow_unicode=True, sort_keys=False, width=10_000)
    return f"# {source.where}\n{text}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="append the entries to the catalog files")
    parser.add_argument("--unused", action="store_true", help="list entries no text uses any more")
    args = parser.parse_args()
    kb, locate = load_located(bundled_kb_path())
    sources, problems = translation_sources(kb, locate)
    catalog = read_catalog()
    for problem in [*catalog.problems, *problems]:
        print(f"# problem: {problem}", file=sys.stderr)
    if args.unused:
        print("\n".join(unused(sources, catalog)))
        return 0
    # An entry already written with an empty ru is missing, but must not be written twice.
    todo = [s for s in missing(sources, catalog) if args.write is False or s.key not in catalog.where]
    by_file: dict[str, list[Source]] = {}
    for source in todo:
        by_file.setdefault(source.catalog_file, []).append(source)
    for name, found in by_file.items():
        text = "\n".join(entry(s) for s in found)
        if args.write:
            path = translations_dir() / name
            before = path.read_text(encoding="utf-8") if path.exists() else ""
            path.write_text(before + ("\n" if before and not before.endswith("\n\n") else "") + text, "utf-8")
            print(f"{path.relative_to(REPO)}: {len(found)} entries to fill in", file=sys.stderr)
        else:
            print(f"# --- data/translations/ru/{name}\n{text}")
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main())
