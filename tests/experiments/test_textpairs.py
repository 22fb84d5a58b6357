"""Tests of the sentence-pair loader against the facts of the shared data."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from experiments.data.textpairs import TextPairs
from experiments.data.textpairs import as_dataset
from experiments.data.textpairs import load_text_pairs

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "textpairs"
needs_data = pytest.mark.skipif(
    not (DATA / "twitter_url" / "train.tsv.gz").exists(),
    reason=f"shared text-pair data not found at {DATA}",
)


@needs_data
@pytest.mark.parametrize(
    "split, size, positives", [("train", 42200, 11167), ("test", 9324, 1820)]
)
def test_twitter_url_counts_match_the_data_readme(split, size, positives):
    pairs = load_text_pairs("twitter_url", split, DATA)
    assert len(pairs) == size
    assert int(pairs.labels.sum()) == positives
    assert set(np.unique(pairs.labels)) == {0, 1}


@needs_data
def test_twitter_url_first_row_is_read_as_written():
    pairs = load_text_pairs("twitter_url", "train", DATA)
    assert pairs.a[0] == (
        "how the metaphors we use to describe discovery affect men and women "
        "in the sciences"
    )
    assert pairs.b[0] == (
        "light bulbs or seeds ? how metaphors for ideas influence judgments "
        "about genius"
    )
    assert pairs.labels[0] == 0


@needs_data
@pytest.mark.parametrize("split, size", [("train", 8672), ("dev", 1130), ("test", 2351)])
def test_wikiqa_counts_match_the_data_readme(split, size):
    pairs = load_text_pairs("wikiqa", split, DATA)
    assert len(pairs) == size
    # WikiQA pairs a question with candidate sentences from one page.
    assert pairs.a[0] == pairs.a[1]


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)


def test_quote_tokens_are_text_not_csv_quoting(tmp_path):
    _write(
        tmp_path / "twitter_url" / "train.tsv.gz",
        'sentence_a\tsentence_b\tlabel\n" hello " world\tsay " hi\t1\n',
    )
    pairs = load_text_pairs("twitter_url", "train", tmp_path)
    assert pairs.a.tolist() == ['" hello " world']
    assert pairs.b.tolist() == ['say " hi']
    assert pairs.labels.tolist() == [1]


def test_unexpected_header_is_an_error(tmp_path):
    _write(tmp_path / "twitter_url" / "test.tsv.gz", "a\tb\tlabel\nx\ty\t0\n")
    with pytest.raises(ValueError, match="header"):
        load_text_pairs("twitter_url", "test", tmp_path)


def test_labels_other_than_0_1_are_an_error(tmp_path):
    _write(
        tmp_path / "twitter_url" / "test.tsv.gz",
        "sentence_a\tsentence_b\tlabel\nx\ty\t2\n",
    )
    with pytest.raises(ValueError, match="0 or 1"):
        load_text_pairs("twitter_url", "test", tmp_path)


def test_unknown_task_and_split_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="task='quora'"):
        load_text_pairs("quora", "train", tmp_path)
    with pytest.raises(ValueError, match="split='dev'"):
        load_text_pairs("twitter_url", "dev", tmp_path)


def test_subsample_is_nested_and_keeps_pairs_aligned():
    n = 100
    pairs = TextPairs(
        [f"a{i}" for i in range(n)], [f"b{i}" for i in range(n)], np.arange(n) % 2
    )
    small, large = pairs.subsample(10, seed=3), pairs.subsample(40, seed=3)
    assert len(small) == 10 and len(large) == 40
    assert set(small.a) <= set(large.a)
    for a, b, y in zip(large.a, large.b, large.labels):
        assert b == "b" + a[1:] and y == int(a[1:]) % 2
    assert pairs.subsample(None) is pairs
    assert pairs.subsample(1000) is pairs


def test_as_dataset_yields_raw_string_batches():
    pairs = TextPairs(["x y", "z", "w"], ["p", "q r", "s"], [1, 0, 1])
    batches = list(as_dataset(pairs, batch_size=2))
    (a, b), y = batches[0]
    assert a.numpy().tolist() == [b"x y", b"z"]
    assert b.numpy().tolist() == [b"p", b"q r"]
    assert y.numpy().tolist() == [1, 0]
    assert len(batches) == 2
