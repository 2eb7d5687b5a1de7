"""The project's pt-BR catalogue: extract, check and compile.

`make messages` runs this: Django's `makemessages` gathers every marked string of the
product (apps and templates; not the tests, the benchmark or these scripts) into
locale/pt_BR/LC_MESSAGES/django.po, and `msgfmt` compiles it to the committed django.mo, so
that a fresh clone serves Portuguese without gettext installed. The suite calls `extract`
on a copy of the tree to prove that no string shown to merchants is left untranslated.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "pt_BR"
# Folders whose strings nobody outside the team reads; hidden ones (.venv) are skipped anyway.
IGNORED = ("tests/*", "bench/*", "scripts/*", "var/*", "docs/*", "settings/*", "node_modules/*")


def catalogue(root: Path = ROOT) -> Path:
    return root / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"


def extract(root: Path = ROOT) -> Path:
    """Refresh the catalogue under `root` from the code under `root`; new strings come in
    with an empty translation, strings no longer used are dropped."""
    arguments = ["makemessages", "-l", LANGUAGE, "--add-location", "file", "--no-obsolete"]
    for pattern in IGNORED:
        arguments += ["--ignore", pattern]
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=root,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test"},
    )
    return catalogue(root)


def untranslated(po: Path) -> list[str]:
    """The msgids of `po` with no translation or a fuzzy (guessed) one."""
    found = []
    for flag in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-wrap", str(po)], check=True, capture_output=True, text=True
        )
        found += [line[len("msgid ") :] for line in result.stdout.splitlines() if line.startswith("msgid ")]
    return [msgid for msgid in found if msgid != '""']


def compile_catalogue(po: Path, mo: Path) -> None:
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)


def main() -> int:
    po = extract()
    missing = untranslated(po)
    compile_catalogue(po, po.with_suffix(".mo"))
    if missing:
        print(f"{len(missing)} strings of {po.relative_to(ROOT)} still need a translation:")
        for msgid in missing:
            print(f"  {msgid}")
        return 1
    print(f"{po.relative_to(ROOT)}: every string translated; compiled.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
