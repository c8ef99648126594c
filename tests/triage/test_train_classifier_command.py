"""``manage.py train_classifier`` and ``manage.py classify`` end to end, and every refusal: nothing written."""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint
from kuaixiang.triage.classifier import FORMAT_VERSION, read_header
from kuaixiang.triage.models import Category
from tests.personas import register
from tests.triage.test_classifier import synthetic_rows


def write_csv(path, rows, header=("category", "text"), encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def train_args(csv_path, out, *extra):
    return ["--csv", str(csv_path), "--text-col", "text", "--label-col", "category", "--out", str(out), *extra]


@pytest.fixture
def training_csv(tmp_path):
    return write_csv(tmp_path / "train.csv", synthetic_rows())


@pytest.fixture
def model_path(training_csv, tmp_path):
    out = tmp_path / "model.kxm"
    run("train_classifier", *train_args(training_csv, out))
    return out


class TestTrainAndClassify:
    def test_training_writes_a_versioned_model_and_shows_progress(self, training_csv, tmp_path):
        out = tmp_path / "model.kxm"
        stdout, _ = run("train_classifier", *train_args(training_csv, out))
        assert "向量化" in stdout and "calibration fold 3/3" in stdout and "fitting the final model" in stdout
        assert "model written" in stdout
        header = read_header(out)
        assert header["format_version"] == FORMAT_VERSION
        assert header["n_samples"] == 120
        assert header["labels"] == ["服务态度", "物业管理", "网络质量", "账单费用"]
        assert header["source"] == "train.csv"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left

    def test_training_with_cross_validation_records_the_folds(self, training_csv, tmp_path):
        out = tmp_path / "model.kxm"
        stdout, _ = run("train_classifier", *train_args(training_csv, out, "--cv", "3"))
        assert "cross-validation fold 3/3" in stdout and "cross-validated macro-F1" in stdout
        cv = read_header(out)["metrics"]["cv"]
        assert cv["folds"] == 3 and len(cv["macro_f1"]) == 3 and cv["macro_f1_mean"] > 0.8

    def test_classify_writes_text_predicted_confidence_to_stdout(self, model_path, tmp_path):
        texts = ["家里宽带又断网了", "话费多扣了要求退费", "客服态度差", "电梯坏了，物业不管"]
        path = write_csv(tmp_path / "new.csv", [[t, "x"] for t in texts], header=("text", "other"))
        stdout, stderr = run("classify", "--model", str(model_path), "--csv", str(path), "--text-col", "text")
        rows = list(csv.DictReader(io.StringIO(stdout)))
        assert list(rows[0]) == ["text", "predicted", "confidence"]
        assert [r["text"] for r in rows] == texts
        assert [r["predicted"] for r in rows] == ["网络质量", "账单费用", "服务态度", "物业管理"]
        assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)
        assert stderr == ""

    def test_classify_skips_empty_texts_and_says_how_many(self, model_path, tmp_path):
        path = write_csv(tmp_path / "new.csv", [["宽带断网"], [""], ["  "], ["电梯"]], header=("text",))
        stdout, stderr = run("classify", "--model", str(model_path), "--csv", str(path))
        assert len(list(csv.DictReader(io.StringIO(stdout)))) == 2
        assert "跳过文本为空的 2 行" in stderr and "skipped 2 rows" in stderr

    def test_a_gbk_export_is_decoded_and_the_user_told(self, tmp_path):
        path = write_csv(tmp_path / "gbk.csv", synthetic_rows(), encoding="gbk")
        out = tmp_path / "model.kxm"
        _, stderr = run("train_classifier", *train_args(path, out))
        assert "已按 GBK/GB18030 解码" in stderr
        assert read_header(out)["labels"] == ["服务态度", "物业管理", "网络质量", "账单费用"]
        stdout, stderr = run("classify", "--model", str(out), "--csv", str(path))
        assert "decoded as GBK/GB18030" in stderr
        assert len(list(csv.DictReader(io.StringIO(stdout)))) == 120

    def test_empty_text_rows_are_skipped_with_a_count(self, tmp_path):
        rows = synthetic_rows() + [["网络质量", ""], ["账单费用", "   "], ["", "没有分类的文本"]]
        out = tmp_path / "model.kxm"
        _, stderr = run("train_classifier", *train_args(write_csv(tmp_path / "t.csv", rows), out))
        assert "跳过文本为空的 2 行、分类为空的 1 行" in stderr
        assert read_header(out)["n_samples"] == 120

    def test_drop_rare_trains_without_the_single_example_label(self, tmp_path):
        rows = synthetic_rows() + [["孤例", "只有一条的分类"]]
        out = tmp_path / "model.kxm"
        _, stderr = run("train_classifier", *train_args(write_csv(tmp_path / "t.csv", rows), out, "--drop-rare"))
        assert "忽略分类“孤例”" in stderr
        header = read_header(out)
        assert "孤例" not in header["labels"] and header["dropped_labels"] == {"孤例": 1}


