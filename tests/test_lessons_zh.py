"""The kit in Chinese (``--lang zh``): every part has a Chinese lesson, written in Chinese (no
English sentence in its Markdown), with the English lesson's cells and code, naming its key
terms as the glossary does; the Chinese release, notebooks, nbgrader course and Gradescope zip
build, and a missing Chinese file is a clear refusal. The English outputs are unchanged: the
tests of tests/test_release.py compare them with the committed notebooks and stubs."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
import zipfile

import nbformat
import pytest

from grader import cli
from grader import rubric as rubric_module
from grader.assign import gradescope, leaks, nbgrader_course, notebooks, release, texts
from grader.assign.stubs import stub_sources
from grader.i18n import LANGUAGES
from tests.helpers import ROOT

PARTS = list(rubric_module.load().parts)
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = r"[A-Za-z]+(?:['’-][A-Za-z]+)*"
ENGLISH_RUN = re.compile(rf"{WORD}(?:\s+{WORD}){{3,}}")


def english_runs(markdown: str) -> list[str]:
    """The English sentences of a Chinese Markdown text: runs of 4 or more English words (words
    separated by white space) once code (fenced and indented blocks, `spans`), LaTeX ($$...$$,
    $...$), URLs and HTML tags are removed. Identifiers, numbers, formulas and names such as
    "Sergey Ioffe" or "cross-entropy loss" are shorter runs."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"(?m)^(?: {4}|\t).*$", " ", text)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>\n]+>", " ", text)
    return ENGLISH_RUN.findall(text)


def code_tokens(source: str) -> list[str]:
    """A code cell's tokens, its comments and the text of its string literals left out: what a
    Chinese lesson may write in Chinese. The expressions inside an f-string are code, and kept."""
    return [token.string if token.type != tokenize.STRING else _string_code(token.string)
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type not in (tokenize.COMMENT, tokenize.NL)]


class _TextLeftOut(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.Constant("<string>") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node):   # an f-string inside an expression: its expressions only
        node.values = [value for value in node.values if not isinstance(value, ast.Constant)]
        return self.generic_visit(node)


# An expression of a Chinese f-string that says an English value in Chinese -> the English
# lesson's expression, the value itself.
SAID_IN_CHINESE = {"'<string>' if name == '<string>' else '<string>'": "name"}


def _string_code(literal: str) -> str:
    """``<string>``, followed for an f-string by its expressions (their own strings left out)."""
    parsed = ast.parse(literal, mode="eval").body
    if not isinstance(parsed, ast.JoinedStr):
        return "<string>"
    codes = [ast.unparse(_TextLeftOut().visit(value.value)) for value in parsed.values
             if isinstance(value, ast.FormattedValue)]
    return "<string>" + "".join("{" + SAID_IN_CHINESE.get(code, code) + "}" for code in codes)


# -- the heuristics have teeth -----------------------------------------------------------------
def test_an_english_sentence_is_found_and_code_formulas_and_names_are_not():
    assert english_runs("梯度 the gradient that enters a window 守恒") == ["the gradient that enters a window"]
    assert english_runs("卷积核\nis slid\nover the image") == ["is slid\nover the image"]
    assert english_runs("It is slid over the image.") == ["It is slid over the image"]
    allowed = ("`conv2d_forward(x, w, b) returns out and cache` 与 $\\text{batch statistic of the mean}$ 和 "
               "$$\\text{new} = (1 - m)\\cdot\\text{old}$$ 由 Sergey Ioffe 和 Christian Szegedy 提出，见 "
               "https://example.org/a/b the 交叉熵损失（cross-entropy loss）\n\n    grader check --json results.json here\n")
    assert english_runs(allowed) == []


def test_code_tokens_ignore_comments_and_strings_only():
    english = 'print("sum of dout:", x.sum())   # conserved\nplt.title(f"a {y}")\n'
    chinese = 'print("dout 的总和：", x.sum())   # 守恒\nplt.title(f"一个 {y}")\n'
    assert code_tokens(english) == code_tokens(chinese)
    assert code_tokens(english) != code_tokens(english.replace("x.sum()", "x.mean()"))
    assert code_tokens(english) != code_tokens(english.replace("x.sum())", "x.sum(), 1)"))
    formatted = 'print(f"mean {x.mean():.2f}, {\'a\' if x.any() else \'b\'}")'
    assert code_tokens(formatted) == code_tokens('print(f"均值 {x.mean():.2f}，{\'甲\' if x.any() else \'乙\'}")')
    assert code_tokens(formatted) != code_tokens(formatted.replace("x.mean()", "x.sum()"))


