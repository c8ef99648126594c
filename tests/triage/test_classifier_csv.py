"""Reading labelled CSV exports for the classifier: encodings, delimiters, missing columns."""

import pytest

from kuaixiang.triage.classifier import ClassifierError
from kuaixiang.triage.tabular import decode, read_table

CSV_TEXT = "category,text\n网络,宽带断网三天了\n费用,话费多扣五十元\n"
BIG5_TEXT = "category,text\n網絡,寬帶斷網三天了\n費用,話費多扣五十元\n"  # Taiwan / Hong Kong exports


def write(tmp_path, data: bytes, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_utf8_csv_is_read_by_column_name(tmp_path):
    table = read_table(write(tmp_path, CSV_TEXT.encode()), columns=["text", "category"])
    assert table.encoding == "utf-8"
    assert table.column("text") == ["宽带断网三天了", "话费多扣五十元"]
    assert table.column("category") == ["网络", "费用"]


def test_a_utf8_csv_with_a_byte_order_mark_is_read(tmp_path):
    table = read_table(write(tmp_path, b"\xef\xbb\xbf" + CSV_TEXT.encode()), columns=["category"])
    assert table.columns == ["category", "text"]
    assert table.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["gbk", "gb18030", "gb2312"])
def test_a_gbk_export_is_detected_and_decoded(tmp_path, codec):
    table = read_table(write(tmp_path, CSV_TEXT.encode(codec)), columns=["text"])
    assert table.encoding == "gb18030"
    assert table.column("text")[0] == "宽带断网三天了"


def test_a_utf16_tab_separated_export_is_read(tmp_path):
    data = CSV_TEXT.replace(",", "\t").encode("utf-16")
    table = read_table(write(tmp_path, data), columns=["text", "category"])
    assert table.delimiter == "\t"
    assert table.column("category") == ["网络", "费用"]


def test_a_file_in_another_encoding_is_refused_with_advice(tmp_path):
    data = BIG5_TEXT.encode("big5")
    with pytest.raises(ClassifierError) as info:
        read_table(write(tmp_path, data), columns=["text"])
    message = str(info.value)
    assert "既不是 UTF-8 也不是 GBK/GB18030" in message and "--encoding" in message
    assert info.value.code == "encoding"


def test_a_binary_file_is_refused(tmp_path):
    with pytest.raises(ClassifierError, match="neither UTF-8 nor GBK"):
        read_table(write(tmp_path, bytes(range(256)) * 4), columns=["text"])


def test_a_named_encoding_is_used_and_a_wrong_one_refused(tmp_path):
    path = write(tmp_path, BIG5_TEXT.encode("big5"))
    assert read_table(path, columns=["text"], encoding="big5").column("text")[1] == "話費多扣五十元"
    with pytest.raises(ClassifierError, match="cannot be decoded as utf-8"):
        read_table(path, columns=["text"], encoding="utf-8")
    with pytest.raises(ClassifierError, match="Unknown encoding"):
        read_table(path, columns=["text"], encoding="no-such-codec")


def test_a_missing_column_is_named_with_the_columns_present(tmp_path):
    path = write(tmp_path, "类别,内容\n网络,宽带断网\n".encode())
    with pytest.raises(ClassifierError) as info:
        read_table(path, columns=["text", "category"])
    message = str(info.value)
    assert "CSV 中没有列：text、category" in message
    assert "现有列：类别、内容" in message and "Columns present: 类别, 内容" in message
    assert info.value.code == "missing_column"


def test_an_empty_or_missing_file_is_refused(tmp_path):
    with pytest.raises(ClassifierError, match="CSV 文件是空的"):
        read_table(write(tmp_path, b"  \n"), columns=["text"])
    with pytest.raises(ClassifierError, match="CSV file not found"):
        read_table(tmp_path / "none.csv", columns=["text"])


def test_short_rows_and_blank_lines_give_empty_values(tmp_path):
    table = read_table(write(tmp_path, "category,text\n网络\n\n费用,话费\n".encode()), columns=["text", "category"])
    assert table.column("text") == ["", "话费"]


def test_a_quoted_text_with_commas_and_newlines_stays_one_value(tmp_path):
    table = read_table(write(tmp_path, 'category,text\n网络,"断网，\n又断网, 还断网"\n'.encode()), columns=["text"])
    assert table.column("text") == ["断网，\n又断网, 还断网"]


def test_decode_prefers_utf8_when_both_would_work():
    utf8 = "宽带断网".encode()
    assert utf8.decode("gb18030")  # GB18030 would accept these bytes too, as nonsense
    assert decode(utf8) == ("宽带断网", "utf-8")