class TestRefusals:
    """Each bad input: a CommandError in Chinese and English, and no model file (an old one untouched)."""

    @pytest.fixture
    def out(self, tmp_path):
        path = tmp_path / "previous.kxm"
        path.write_bytes(b"previous model")
        return path

    def refuse(self, out, *args, name="train_classifier"):
        with pytest.raises(CommandError) as info:
            run(name, *args)
        assert out.read_bytes() == b"previous model"
        assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []
        return str(info.value)

    def test_a_csv_without_the_named_columns(self, tmp_path, out):
        path = write_csv(tmp_path / "t.csv", synthetic_rows(), header=("类别", "内容"))
        message = self.refuse(out, *train_args(path, out))
        assert "CSV 中没有列：text、category" in message and "Columns present: 类别, 内容" in message

    def test_a_csv_whose_texts_are_all_empty(self, tmp_path, out):
        path = write_csv(tmp_path / "t.csv", [["网络", ""], ["费用", " "]])
        message = self.refuse(out, *train_args(path, out))
        assert "没有可用的训练样本" in message and "2 with empty text" in message

    def test_a_csv_in_an_unknown_encoding(self, tmp_path, out):
        path = tmp_path / "big5.csv"
        path.write_bytes("category,text\n網絡,寬帶斷網三天了\n費用,話費多扣五十元\n".encode("big5"))
        message = self.refuse(out, *train_args(path, out))
        assert "既不是 UTF-8 也不是 GBK/GB18030" in message and "--encoding" in message

    def test_a_label_with_a_single_example(self, tmp_path, out):
        path = write_csv(tmp_path / "t.csv", synthetic_rows() + [["孤例", "只有一条的分类"]])
        message = self.refuse(out, *train_args(path, out))
        assert "“孤例”（1 条）" in message and "'孤例' (1)" in message and "--drop-rare" in message

    def test_a_single_label(self, tmp_path, out):
        path = write_csv(tmp_path / "t.csv", [["网络", "宽带断网"], ["网络", "信号差"]])
        assert "至少需要两个分类" in self.refuse(out, *train_args(path, out))

    def test_more_folds_than_the_smallest_label_has(self, training_csv, out):
        message = self.refuse(out, *train_args(training_csv, out, "--cv", "40"))
        assert "40-fold cross-validation needs 40 examples per label" in message

    def test_an_output_folder_that_does_not_exist(self, training_csv, tmp_path):
        with pytest.raises(CommandError, match="所在目录不存在"):
            run("train_classifier", *train_args(training_csv, tmp_path / "no" / "m.kxm"))
        assert not (tmp_path / "no").exists()

    def test_a_missing_csv(self, tmp_path, out):
        assert "CSV file not found" in self.refuse(out, *train_args(tmp_path / "none.csv", out))

    def test_classify_with_a_model_of_another_version(self, model_path, tmp_path, out):
        other = tmp_path / "v999.kxm"
        with zipfile.ZipFile(model_path) as src, zipfile.ZipFile(other, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "header.json":
                    data = json.dumps({**json.loads(data), "format_version": 999}).encode()
                dst.writestr(item, data)
        path = write_csv(tmp_path / "new.csv", [["宽带断网"]], header=("text",))
        message = self.refuse(out, "--model", str(other), "--csv", str(path), name="classify")
        assert "格式版本为 999" in message and "format version 999" in message

    def test_classify_with_a_file_that_is_no_model(self, tmp_path, out):
        path = write_csv(tmp_path / "new.csv", [["宽带断网"]], header=("text",))
        message = self.refuse(out, "--model", str(path), "--csv", str(path), name="classify")
        assert "不是快响分类模型文件" in message

    def test_classify_a_csv_without_the_text_column(self, model_path, tmp_path, out):
        path = write_csv(tmp_path / "new.csv", [["宽带断网"]], header=("内容",))
        message = self.refuse(out, "--model", str(model_path), "--csv", str(path), name="classify")
        assert "现有列：内容" in message

    def test_classify_a_csv_whose_texts_are_all_empty(self, model_path, tmp_path, out):
        path = write_csv(tmp_path / "new.csv", [[""], ["  "]], header=("text",))
        message = self.refuse(out, "--model", str(model_path), "--csv", str(path), name="classify")
        assert "no non-empty text" in message


def test_training_from_the_database_uses_archived_complaints_only(org, tmp_path):
    billing = Category.objects.create(name="账单费用", code="bill")
    by_label = {"网络质量": org.leaf, "账单费用": billing}
    archived = []
    for label, text in synthetic_rows(per_label=8):
        if label in by_label:
            archived.append(register(org.agent, description=text, category_id=by_label[label].pk).pk)
    register(org.agent, description="宽带断网，还没归档", category_id=billing.pk)  # open: not training data
    # The lifecycle to the archive is tested in tests/complaints; here only archived rows matter.
    Complaint.objects.filter(pk__in=archived).update(status=State.ARCHIVED)

    out = tmp_path / "db.kxm"
    stdout, _ = run("train_classifier", "--from-db", "--out", str(out))
    assert "read 16 archived complaints" in stdout
    header = read_header(out)
    assert header["n_samples"] == 16 and header["source"] == "database"
    assert header["labels"] == ["网络质量 / 移动网络 / 信号弱", "账单费用"]


def test_training_from_an_empty_database_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no archived complaints"):
        run("train_classifier", "--from-db", "--out", str(tmp_path / "m.kxm"))
    assert not (tmp_path / "m.kxm").exists()
