"""One style and one set of terms in every Chinese text the kit ships: full-width punctuation
beside Chinese (code, identifiers and formulas excepted), one line per paragraph, and the
glossary's term for each concept (its rejected variants appear nowhere). Unit tests over files."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import tomllib
import unicodedata
from pathlib import Path

import pytest

from grader.assign import texts
from tests.helpers import ROOT

GRADER = ROOT / "grader"
LESSONS = GRADER / "assign" / "lessons"
IDEOGRAPH = "\u4e00-\u9fff"
FULL_WIDTH = "，。：；、！？（）“”"
CJK = IDEOGRAPH + FULL_WIDTH

ASCII_BESIDE_CHINESE = [
    (re.compile(rf"[{CJK}][,;:?!]|[,;:?!] ?[{IDEOGRAPH}]"), "ASCII , ; : ? ! beside Chinese"),
    (re.compile(rf"[{IDEOGRAPH}]\(|\)[{IDEOGRAPH}]|\([^()]*[{IDEOGRAPH}][^()]*\)"), "ASCII ( ) around or beside Chinese"),
    (re.compile(rf'"[{IDEOGRAPH}][^"\n]*"|"[^"\n]*[{IDEOGRAPH}]"'), 'ASCII "quotes" around Chinese'),
    (re.compile(r"[^\s|] +[，。：；、！？）]|[，。：；、！？（）] +[^\s|]"), "a space beside full-width punctuation"),
    (re.compile(rf"[{IDEOGRAPH}] +[{IDEOGRAPH}]"), "a space between Chinese characters"),
    # "X" is where prose() put a value: "准确率：{a} （{s} 秒）" prints "…0.94] （3 秒）"
    (re.compile(rf"[{CJK}X] （"), "a space before （"),
]
CODE = re.compile(r"```.*?```|``[^`\n]*``|`[^`\n]*`|\$\{\w+\}|\{[^{}\n]*\}|%\(\w+\)[sd]|\$\$.*?\$\$|\$[^$\n]+\$"
                  r"|https?://\S+|<[^>\n]+>|::$|^ *[\w, *]+ : ", re.S | re.M)


def prose(text: str) -> str:
    """``text`` with its code, placeholders, formulas, URLs and HTML replaced by ``X`` (and a
    docstring's reST: a literal block's ``::``, a ``name : type`` line's colon)."""
    return CODE.sub("X", text)


def punctuation_faults(text: str) -> list[str]:
    """The places where ASCII punctuation sits beside Chinese prose, with what is wrong."""
    faults = []
    for line in prose(text).splitlines():
        if not re.search(f"[{IDEOGRAPH}]", line):
            continue
        faults += [f"{why}: {line.strip()[:120]!r}" for rule, why in ASCII_BESIDE_CHINESE if rule.search(line)]
    return faults


BLOCK_START = re.compile(r"\s*([-*+] |\d+\. |#|\||<!--|```|\$\$|>|\+\+\+)|    ")


def hard_wraps(markdown: str) -> list[str]:
    """Lines of a Chinese paragraph that continue the line before them (a hard wrap): Markdown
    shows a stray space at each such break."""
    wraps, fenced, front = [], False, False
    lines = markdown.splitlines()
    for before, line in zip([""] + lines, lines):
        if line.strip() == "+++":
            front = not front
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or front or not line.strip() or not before.strip() or BLOCK_START.match(line):
            continue
        if re.match(r"\s*(#|\||<!--|```|\$\$|\+\+\+)", before) or before.rstrip().endswith("$$"):
            continue
        if re.search(f"[{CJK}]", before + line):
            wraps.append(f"{before.strip()[-30:]!r} / {line.strip()[:30]!r}")
    return wraps


def string_wraps(text: str) -> list[str]:
    """The hard wraps of a short text (a catalog entry, a rubric hint, a TOML value): a line break
    inside Chinese prose (a break before a value or a list is the text's own)."""
    return [f"{match.group()!r}" for match in re.finditer(rf"[{CJK}]\n[{IDEOGRAPH}]", text)]


def _toml_strings(value, where: str):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _toml_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _toml_strings(item, f"{where}[{index}]")


def po_translations(path: Path):
    """The msgstr texts of a .po file."""
    entry, current = [], None
    for line in path.read_text().splitlines() + [""]:
        if line.startswith("msgstr "):
            current = [ast.literal_eval(line[len("msgstr "):])]
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        else:
            if current is not None:
                entry.append("".join(current))
            current = None
    return entry


def without_front_matter(markdown: str) -> str:
    """A lesson's Markdown without its TOML front matter (checked with the short texts)."""
    return re.sub(r"\A\+\+\+\n.*?\n\+\+\+\n", "", markdown, flags=re.S)


def chinese_markdown() -> dict[str, str]:
    files = sorted((LESSONS / "zh").glob("*.md")) + [ROOT / "EXERCISES.zh.md"]
    files += sorted((GRADER / "assign" / "templates" / "zh").glob("*.md"))
    files += [ROOT / "datasets" / "README.zh.md"]
    return {str(path.relative_to(ROOT)): without_front_matter(path.read_text()) for path in files}


def chinese_strings() -> dict[str, str]:
    """Every short Chinese text: catalogs, the rubric's title_zh/hint_zh, the glossary, the lessons'
    front matter and frame, the README's short texts, the stubs' docstrings."""
    strings = {}
    for path in sorted((GRADER / "locale" / "zh" / "LC_MESSAGES").glob("*.po")):
        for index, text in enumerate(po_translations(path)):
            strings[f"{path.name}#{index}"] = text
    rubric = tomllib.loads((GRADER / "rubric.toml").read_text())
    for where, text in _toml_strings(rubric, "rubric"):
        if where.endswith(("title_zh", "hint_zh")):
            strings[where] = text
    for term, names in texts.glossary().items():
        strings[f"glossary.{term}"] = names["zh"]
    tomls = [LESSONS / "zh" / "_notebook.toml", *sorted((GRADER / "assign" / "templates" / "zh").glob("*.toml")),
             *sorted((GRADER / "assign" / "docstrings" / "zh").glob("*.toml")),
             GRADER / "locale" / "zh" / "figures.toml"]
    for path in tomls:
        strings.update(_toml_strings(tomllib.loads(path.read_text()), path.name))
    for path in sorted((LESSONS / "zh").glob("*.md")):
        front = path.read_text().split("+++")[1]
        strings.update(_toml_strings(tomllib.loads(front), path.name))
    return {where: text for where, text in strings.items() if re.search(f"[{IDEOGRAPH}]", text)}


# -- the rules have teeth ------------------------------------------------------------------------
def test_ascii_punctuation_beside_chinese_is_found_and_code_and_formulas_are_not():
    assert punctuation_faults("计算梯度,然后相加")
    assert punctuation_faults("示例：x 的值（种子 3）; 输出")
    assert punctuation_faults("out (评估模式，第 1 遍)")
    assert punctuation_faults("显卡(GPU)的能力")
    assert punctuation_faults("dx（输入的梯度） 与 torch 不同")
    assert punctuation_faults('按 torch 的"Kaiming 均匀分布"规则')
    assert punctuation_faults("需要有人记账。本笔记本 仿照 torch.nn")
    assert not punctuation_faults("形状为 (N, C, H, W) 的输入，`b` 为 (F,)，$f(x, y)$ 与 `g(a, b)`：见 {name}。")
    assert not punctuation_faults("得分为 1,024，区间 [0, 1]，准确率达到 ${full_marks}。")


def test_a_hard_wrapped_chinese_paragraph_is_found_and_lists_tables_and_code_are_not():
    assert hard_wraps("第一行的中文\n接着写的中文。\n")
    assert hard_wraps("- 列表项的中文\n  续行的中文\n")
    assert not hard_wraps("第一段。\n\n第二段。\n- 一项\n- 另一项\n| a | b |\n| 中 | 文 |\n```\n代码\n代码\n```\n")
    assert not hard_wraps("English line\nwrapped here.\n")


def _punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def broken_bold(markdown: str) -> list[str]:
    """The ``**`` pairs that CommonMark does not read as bold: a closing ``**`` right after
    punctuation must be followed by a space or punctuation (``**答案。**下面`` shows its stars;
    ``**答案**。下面`` is bold), and likewise an opening ``**`` right before punctuation."""
    faults = []
    for line in prose(markdown).splitlines():
        stars = [match.start() for match in re.finditer(r"(?<!\*)\*\*(?!\*)", line)]
        for number, at in enumerate(stars):
            before = line[at - 1] if at else " "
            after = line[at + 2] if at + 2 < len(line) else " "
            if number % 2 == 0:
                broken = after.isspace() or (_punctuation(after) and not (before.isspace() or _punctuation(before)))
            else:
                broken = before.isspace() or (_punctuation(before) and not (after.isspace() or _punctuation(after)))
            if broken:
                faults.append(line.strip()[max(0, at - 20):at + 22])
    return faults


def test_bold_that_commonmark_would_not_render_is_found():
    assert broken_bold("成为一张输出图。**问题：**这个卷积核")
    assert broken_bold("**答案。**对比度调整")
    assert broken_bold("用**“对比度”**调整")
    assert not broken_bold("成为一张输出图。**问题**：这个卷积核，即**步幅**）；**答案。** 下一句")


def formula_faults(markdown: str) -> list[str]:
    """Full-width punctuation inside a formula, outside its \\text{...}: LaTeX does not know
    ``\\；`` and MathJax shows it as an error."""
    formulas = re.findall(r"\$\$.*?\$\$|\$[^${}\n][^$\n]*\$", re.sub(r"```.*?```", "", markdown, flags=re.S), flags=re.S)
    return [formula[:80] for formula in formulas
            if re.search(f"[{FULL_WIDTH}]", re.sub(r"\\text\{[^{}]*\}", "", formula))]


def test_full_width_punctuation_inside_a_formula_is_found():
    assert formula_faults(r"$$v \leftarrow \mu v + d \；\；（\text{第一步时 } v = d），$$")
    assert not formula_faults(r"$$v \;\;(\text{第一步时，} v = d),$$ 然后：$x$，见 ${name}。")


FORMULA_NAMES = {"out", "onehot"}  # names the lessons define for their formulas, in every language


def formula_english(markdown: str) -> list[str]:
    """English words in a formula's \\text{...}: the words a Chinese reader must read there (a
    code name the lesson's code or inline code uses, such as ``dout``, is not English)."""
    code = " ".join(re.findall(r"```.*?```|`[^`\n]*`", markdown, flags=re.S))
    names = set(re.findall(r"\w+", code.replace("\\_", "_"))) | FORMULA_NAMES
    return [text for text in re.findall(r"\\text\{([^{}]*)\}", markdown)
            if re.search("[A-Za-z]", text) and not re.search(f"[{IDEOGRAPH}]", text)
            and not (re.fullmatch(r"\w+", text.replace("\\_", "_")) and text.replace("\\_", "_") in names)]


def test_english_in_a_formula_is_found_and_code_names_are_not():
    lesson = "写成 `dout = grad(out)`：$$\\text{out} = \\text{new} + \\text{batch statistic} + \\text{dout} + \\text{旧值}$$"
    assert formula_english(lesson) == ["new", "batch statistic"]


# -- the kit's Chinese texts -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(chinese_markdown()))
def test_chinese_markdown_has_full_width_punctuation_and_one_line_per_paragraph(name):
    text = chinese_markdown()[name]
    assert not punctuation_faults(text), f"{name}:\n" + "\n".join(punctuation_faults(text))
    assert not hard_wraps(text), f"{name} hard-wraps its paragraphs:\n" + "\n".join(hard_wraps(text))
    assert not broken_bold(text), f"{name}: bold shown as stars:\n" + "\n".join(broken_bold(text))
    assert not formula_faults(text), f"{name}: full-width punctuation in a formula:\n" + "\n".join(formula_faults(text))
    assert not formula_english(text), f"{name}: English in a formula: {formula_english(text)}"


def test_every_short_chinese_text_has_full_width_punctuation_and_no_hard_wrap():
    """(A figure label's line break is its layout, not a wrap.)"""
    faults = [f"{where}: {fault}" for where, text in chinese_strings().items()
              for fault in punctuation_faults(text) + ([] if where.startswith("figures.toml") else string_wraps(text))]
    assert not faults, "\n".join(faults)


QUOTES = r"^[rfbRFB]*(\"\"\"|\'\'\'|\"|\')|(\"\"\"|\'\'\'|\"|\')$"


def code_texts(markdown: str) -> list[str]:
    """The Chinese a lesson's code cells print or say: their string literals (implicitly joined
    pieces as one: the reader sees where they meet) and comments."""
    found = []
    for code in re.findall(r"```python\n(.*?)```", markdown, flags=re.S):
        code = re.sub(r"\$\{\w+\}", "0", code)  # a lesson's placeholders, filled when the notebook is built
        strings, previous = [], None
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.STRING:
                if previous != tokenize.STRING:
                    strings.append([])
                strings[-1].append(token.string)
            elif token.type == tokenize.COMMENT and re.search(f"[{IDEOGRAPH}]", token.string):
                found.append(token.string.strip("#").strip())
            if token.type not in (tokenize.NL, tokenize.COMMENT):
                previous = token.type
        for pieces in strings:
            text = pieces[0] if len(pieces) == 1 else '"' + "".join(re.sub(QUOTES, "", piece) for piece in pieces) + '"'
            if re.search(f"[{IDEOGRAPH}]", text):
                found.append(text)
    return found


def test_the_code_cells_chinese_is_found():
    texts_ = code_texts('```python\nprint("还没有写完:写完后再运行")  # 注释(一)\nx = 1\n'
                        'print(f"准确率：{a} "\n      f"（{s} 秒）")\n```\n')
    assert texts_ == ["注释(一)", '"还没有写完:写完后再运行"', '"准确率：{a} （{s} 秒）"']


@pytest.mark.parametrize("name", sorted(path.name for path in (LESSONS / "zh").glob("*.md")))
def test_the_chinese_of_the_lessons_code_cells_has_full_width_punctuation(name):
    faults = [fault for text in code_texts((LESSONS / "zh" / name).read_text())
              for fault in punctuation_faults(re.sub(QUOTES, "", text))]
    assert not faults, f"{name}:\n" + "\n".join(faults)


# -- one set of terms ------------------------------------------------------------------------------
def rejected_terms() -> dict[str, str]:
    """Each rejected variant and the glossary term that replaces it."""
    glossary = tomllib.loads((LESSONS / "glossary.toml").read_text())
    return {variant: names["zh"] for names in glossary.values() for variant in names.get("zh_rejected", [])}


def test_the_glossary_rejects_the_variants_the_kit_used_to_mix():
    rejected = rejected_terms()
    for variant in ("反向计算", "前向计算", "反向丢弃法", "正确率", "残差模块", "参考解答", "评分器", "最小的失败样例", "抽样"):
        assert variant in rejected, variant


def test_no_chinese_text_uses_a_rejected_term():
    texts_ = {**chinese_markdown(), **chinese_strings()}
    found = [f"{where}: {variant!r} (the glossary says {term!r})"
             for where, text in texts_.items() for variant, term in rejected_terms().items()
             if re.search(variant, prose(text))]
    assert not found, "\n".join(found)


def test_the_report_s_own_joins_are_full_width_in_chinese():
    """The terminal report's check lines and feedback.md put the checks' Chinese titles and
    messages between the report's own separators: those follow the same style."""
    from grader import i18n
    from grader.results import FAILED, PASSED, CheckResult, NotGraded, Report, check_lines

    checks = [CheckResult("conv.a", "conv", "conv_output_size", "输出尺寸公式", 2, 2, PASSED),
              CheckResult("conv.b", "conv", "conv2d_forward", "前向传播", 6, 0, FAILED, "数值不对", hidden=True)]
    report = Report("sub", checks, ["conv"], 1.0, notes={"conv": ["用参考的 conv.py 评分"]})
    with i18n.speaking("zh"):
        texts_ = [line for check in checks for line in check_lines(check)]
        texts_ += [check.notebook_text() for check in checks]  # a notebook's check cell
        texts_ += [report.render_markdown("反馈"), NotGraded("压缩文件无法读取").render_markdown("反馈")]
    faults = [fault for text in texts_ for fault in punctuation_faults(text)]
    assert not faults, "\n".join(faults)
    assert "conv_output_size：输出尺寸公式" in texts_[0] and "*用参考的 conv.py 评分。*" in texts_[-2]
