"""The category classifier kernel: training, suggestions, the model file, refusals (no Django, no database)."""

import json
import os
import random
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuaixiang.triage import classifier as clf
from kuaixiang.triage.classifier import (
    FORMAT_VERSION,
    ClassifierError,
    ModelCache,
    TrainOptions,
    cross_validate,
    load_model,
    prepare_examples,
    read_header,
    save_model,
    train,
)
from kuaixiang.triage.features import FeatureSpec, fit_features, ngrams, normalize

KEYWORDS = {
    "网络质量": ["信号", "断网", "网速慢", "宽带", "基站", "掉线", "上不了网", "无服务"],
    "账单费用": ["扣费", "话费", "账单", "多收钱", "套餐费", "退费", "余额", "乱收费"],
    "服务态度": ["客服", "态度差", "营业员", "挂电话", "推诿", "不耐烦", "骂人", "不理人"],
    "物业管理": ["电梯", "停车位", "保安", "噪音", "漏水", "垃圾", "绿化", "物业费"],
}
FILLERS = ["我家", "最近", "一直", "非常", "太差了", "希望尽快处理", "已经三天了", "请给个说法", "投诉", "影响生活"]


def synthetic_rows(per_label: int = 30, seed: int = 7) -> list[tuple[str, str]]:
    """Labelled Chinese complaint-like texts: two keywords of the label among common filler words."""
    rng = random.Random(seed)
    rows = []
    for label, words in KEYWORDS.items():
        for _ in range(per_label):
            parts = rng.sample(FILLERS, 3) + rng.sample(words, 2)
            rng.shuffle(parts)
            rows.append((label, "，".join(parts)))
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def rows():
    return synthetic_rows()


@pytest.fixture(scope="module")
def model(rows):
    labels, texts = zip(*rows, strict=True)
    return train(list(texts), list(labels))


@pytest.fixture(scope="module")
def model_file(model, tmp_path_factory):
    return save_model(model, tmp_path_factory.mktemp("model") / "classifier.kxm")


class TestTrainingAndPrediction:
    def test_a_model_trained_on_labelled_texts_predicts_their_categories(self, model):
        texts = ["家里宽带又断网了", "这个月话费多扣了五十元要求退费", "客服态度差还挂电话", "小区电梯坏了物业不管"]
        predicted = [s.label for s in model.predict(texts)]
        assert predicted == ["网络质量", "账单费用", "服务态度", "物业管理"]

    def test_suggestions_are_ordered_by_confidence_and_confidences_are_probabilities(self, model):
        suggestions = model.suggest("宽带掉线，客服态度差", k=3)
        assert len(suggestions) == 3
        assert len({s.label for s in suggestions}) == 3
        confidences = [s.confidence for s in suggestions]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert {suggestions[0].label, suggestions[1].label} == {"网络质量", "服务态度"}

    def test_top_k_is_capped_at_the_number_of_labels(self, model):
        assert len(model.suggest("电梯", k=10)) == 4
        assert len(model.suggest("电梯", k=0)) == 1

    def test_probabilities_sum_to_one_per_text(self, model):
        probs = model.probabilities(["宽带", "账单", "", "   "])
        assert probs.shape == (4, 4)
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)

    def test_a_clear_text_gets_a_high_confidence_and_an_empty_one_a_low_one(self, model):
        clear = model.predict(["宽带断网，基站没信号，网速慢"])[0]
        empty = model.predict(["？"])[0]
        assert clear.label == "网络质量" and clear.confidence > 0.6
        assert empty.confidence < clear.confidence

    def test_one_text_and_a_batch_give_the_same_scores(self, model, rows):
        texts = [t for _, t in rows[:20]] + ["", "完全无关的句子 abc"]
        batch = model.scores(texts)
        single = np.vstack([model.scores([t]) for t in texts])
        assert np.allclose(batch, single, atol=1e-5)

    def test_the_header_records_version_labels_size_and_metrics(self, model, rows):
        header = model.header
        assert header["format_version"] == FORMAT_VERSION
        assert header["labels"] == sorted(KEYWORDS)
        assert header["n_samples"] == len(rows)
        assert header["sklearn_version"]
        assert header["trained_at"].endswith("+00:00")
        assert 0.0 <= header["metrics"]["oof_macro_f1"] <= 1.0
        assert header["temperature"] > 0

    def test_two_labels_are_enough(self, rows):
        two = [(label, text) for label, text in rows if label in ("网络质量", "物业管理")]
        labels, texts = zip(*two, strict=True)
        model = train(list(texts), list(labels))
        assert [s.label for s in model.predict(["宽带断网", "电梯噪音"])] == ["网络质量", "物业管理"]
        assert len(model.suggest("宽带", k=3)) == 2

    def test_cross_validation_reports_macro_f1_per_fold(self, rows):
        labels, texts = zip(*rows, strict=True)
        result = cross_validate(list(texts), list(labels), folds=3)
        assert len(result["macro_f1"]) == 3
        assert result["macro_f1_mean"] > 0.8
        assert min(result["macro_f1"]) <= result["macro_f1_median"] <= max(result["macro_f1"])

    def test_cross_validation_refuses_more_folds_than_the_smallest_label_has_examples(self, rows):
        labels, texts = zip(*rows, strict=True)
        texts, labels = list(texts) + ["罕见一", "罕见二"], list(labels) + ["罕见", "罕见"]
        with pytest.raises(ClassifierError, match="5-fold"):
            cross_validate(texts, labels, folds=5)


