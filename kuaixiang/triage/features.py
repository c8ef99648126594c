"""Text features for the category classifier (pure Python + numpy/scipy, no Django).

Chinese complaint texts are short (median ~34 characters) and unsegmented, so the features
are character n-grams: no word segmenter, no dictionary, nothing downloaded. A text is
normalised (:func:`normalize`), cut into n-grams per whitespace-separated run, each run
padded with one space on both sides so that its first and last characters get their own
grams (like scikit-learn's ``char_wb``), and weighted with TF-IDF (``1 + log tf`` times idf,
then L2-normalised).

Training fits the vocabulary and idf with scikit-learn (:func:`fit_features`); prediction
uses :class:`Features`, which holds only plain data (vocabulary list + idf array) and turns
texts into a CSR matrix itself — faster than going through the vectorizer per text, and
independent of the scikit-learn version that trained the model.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from operator import add
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["FeatureSpec", "Features", "fit_features", "ngrams", "normalize"]

_ESCAPES = re.compile(r"\\[nrt]")  # literal "\n" left in exports
_SPACES = re.compile(r"\s+")
_RUNS = re.compile(r"(.)\1{3,}")  # "？？？？？？" says no more than "？？？"


def normalize(text: str) -> str:
    """Return the canonical form the n-grams are cut from.

    HTML entities decoded (``&rdquo;``), literal ``\\n`` escapes turned into spaces, NFKC
    (full-width letters and digits to half-width), lower case, runs of one character longer
    than three shortened to three, whitespace collapsed and stripped.
    """
    text = html.unescape(text)
    text = _ESCAPES.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = _RUNS.sub(r"\1\1\1", text)
    return _SPACES.sub(" ", text).strip()


def ngrams(text: str, ngram_min: int = 1, ngram_max: int = 3) -> list[str]:
    """Character n-grams of the normalised ``text``, per whitespace-separated run, each run space-padded."""
    grams: list[str] = []
    for word in normalize(text).split(" "):
        if not word:
            continue
        padded = f" {word} "
        for n in range(ngram_min, ngram_max + 1):
            if n == 1:
                grams.extend(word)  # the padding alone is no feature
            elif n == 2:
                grams.extend(map(add, padded, padded[1:]))
            elif n == 3:
                grams.extend(map(add, map(add, padded, padded[1:]), padded[2:]))
            else:
                grams.extend([padded[i : i + n] for i in range(len(padded) - n + 1)])
    return grams


@dataclass(frozen=True)
class FeatureSpec:
    """How texts become vectors; stored in the model file so prediction cuts the same grams."""

    ngram_min: int = 1
    ngram_max: int = 3
    min_df: int = 2
    sublinear_tf: bool = True
    max_features: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def analyzer(self, text: str) -> list[str]:
        return ngrams(text, self.ngram_min, self.ngram_max)


@dataclass
class Features:
    """A fitted vocabulary with idf weights: turns texts into L2-normalised TF-IDF rows."""

    spec: FeatureSpec
    terms: list[str]
    idf: np.ndarray  # float32, one weight per term
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.idf = np.asarray(self.idf, dtype=np.float32)
        if len(self.terms) != len(self.idf):
            raise ValueError("terms and idf differ in length")
        self.index = {term: i for i, term in enumerate(self.terms)}

    @property
    def n_features(self) -> int:
        return len(self.terms)

    def _row(self, text: str) -> tuple[list[int], list[float]]:
        """Column indices and raw (possibly sublinear) term frequencies of the known grams of ``text``."""
        get = self.index.get
        cols: list[int] = []
        tf: list[float] = []
        table = _SUBLINEAR if self.spec.sublinear_tf else None
        for gram, count in Counter(self.spec.analyzer(text)).items():
            i = get(gram)
            if i is not None:
                cols.append(i)
                if table is None:
                    tf.append(float(count))
                else:
                    tf.append(table[count] if count < len(table) else 1.0 + math.log(count))
        return cols, tf

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text as (column indices, L2-normalised TF-IDF weights): the cheap path for a single text."""
        cols, tf = self._row(text)
        index = np.asarray(cols, dtype=np.intp)
        weights = np.asarray(tf, dtype=np.float32) * self.idf[index]
        norm = float(np.sqrt(weights @ weights)) if len(weights) else 0.0
        return index, (weights / norm if norm else weights)

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Return a (len(texts), n_features) float32 CSR matrix; unknown grams are ignored."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for text in texts:
            cols, tf = self._row(text)
            indices.extend(cols)
            data.extend(tf)
            indptr.append(len(indices))
        cols_arr = np.asarray(indices, dtype=np.int32)
        values = np.asarray(data, dtype=np.float32) * self.idf[cols_arr]
        ptr = np.asarray(indptr, dtype=np.int64)
        lengths = np.diff(ptr)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(lengths)))
        norms[norms == 0] = 1.0
        values /= norms[rows].astype(np.float32)
        return sp.csr_matrix((values, cols_arr, ptr), shape=(len(lengths), self.n_features), dtype=np.float32)


_SUBLINEAR = [0.0] + [1.0 + math.log(c) for c in range(1, 256)]


def fit_features(texts: Sequence[str], spec: FeatureSpec) -> tuple[Features, sp.csr_matrix]:
    """Fit vocabulary and idf on ``texts`` (scikit-learn's TfidfVectorizer); return them and the matrix.

    Raises ValueError when no n-gram occurs ``min_df`` times (e.g. every text empty).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=spec.analyzer,
        min_df=spec.min_df,
        sublinear_tf=spec.sublinear_tf,
        max_features=spec.max_features,
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform(texts)
    terms = [""] * len(vectorizer.vocabulary_)
    for term, i in vectorizer.vocabulary_.items():
        terms[i] = term
    return Features(spec, terms, vectorizer.idf_.astype(np.float32)), matrix.tocsr()
