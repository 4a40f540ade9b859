"""grader/data.py's load_mnist, as a student calls it from a notebook: its refusals are one clear
sentence in the grader's language (English or Chinese)."""

from __future__ import annotations

import gzip

import pytest

from grader import data
from grader.i18n import speaking


def test_a_wrong_split_is_refused_in_english_and_in_chinese():
    with pytest.raises(ValueError, match=r"split must be one of .* not 'test'"):
        data.load_mnist("test")
    with speaking("zh"), pytest.raises(ValueError, match=r"split 必须是 .* 之一，而不是 'test'"):
        data.load_mnist("test")


def test_a_folder_without_idx_files_and_a_broken_idx_file_are_named_in_chinese(tmp_path):
    with speaking("zh"):
        with pytest.raises(FileNotFoundError, match="不是存放 MNIST IDX 文件的文件夹"):
            data.load_mnist("train", path=tmp_path / "nosuch")
        with pytest.raises(FileNotFoundError, match="中没有 train-images-idx3-ubyte（或它的 .gz）"):
            data.load_mnist("train", path=tmp_path)
        (tmp_path / "bad.gz").write_bytes(b"not gzip")
        with pytest.raises(ValueError, match="bad.gz: 无法读取"):
            data.read_idx(tmp_path / "bad.gz")
        (tmp_path / "short").write_bytes(gzip.decompress(gzip.compress(b"\x00\x00\x08\x01\x00")))
        with pytest.raises(ValueError, match="short: IDX 文件头不完整"):
            data.read_idx(tmp_path / "short")


def test_missing_digits_are_named_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path))
    with speaking("zh"), pytest.raises(FileNotFoundError, match="找不到 MNIST 数字"):
        data.load_mnist("train")