@given(st.text(max_size=200))
@settings(max_examples=60, deadline=None)
def test_any_text_gets_valid_suggestions(text):
    model = _shared_model()
    suggestions = model.suggest(text, k=3)
    assert len(suggestions) == 3
    assert all(0.0 <= s.confidence <= 1.0 for s in suggestions)
    assert [s.confidence for s in suggestions] == sorted((s.confidence for s in suggestions), reverse=True)


_SHARED: list = []


def _shared_model():
    if not _SHARED:
        labels, texts = zip(*synthetic_rows(), strict=True)
        _SHARED.append(train(list(texts), list(labels), calibrate=False))
    return _SHARED[0]


class TestFeatures:
    def test_normalize_decodes_entities_folds_width_and_shortens_runs(self):
        assert normalize(" 真货&rdquo;！！！！！！ＡＢＣ１２３\\n好  用 ") == "真货”!!!abc123 好 用"

    def test_ngrams_are_cut_per_run_with_padding(self):
        assert ngrams("宽带 断网", 1, 2) == ["宽", "带", " 宽", "宽带", "带 ", "断", "网", " 断", "断网", "网 "]
        assert ngrams("", 1, 3) == []

    def test_our_transform_equals_scikit_learn_tfidf(self, rows):
        texts = [t for _, t in rows] + ["全新的字", ""]
        features, matrix = fit_features(texts, FeatureSpec())
        ours = features.transform(texts)
        assert ours.shape == matrix.shape
        assert abs(ours - matrix).max() < 1e-5


class TestExamples:
    def test_rows_with_empty_text_or_label_are_skipped_and_counted(self):
        texts = ["宽带断网", "  ", "", "话费", "电梯", "话费多扣", "断网"]
        examples = prepare_examples(texts, ["网", "网", "费", "费", "", "费", "网"])
        assert examples.texts == ["宽带断网", "话费", "话费多扣", "断网"]
        assert examples.labels == ["网", "费", "费", "网"]
        assert examples.skipped_empty_text == 2
        assert examples.skipped_empty_label == 1

    def test_all_rows_empty_is_refused(self):
        with pytest.raises(ClassifierError, match="没有可用的训练样本") as info:
            prepare_examples(["", " ", None], ["a", "b", "c"])
        assert "No usable training rows" in str(info.value)

    def test_a_label_with_a_single_example_is_refused_and_named(self):
        with pytest.raises(ClassifierError) as info:
            prepare_examples(["宽带", "断网", "话费", "电梯"], ["网络", "网络", "费用", "物业"])
        message = str(info.value)
        assert "“费用”（1 条）" in message and "'物业' (1)" in message and "--drop-rare" in message
        assert info.value.code == "rare_label"

    def test_drop_rare_leaves_single_example_labels_out(self):
        examples = prepare_examples(
            ["宽带", "断网", "话费", "账单", "电梯"], ["网络", "网络", "费用", "费用", "物业"], drop_rare=True
        )
        assert examples.dropped_labels == {"物业": 1}
        assert examples.label_counts == {"网络": 2, "费用": 2}

    def test_a_single_label_is_refused(self):
        with pytest.raises(ClassifierError, match="至少需要两个分类"):
            prepare_examples(["宽带", "断网"], ["网络", "网络"])