# -- the glossary --------------------------------------------------------------------------------
def test_the_glossary_names_every_term_in_every_language():
    glossary = texts.glossary()
    assert len(glossary) >= 30
    for term, names in glossary.items():
        assert set(names) == set(LANGUAGES), term
        assert all(isinstance(name, str) and name.strip() for name in names.values()), term
    chinese = {term: names["zh"] for term, names in glossary.items() if CJK.search(names["zh"])}
    for term, word in [("convolution", "卷积"), ("cross_correlation", "互相关"), ("receptive_field", "感受野"),
                       ("padding", "填充"), ("stride", "步幅"), ("pooling", "池化"),
                       ("batch_normalisation", "批归一化"), ("dropout", "丢弃法"), ("data_augmentation", "数据增广"),
                       ("activation_function", "激活函数"), ("fully_connected_layer", "全连接层"),
                       ("residual", "残差"), ("overfitting", "过拟合"), ("backpropagation", "反向传播"),
                       ("gradient", "梯度"), ("feature_map", "特征图"), ("kernel", "卷积核"), ("channel", "通道")]:
        assert chinese.get(term) == word, term  # the course's own terms
    for network in ("lenet", "alexnet", "vgg", "resnet"):
        assert glossary[network]["zh"] == glossary[network]["en"]


def test_no_two_glossary_entries_share_a_name():
    """One entry per concept: a shared name would show twice in a lesson's term list."""
    for lang in LANGUAGES:
        names = [names[lang] for names in texts.glossary().values()]
        assert not [name for name in set(names) if names.count(name) > 1], lang


def test_a_glossary_entry_without_chinese_is_an_error(tmp_path, monkeypatch):
    bad = tmp_path / "glossary.toml"
    bad.write_text('[convolution]\nen = "convolution"\nzh = "卷积"\n\n[stride]\nen = "stride"\n', encoding="utf-8")
    monkeypatch.setattr(texts, "GLOSSARY", bad)
    texts.glossary.cache_clear()
    try:
        with pytest.raises(texts.TextError, match=r"\[stride\] has no zh name"):
            texts.glossary()
    finally:
        monkeypatch.undo()
        texts.glossary.cache_clear()


def test_a_lesson_term_missing_from_the_glossary_is_an_error():
    lesson = '+++\ntitle = "t"\nnames = "n"\nsummary = "s"\nterms = ["convolution", "flux_capacitor"]\n+++\n' \
             '<!-- markdown -->\n卷积\n<!-- your file -->\n'
    with pytest.raises(notebooks.LessonError, match=r"^x\.md: .*flux_capacitor"):
        notebooks.parse_lesson(lesson, "x.md")
    assert notebooks.parse_lesson(lesson.replace(', "flux_capacitor"', ""), "x.md").terms == ("convolution",)


# -- every part's Chinese lesson ----------------------------------------------------------------------
def lesson_text(lesson: notebooks.Lesson) -> str:
    """What the lesson file itself says (not the frame around it)."""
    return "\n".join([lesson.title, lesson.summary, *(text for _, text in lesson.before + lesson.after)])


@pytest.mark.parametrize("part", PARTS)
def test_every_part_has_a_chinese_lesson_naming_its_terms_in_chinese(part):
    path = texts.lesson_path(f"{part}.md", "zh")
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    lesson = notebooks.load_lesson(part, "zh")
    assert lesson.terms, f"{part}: the Chinese lesson names no terms (front matter terms = [...])"
    text = lesson_text(lesson)
    missing = [term for term in lesson.terms if texts.glossary()[term]["zh"] not in text]
    assert not missing, f"{part}: declares {missing} but never writes {[texts.glossary()[t]['zh'] for t in missing]}"
    built = notebooks.student_notebook(part, language="zh").cells[0].source
    assert all(texts.glossary()[term]["zh"] in built and texts.glossary()[term]["en"] in built
               for term in lesson.terms), "the intro lists the terms under both names"


@pytest.mark.parametrize("part", PARTS)
def test_a_chinese_lesson_has_the_english_cells_and_code(part):
    english, chinese = notebooks.load_lesson(part, "en"), notebooks.load_lesson(part, "zh")
    for side in ("before", "after"):
        en_cells, zh_cells = getattr(english, side), getattr(chinese, side)
        assert [kind for kind, _ in zh_cells] == [kind for kind, _ in en_cells], f"{part}: cells {side} the file cell"
        for number, ((kind, en_text), (_, zh_text)) in enumerate(zip(en_cells, zh_cells)):
            if kind == "code":
                assert code_tokens(zh_text) == code_tokens(en_text), \
                    f"{part}: code cell {number} {side} the file cell differs from the English one"


