"""The catalogs in step with the code: Babel extracts every _() and N_() message of grader/, and
each language's catalogs hold exactly those (none missing, none stale)."""

import ast
from pathlib import Path

from babel.messages.extract import extract_from_dir

from grader import i18n

PACKAGE = Path(i18n.__file__).resolve().parent


def extract_python(fileobj, keywords, comment_tags, options):
    """Babel's extraction method for the kit's Python: every ``_("...")`` and ``N_("...")`` with a
    literal message, also inside an f-string (``f"{_('index'):<16}"``), which Babel's own
    tokenizing method does not enter before Python 3.12."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            yield node.lineno, node.func.id, node.args[0].value, []


def extracted(root: Path = PACKAGE) -> dict:
    """msgid -> the places that say it, for every message marked in ``root``'s Python files."""
    found: dict = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(root), method_map=[("**.py", f"{__name__}:extract_python")], keywords={"_": None, "N_": None}):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def differences(found: dict, catalog: dict) -> tuple[list, list]:
    missing = [f"{places[0]}: {message!r}" for message, places in found.items() if not catalog.get(message)]
    stale = [repr(message) for message in catalog if message not in found]
    return missing, stale


def test_every_catalog_holds_the_extracted_messages_and_no_other():
    found = extracted()
    assert len(found) > 200, "the messages were not found"
    for lang in i18n.LANGUAGES:
        if lang == "en":
            continue
        missing, stale = differences(found, i18n.catalog(lang))
        assert not missing, f"no {lang} for:\n" + "\n".join(missing)
        assert not stale, f"{lang} catalogs keep messages no code says any more:\n" + "\n".join(stale)


def test_a_new_message_and_a_stale_entry_are_both_found(tmp_path):
    (tmp_path / "x.py").write_text('from grader.i18n import N_, _\nprint(_("new {x}"))\nWORD = N_("kept")\n')
    found = extracted(tmp_path)
    assert set(found) == {"new {x}", "kept"}
    assert differences(found, {"kept": "留", "gone": "走"}) == (["x.py:2: 'new {x}'"], ["'gone'"])


def test_the_catalog_is_read_and_compiled_by_babel():
    assert i18n.read_po('msgid "a {x}"\nmsgstr "甲 {x}"\n\nmsgid "b"\nmsgstr ""\n"乙"\n') == {"a {x}": "甲 {x}", "b": "乙"}
    with i18n.speaking("zh"):
        assert i18n._("PASS") == "通过"