class TestModelFile:
    def test_a_saved_model_loads_with_the_same_predictions(self, model, model_file, rows):
        loaded = load_model(model_file)
        texts = [t for _, t in rows[:30]]
        assert loaded.labels == model.labels
        assert loaded.header == model.header
        assert np.allclose(loaded.probabilities(texts), model.probabilities(texts), atol=1e-6)

    def test_a_model_of_another_format_version_is_refused(self, model_file, tmp_path):
        other = tmp_path / "old.kxm"
        with zipfile.ZipFile(model_file) as src, zipfile.ZipFile(other, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "header.json":
                    header = json.loads(data)
                    header["format_version"] = FORMAT_VERSION + 1
                    data = json.dumps(header).encode()
                dst.writestr(item, data)
        with pytest.raises(ClassifierError) as info:
            load_model(other)
        assert info.value.code == "format_version"
        assert f"格式版本为 {FORMAT_VERSION + 1}" in str(info.value) and "Retrain" in str(info.value)

    @pytest.mark.parametrize(
        "content",
        [b"", b"category,text\n\xe4\xbd\xa0,x\n", b"PK\x03\x04 not really a zip", b"\x80\x04\x95 pickle-like"],
        ids=["empty", "csv", "fake-zip", "pickle"],
    )
    def test_a_file_that_is_no_model_is_refused(self, tmp_path, content):
        path = tmp_path / "not-a-model.kxm"
        path.write_bytes(content)
        with pytest.raises(ClassifierError) as info:
            load_model(path)
        assert info.value.code == "not_a_model"
        assert "不是快响分类模型文件" in str(info.value) and "not a kuaixiang classifier model" in str(info.value)

    def test_a_zip_of_something_else_is_refused(self, tmp_path):
        foreign = tmp_path / "foreign.zip"
        with zipfile.ZipFile(foreign, "w") as archive:
            archive.writestr("readme.txt", "hello")
        tagged = tmp_path / "tagged.zip"
        with zipfile.ZipFile(tagged, "w") as archive:
            archive.writestr("header.json", json.dumps({"format": "someone-else", "format_version": 1}))
        for path in (foreign, tagged):
            with pytest.raises(ClassifierError, match="不是快响分类模型文件"):
                load_model(path)

    def test_a_damaged_model_is_refused(self, model_file, tmp_path):
        damaged = tmp_path / "damaged.kxm"
        with zipfile.ZipFile(model_file) as src, zipfile.ZipFile(damaged, "w") as dst:
            dst.writestr("header.json", src.read("header.json"))
            dst.writestr("terms.json", "[]")
        with pytest.raises(ClassifierError) as info:
            load_model(damaged)
        assert info.value.code == "damaged"

    def test_a_truncated_model_is_refused(self, model_file, tmp_path):
        truncated = tmp_path / "truncated.kxm"
        truncated.write_bytes(model_file.read_bytes()[: os.path.getsize(model_file) // 2])
        with pytest.raises(ClassifierError):
            load_model(truncated)

    def test_a_missing_model_is_refused(self, tmp_path):
        with pytest.raises(ClassifierError, match="模型文件不存在"):
            read_header(tmp_path / "nothing.kxm")

    def test_a_failed_save_leaves_no_file_and_keeps_the_old_one(self, model, tmp_path, monkeypatch):
        target = tmp_path / "m.kxm"
        target.write_bytes(b"old model")

        def boom(array):
            raise OSError("disk full")

        monkeypatch.setattr(clf, "_npy", boom)
        with pytest.raises(OSError, match="disk full"):
            save_model(model, target)
        assert target.read_bytes() == b"old model"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.kxm"]

    def test_saving_into_a_missing_folder_is_refused(self, model, tmp_path):
        with pytest.raises(ClassifierError, match="目录不存在"):
            save_model(model, tmp_path / "missing" / "m.kxm")


class TestModelCache:
    def test_the_cache_reloads_a_replaced_model_and_keeps_an_unchanged_one(self, model, rows, tmp_path):
        path = tmp_path / "live.kxm"
        save_model(model, path)
        cache = ModelCache()
        first = cache.get(path)
        assert cache.get(path) is first

        labels, texts = zip(*[(label, text) for label, text in rows if label != "物业管理"], strict=True)
        save_model(train(list(texts), list(labels), options=TrainOptions(C=0.5)), path)
        second = cache.get(path)
        assert second is not first
        assert "物业管理" not in second.labels

    def test_the_cache_refuses_a_missing_file(self, tmp_path):
        with pytest.raises(ClassifierError, match="Model file not found"):
            ModelCache().get(tmp_path / "none.kxm")
