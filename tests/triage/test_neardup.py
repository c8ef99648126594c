"""The near-duplicate kernel: fingerprints, distances, the banded index and cluster terms (no Django)."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuaixiang.triage.neardup import (
    MAX_DISTANCE,
    SimHashIndex,
    bands,
    hamming,
    normalise,
    shingles,
    simhash,
    to_signed,
    to_unsigned,
    top_terms,
)

fingerprints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
texts = st.text(min_size=0, max_size=200)


def flip(fp: int, bits: list[int]) -> int:
    u = to_unsigned(fp)
    for bit in bits:
        u ^= 1 << bit
    return to_signed(u)


@given(texts)
def test_simhash_is_a_signed_64_bit_int_and_deterministic(text):
    fp = simhash(text)
    assert -(2**63) <= fp < 2**63
    assert simhash(text) == fp


def test_simhash_ignores_punctuation_case_width_and_spacing():
    assert simhash("宽带断网三天了，请尽快处理！") == simhash("宽带 断网 三天了 请尽快处理")
    assert simhash("ABC套餐扣费") == simhash("ａｂｃ套餐扣费")
    assert simhash("！！！。。。") == 0 == simhash("")


def test_small_edit_of_a_long_text_stays_near_and_other_text_is_far():
    base = (
        "我家小区的宽带从上周五开始就一直断网，打了三次客服电话都说会派人上门，"
        "但到现在也没有人来处理，严重影响孩子上网课"
    )
    edited = base.replace("三次", "3次")
    other = "营业厅的工作人员态度恶劣，办理携号转网时故意刁难，还说我的套餐不能退订，要求给个说法并道歉"
    assert hamming(simhash(base), simhash(edited)) <= 8
    assert hamming(simhash(base), simhash(other)) > 16


@given(fingerprints, fingerprints)
def test_hamming_is_a_metric_on_the_bit_pattern(a, b):
    assert hamming(a, b) == hamming(b, a) == hamming(to_unsigned(a), to_unsigned(b))
    assert (hamming(a, b) == 0) == (a == b)
    assert 0 <= hamming(a, b) <= 64


@given(fingerprints)
def test_signed_unsigned_round_trip_and_bands_cover_all_bits(fp):
    assert to_signed(to_unsigned(fp)) == fp
    values = bands(fp)
    assert len(values) == 4 and all(0 <= v < 2**16 for v in values)
    assert sum(v << (16 * i) for i, v in enumerate(values)) == to_unsigned(fp)


@settings(max_examples=200)
@given(fingerprints, st.lists(st.integers(0, 63), max_size=MAX_DISTANCE, unique=True), fingerprints)
def test_index_finds_every_fingerprint_within_three_bits(fp, bits, noise):
    index = SimHashIndex()
    index.add("noise", noise)
    index.add("target", fp)
    query = flip(fp, bits)
    found = dict(index.near(query))
    assert found["target"] == len(bits)
    if hamming(noise, query) <= MAX_DISTANCE:
        assert found["noise"] == hamming(noise, query)
    else:
        assert "noise" not in found


@settings(max_examples=50)
@given(st.lists(fingerprints, min_size=1, max_size=60), fingerprints, st.integers(0, MAX_DISTANCE))
def test_index_near_equals_brute_force(fps, query, max_distance):
    index = SimHashIndex()
    for key, fp in enumerate(fps):
        index.add(key, fp)
    expected = sorted((k, hamming(query, fp)) for k, fp in enumerate(fps) if hamming(query, fp) <= max_distance)
    result = index.near(query, max_distance)
    assert sorted(result) == expected
    assert [d for _, d in result] == sorted(d for _, d in result)


def test_index_add_replaces_and_remove_forgets():
    index = SimHashIndex()
    index.add(1, 0)
    index.add(1, -1)  # all 64 bits set: far from 0
    assert index.near(0) == [] and index.near(-1) == [(1, 0)]
    index.remove(1)
    index.remove(1)  # a missing key is no error
    assert len(index) == 0 and index.near(-1) == [] and 1 not in index


def test_index_refuses_distances_bands_cannot_guarantee():
    with pytest.raises(ValueError):
        SimHashIndex().near(0, max_distance=4)


def test_index_with_many_random_fingerprints_finds_planted_neighbours():
    rng = random.Random(4)
    index = SimHashIndex()
    for key in range(20_000):
        index.add(key, to_signed(rng.getrandbits(64)))
    target = to_signed(rng.getrandbits(64))
    index.add("planted", flip(target, [1, 30, 62]))
    assert ("planted", 3) in index.near(target)


@given(texts, st.integers(1, 5))
def test_shingles_cover_the_normalised_text(text, k):
    grams = shingles(text, k)
    norm = normalise(text)
    if not norm:
        assert grams == []
    elif len(norm) <= k:
        assert grams == [norm]
    else:
        assert len(grams) == len(norm) - k + 1 and all(len(g) == k for g in grams)
        assert "".join(g[0] for g in grams) + grams[-1][1:] == norm


def test_shingles_refuse_k_below_one():
    with pytest.raises(ValueError):
        shingles("宽带", 0)


def test_top_terms_describe_a_cluster():
    cluster = ["充电器用了两天就坏了", "买的充电器坏了，无法充电", "充电器发烫坏了", "这个充电器质量太差"]
    terms = top_terms(cluster, 3)
    assert terms[0] == ("充电器", 4)
    assert all(count <= 4 for _, count in terms)
    assert ("的了", 1) not in terms


@given(st.lists(texts, max_size=10), st.integers(0, 8))
def test_top_terms_are_bounded_and_sorted(group, n):
    terms = top_terms(group, n)
    assert len(terms) <= n
    counts = [c for _, c in terms]
    assert counts == sorted(counts, reverse=True)
    assert all(1 <= c <= len(group) for c in counts)
