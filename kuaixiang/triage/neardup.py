"""Near-duplicate texts: SimHash fingerprints over character shingles and a banded index (no Django).

Two complaints are near-duplicates when their 64-bit SimHash fingerprints differ in at most
three bits (:func:`hamming` ≤ 3). The fingerprint is computed from the character ``k``-grams
("shingles") of the :func:`normalise`\\d text, each weighted by its count, hashed with
BLAKE2b (stable across processes and machines, unlike ``hash()``).

Fingerprints are returned as *signed* 64-bit ints so they fit a database ``BIGINT``; the
bit pattern is what counts (:func:`hamming` and :func:`bands` work on it unsigned).

Lookup is by bands (pigeonhole): the 64 bits are cut into :data:`BANDS` bands of
:data:`BAND_BITS` bits. If two fingerprints differ in at most ``BANDS - 1`` bits, at least one
band is identical, so looking up the four bands of a fingerprint finds every fingerprint
within distance 3 — in memory (:class:`SimHashIndex`) or in the database (one indexed column
per band, ``Complaint.simhash_b0`` … ``simhash_b3``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable
from hashlib import blake2b

import numpy as np

from kuaixiang.triage.features import normalize

__all__ = [
    "BANDS",
    "BAND_BITS",
    "MAX_DISTANCE",
    "SimHashIndex",
    "bands",
    "hamming",
    "normalise",
    "shingles",
    "simhash",
    "to_signed",
    "to_unsigned",
    "top_terms",
]

BITS = 64
BANDS = 4
BAND_BITS = BITS // BANDS
BAND_MASK = (1 << BAND_BITS) - 1
MAX_DISTANCE = BANDS - 1  # the largest distance the banded lookup is guaranteed to find
_MASK64 = (1 << BITS) - 1
_SIGN = 1 << (BITS - 1)

_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols and spaces say nothing about sameness


def normalise(text: str) -> str:
    """The canonical form fingerprints are cut from: :func:`features.normalize` (entities, NFKC,
    lower case, long character runs shortened) with punctuation, symbols and spaces removed."""
    return _NOT_WORD.sub("", normalize(text or ""))


def shingles(text: str, k: int = 3) -> list[str]:
    """Overlapping character ``k``-grams of the normalised text; a shorter non-empty text is one shingle."""
    if k < 1:
        raise ValueError("k must be at least 1")
    norm = normalise(text)
    if len(norm) <= k:
        return [norm] if norm else []
    return [norm[i : i + k] for i in range(len(norm) - k + 1)]


def to_signed(value: int) -> int:
    """The unsigned 64-bit ``value`` as a signed 64-bit int (same bits)."""
    value &= _MASK64
    return value - (1 << BITS) if value & _SIGN else value


def to_unsigned(value: int) -> int:
    """The bit pattern of a signed (or unsigned) 64-bit int as an unsigned int."""
    return value & _MASK64


def simhash(text: str, k: int = 3) -> int:
    """64-bit SimHash of ``text`` as a signed int; 0 for a text without any letter or digit.

    Bit ``i`` is set when the count-weighted shingles whose hash has bit ``i`` set outweigh
    those where it is clear. Equal normalised texts get equal fingerprints; a small edit of a
    long text changes few bits.
    """
    counts = Counter(shingles(text, k))
    if not counts:
        return 0
    digests = b"".join(blake2b(s.encode("utf-8"), digest_size=8).digest() for s in counts)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(len(counts), 8), axis=1, bitorder="little")
    weight = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    votes = weight @ (bits.astype(np.int64) * 2 - 1)  # per bit: set minus clear, count-weighted
    packed = np.packbits(votes > 0, bitorder="little")
    return to_signed(int.from_bytes(packed.tobytes(), "little"))


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK64).bit_count()


def bands(fp: int) -> tuple[int, ...]:
    """The :data:`BANDS` band values of a fingerprint, lowest bits first, each in ``0 .. 2**16-1``."""
    u = fp & _MASK64
    return tuple((u >> (BAND_BITS * i)) & BAND_MASK for i in range(BANDS))


class SimHashIndex:
    """Fingerprints by key, looked up by band: ``near`` finds every key within distance ≤ 3.

    ``add`` of an existing key replaces its fingerprint; ``remove`` of a missing key is a no-op.
    """

    def __init__(self) -> None:
        self._fps: dict[Hashable, int] = {}
        self._buckets: list[dict[int, set[Hashable]]] = [{} for _ in range(BANDS)]

    def __len__(self) -> int:
        return len(self._fps)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._fps

    def add(self, key: Hashable, fp: int) -> None:
        if key in self._fps:
            self.remove(key)
        self._fps[key] = fp
        for bucket, value in zip(self._buckets, bands(fp), strict=True):
            bucket.setdefault(value, set()).add(key)

    def remove(self, key: Hashable) -> None:
        fp = self._fps.pop(key, None)
        if fp is None:
            return
        for bucket, value in zip(self._buckets, bands(fp), strict=True):
            keys = bucket[value]
            keys.discard(key)
            if not keys:
                del bucket[value]

    def near(self, fp: int, max_distance: int = MAX_DISTANCE) -> list[tuple[Hashable, int]]:
        """Keys whose fingerprint is within ``max_distance`` bits of ``fp``, as ``(key, distance)``,
        nearest first. ``max_distance`` above :data:`MAX_DISTANCE` is refused (bands could miss some)."""
        if not 0 <= max_distance <= MAX_DISTANCE:
            raise ValueError(f"max_distance must be between 0 and {MAX_DISTANCE}")
        seen: set[Hashable] = set()
        found: list[tuple[Hashable, int]] = []
        for bucket, value in zip(self._buckets, bands(fp), strict=True):
            for key in bucket.get(value, ()):
                if key in seen:
                    continue
                seen.add(key)
                distance = hamming(fp, self._fps[key])
                if distance <= max_distance:
                    found.append((key, distance))
        found.sort(key=lambda pair: pair[1])
        return found


# Function words and fillers that make frequent but meaningless bigrams in complaints.
_STOP_CHARS = frozenset("的了是我在有和就不也都而及与着或一个你他她它们这那啊吧呢吗呀哦么")
_LATIN_WORD = re.compile(r"[a-z0-9]{2,}")
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def top_terms(texts: Iterable[str], n: int = 10) -> list[tuple[str, int]]:
    """The ``n`` terms that describe a group of texts best, as ``(term, number of texts)``.

    Terms are Chinese character bigrams without function characters (的、了、是 …) and
    Latin/digit words of two or more characters, counted once per text; a trigram replaces
    its two bigrams when it occurs in at least as many texts as the rarer of them (so
    "充电器" is shown rather than "充电" and "电器"). Ties break by the term itself, so the
    result is deterministic.
    """
    bigram_df: Counter[str] = Counter()
    trigram_df: Counter[str] = Counter()
    for text in texts:
        norm = normalize(text or "")
        bi: set[str] = set()
        tri: set[str] = set()
        for run in _CJK.findall(norm):
            for i in range(len(run) - 1):
                gram = run[i : i + 2]
                if gram[0] in _STOP_CHARS or gram[1] in _STOP_CHARS:
                    continue
                bi.add(gram)
                if i + 2 < len(run) and run[i + 2] not in _STOP_CHARS:
                    tri.add(run[i : i + 3])
        bi.update(_LATIN_WORD.findall(norm))
        bigram_df.update(bi)
        trigram_df.update(tri)
    terms: Counter[str] = Counter(bigram_df)
    for gram, df in trigram_df.items():
        left, right = gram[:2], gram[1:]
        if df >= 2 and df >= min(bigram_df[left], bigram_df[right]):
            terms[gram] = df
            terms.pop(left, None)
            terms.pop(right, None)
    ranked = sorted(terms.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