@pytest.mark.parametrize("part", PARTS)
def test_a_chinese_notebook_reads_in_chinese(part):
    notebook = notebooks.student_notebook(part, language="zh")
    nbformat.validate(notebook)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            assert CJK.search(cell.source), f"{part} cell {number}: no Chinese in it"
            assert english_runs(cell.source) == [], f"{part} cell {number}: English sentences"


# -- building in Chinese --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zh_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release-zh") / "bundle"
    result = subprocess.run([sys.executable, "-m", "grader", "release", "--out", str(out), "--lang", "zh"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.slow
def test_the_chinese_release(zh_bundle):
    built = notebooks.student_notebook_texts(language="zh")
    assert sorted(p.name for p in (zh_bundle / "notebooks").iterdir()) == sorted(built)
    for name, text in built.items():
        assert (zh_bundle / "notebooks" / name).read_text(encoding="utf-8") == text
        nbformat.validate(nbformat.reads(text, as_version=4))
    assert (zh_bundle / "EXERCISES.md").read_text(encoding="utf-8") == \
        release.student_contract((ROOT / "EXERCISES.zh.md").read_text(encoding="utf-8"))
    readme = (zh_bundle / "README.md").read_text(encoding="utf-8")
    assert CJK.search(readme) and english_runs(readme) == []
    assert (zh_bundle / "datasets" / "README.md").read_bytes() == (ROOT / "datasets" / "README.zh.md").read_bytes()
    stubs = {path.name: path.read_text(encoding="utf-8") for path in (zh_bundle / "assignments").glob("*.py")}
    assert stubs == stub_sources(language="zh")
    shipped = rubric_module.load(zh_bundle / "grader" / "rubric.toml")
    assert shipped.settings.language == "zh"
    assert shipped.entries == tuple(rubric_module.load().select(include_hidden=False))
    assert leaks.leaks(zh_bundle) == []
    english = notebooks.student_notebook_texts()
    assert all(english[name] != text for name, text in built.items())


def test_a_missing_chinese_contract_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(release.CONTRACTS, "zh", "EXERCISES.missing.md")
    assert cli.main(["release", "--out", str(tmp_path / "bundle"), "--lang", "zh"]) == 2
    error = capsys.readouterr().err
    assert "EXERCISES.missing.md is missing" in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "bundle").exists()


def test_the_language_goes_into_the_rubric_settings(tmp_path):
    plain = '[parts]\nconv = "conv.py"\n'
    with_settings = plain + '\n[settings]\ncall_timeout = 5.0\nlanguage = "en"\n\n[uses]\n'
    for text in (plain, with_settings):
        path = tmp_path / "rubric.toml"
        path.write_text(release.rubric_with_language(text, "zh"), encoding="utf-8")
        settings = rubric_module.load(path).settings
        assert settings.language == "zh"
        assert settings.call_timeout == (5.0 if "call_timeout" in text else rubric_module.DEFAULTS.call_timeout)
    full = (ROOT / "grader" / "rubric.toml").read_text(encoding="utf-8")
    assert release.public_rubric_text(full) == release.public_rubric_text(full, "en")
    assert "language" not in release.public_rubric_text(full)


@pytest.mark.slow
def test_the_chinese_gradescope_zip_speaks_chinese(tmp_path):
    english, chinese = gradescope.zip_members(), gradescope.zip_members("zh")
    assert english["grader/rubric.toml"][0] == (ROOT / "grader" / "rubric.toml").read_bytes()
    (tmp_path / "rubric.toml").write_bytes(chinese["grader/rubric.toml"][0])
    assert rubric_module.load(tmp_path / "rubric.toml").settings.language == "zh"
    assert {name for name in english if english[name] != chinese[name]} == {"grader/rubric.toml"}
    assert cli.main(["gradescope", "--out", str(tmp_path / "ag.zip"), "--lang", "zh"]) == 0
    with zipfile.ZipFile(tmp_path / "ag.zip") as archive:
        assert archive.read("grader/rubric.toml") == chinese["grader/rubric.toml"][0]


@pytest.mark.slow
def test_the_chinese_course_and_notebooks_commands(tmp_path, capsys):
    assert cli.main(["course", "--out", str(tmp_path / "course"), "--part", "conv", "--lang", "zh"]) == 0
    [path] = (tmp_path / "course" / "source" / nbgrader_course.ASSIGNMENT).glob("*.ipynb")
    notebook = nbformat.read(path, as_version=4)
    assert notebook == notebooks.source_notebook("conv", language="zh")
    capsys.readouterr()
    assert cli.main(["notebooks", "--lang", "zh"]) == 2  # notebooks/ holds the English ones
    assert "--out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["release", "--out", str(tmp_path / "b"), "--lang", "fr"])
    assert exit_info.value.code == 2
