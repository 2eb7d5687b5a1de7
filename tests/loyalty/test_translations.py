"""The pt-BR catalogue is complete and its committed compiled form is current.

Merchants read the admin in Portuguese: a string marked for translation but missing from
the catalogue would show in English. The test extracts the strings afresh, on a copy of the
tree, exactly as `make messages` does, and fails on any left untranslated or guessed.
"""

import gettext
import shutil

import pytest

from scripts import messages

SOURCES = (
    "manage.py",
    "settings",
    "locale",
    "templates",
    "loyalty",
    "customers",
    "promotions",
    "sales",
    "vouchers",
)

needs_gettext = pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgattrib") and shutil.which("msgfmt")),
    reason="needs GNU gettext's tools (Debian package gettext) to extract the strings",
)


@needs_gettext
def test_every_string_shown_to_merchants_has_a_portuguese_translation(tmp_path):
    for name in SOURCES:
        source = messages.ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)

    po = messages.extract(tmp_path)

    assert po.read_text().count("msgid ") > 300
    assert messages.untranslated(po) == []


@needs_gettext
def test_the_committed_compiled_catalogue_matches_its_source(tmp_path):
    po = messages.catalogue()
    fresh = tmp_path / "django.mo"
    messages.compile_catalogue(po, fresh)

    with open(po.with_suffix(".mo"), "rb") as committed, open(fresh, "rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(compiled)._catalog
