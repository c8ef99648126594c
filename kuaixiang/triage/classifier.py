"""Complaint category classifier: train, predict with confidence, save and load (pure, no Django).

Model: character n-gram TF-IDF (:mod:`kuaixiang.triage.features`) and a linear SVM
(``LinearSVC``, class-balanced weights — the small categories matter as much as the big
ones for macro-F1). Confidence is a softmax of the SVM scores with one temperature fitted on
out-of-fold scores (``calibration_folds``-fold cross-validation at training time), so it is
a probability-like number in [0, 1] whose top value tracks the observed accuracy.
``docs/classifier.md`` gives the measured figures and why this model was picked.

The model file is a zip archive holding ``header.json`` (format, ``format_version``,
scikit-learn version, labels, ``trained_at``, ``n_samples``, metrics, options) and plain
arrays (``.npy`` without pickle, the vocabulary as JSON): loading executes no code and does
not depend on the scikit-learn version. :func:`save_model` writes a temporary file and
renames it, so readers never see half a model; :class:`ModelCache` reloads a file when its
mtime, size or inode changes, so workers pick up a new model without a restart.

Every refusal raises :class:`ClassifierError`, whose message says what is wrong in Chinese
and in English.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kuaixiang.triage.features import Features, FeatureSpec, fit_features

__all__ = [
    "FORMAT_VERSION",
    "CategoryClassifier",
    "ClassifierError",
    "Examples",
    "ModelCache",
    "Suggestion",
    "TrainOptions",
    "cross_validate",
    "load_cached",
    "load_model",
    "prepare_examples",
    "save_model",
    "train",
]

FORMAT = "kuaixiang-category-classifier"
FORMAT_VERSION = 1
HEADER = "header.json"
_MEMBERS = ("terms.json", "idf.npy", "coef.npy", "intercept.npy")

Progress = Callable[[str], None]


class ClassifierError(Exception):
    """A refusal with a Chinese and an English explanation (``str()`` gives both, one per line)."""

    def __init__(self, zh: str, en: str, *, code: str = "classifier_error") -> None:
        self.zh, self.en, self.code = zh, en, code
        super().__init__(f"{zh}\n{en}")

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Suggestion:
    label: str
    confidence: float  # in [0, 1]


@dataclass(frozen=True)
class TrainOptions:
    """Training knobs; the defaults are the measured best on the dev set (docs/classifier.md)."""

    features: FeatureSpec = field(default_factory=FeatureSpec)
    C: float = 0.3
    class_weight: str | None = "balanced"
    calibration_folds: int = 3
    min_examples: int = 2
    drop_rare: bool = False
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["features"] = self.features.to_dict()
        return data


@dataclass
class Examples:
    """Training examples after cleaning, with what was left out and why."""

    texts: list[str]
    labels: list[str]
    skipped_empty_text: int = 0
    skipped_empty_label: int = 0
    dropped_labels: dict[str, int] = field(default_factory=dict)

    @property
    def label_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items()))


def prepare_examples(
    texts: Sequence[str | None], labels: Sequence[str | None], *, min_examples: int = 2, drop_rare: bool = False
) -> Examples:
    """Clean labelled rows for training.

    Rows with a blank text or a blank label are skipped and counted. A label with fewer than
    ``min_examples`` rows (at least 2: one example can be neither learnt nor checked) is
    refused — :class:`ClassifierError` naming the labels — unless ``drop_rare``, which drops
    those rows and records them in ``dropped_labels``. Refuses when nothing is left or fewer
    than two labels remain.
    """
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    min_examples = max(2, min_examples)
    kept_texts: list[str] = []
    kept_labels: list[str] = []
    empty_text = empty_label = 0
    for text, label in zip(texts, labels, strict=True):
        text = (text or "").strip()
        label = (label or "").strip()
        if not text:
            empty_text += 1
        elif not label:
            empty_label += 1
        else:
            kept_texts.append(text)
            kept_labels.append(label)
    if not kept_texts:
        raise ClassifierError(
            f"没有可用的训练样本：共 {len(texts)} 行，文本为空 {empty_text} 行，分类为空 {empty_label} 行。",
            f"No usable training rows: {len(texts)} rows, {empty_text} with empty text, "
            f"{empty_label} with empty label.",
            code="no_examples",
        )
    counts = Counter(kept_labels)
    rare = {label: n for label, n in sorted(counts.items()) if n < min_examples}
    if rare and not drop_rare:
        shown = "、".join(f"“{label}”（{n} 条）" for label, n in list(rare.items())[:10])
        shown_en = ", ".join(f"'{label}' ({n})" for label, n in list(rare.items())[:10])
        more = f" 等 {len(rare)} 个" if len(rare) > 10 else ""
        raise ClassifierError(
            f"以下分类的样本少于 {min_examples} 条，无法训练：{shown}{more}。"
            "请补充样本，或加 --drop-rare 忽略这些分类。",
            f"These labels have fewer than {min_examples} examples: {shown_en}"
            f"{f' and {len(rare) - 10} more' if len(rare) > 10 else ''}. "
            "Add examples, or pass --drop-rare to leave them out.",
            code="rare_label",
        )
    if rare:
        keep = [i for i, label in enumerate(kept_labels) if label not in rare]
        kept_texts = [kept_texts[i] for i in keep]
        kept_labels = [kept_labels[i] for i in keep]
    if len(set(kept_labels)) < 2:
        raise ClassifierError(
            f"至少需要两个分类才能训练，现有：{'、'.join(sorted(set(kept_labels))) or '无'}。",
            f"Training needs at least two labels; found: {', '.join(sorted(set(kept_labels))) or 'none'}.",
            code="one_label",
        )
    return Examples(kept_texts, kept_labels, empty_text, empty_label, rare)


class CategoryClassifier:
    """A trained model: features, one linear scorer per label, a softmax temperature, a header."""

    def __init__(
        self,
        *,
        features: Features,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: Sequence[str],
        temperature: float,
        header: dict[str, Any],
    ) -> None:
        self.features = features
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)  # (n_features, n_labels)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.labels = list(labels)
        self.temperature = float(temperature)
        self.header = header
        n_labels = len(self.labels)
        if self.coef.shape != (features.n_features, n_labels) or self.intercept.shape != (n_labels,):
            raise ValueError("model arrays do not match the vocabulary and labels")
        if not (self.temperature > 0):
            raise ValueError("temperature must be positive")

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Raw linear scores, shape (len(texts), n_labels)."""
        if len(texts) == 1:  # registration screen: skip building a sparse matrix
            cols, weights = self.features.vector(texts[0])
            single: np.ndarray = (weights @ self.coef[cols] + self.intercept)[None, :]
            return single
        matrix = self.features.transform(texts)
        batch: np.ndarray = np.asarray(matrix @ self.coef) + self.intercept
        return batch

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated confidences per label, rows summing to 1."""
        return _softmax(self.scores(texts) / self.temperature)

    def predict(self, texts: Sequence[str]) -> list[Suggestion]:
        """The best label and its confidence for each text."""
        probs = self.probabilities(texts)
        best = probs.argmax(axis=1)
        return [Suggestion(self.labels[j], float(probs[i, j])) for i, j in enumerate(best)]

    def suggest_many(self, texts: Sequence[str], k: int = 3) -> list[list[Suggestion]]:
        """Up to ``k`` labels per text, most confident first."""
        probs = self.probabilities(texts)
        k = max(1, min(k, len(self.labels)))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[Suggestion(self.labels[j], float(row[j])) for j in idx] for row, idx in zip(probs, order, strict=True)]

    def suggest(self, text: str, k: int = 3) -> list[Suggestion]:
        """Up to ``k`` labels for one text, most confident first."""
        return self.suggest_many([text], k)[0]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    result: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return result


def _fit_linear(matrix: Any, y: np.ndarray, n_labels: int, options: TrainOptions) -> tuple[np.ndarray, np.ndarray]:
    """Fit LinearSVC on label indices ``y``; return coef (n_features, n_labels) and intercept (n_labels,)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=options.C, class_weight=options.class_weight, max_iter=2000, random_state=options.seed)
    with warnings.catch_warnings():
        # a few hard examples may keep liblinear from its tolerance; the fit is still usable
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(matrix, y)
    coef: np.ndarray = np.asarray(model.coef_, dtype=np.float32)
    intercept: np.ndarray = np.asarray(model.intercept_, dtype=np.float32)
    present = list(model.classes_)
    if len(present) == 2 and coef.shape[0] == 1:  # binary: one scorer for the second class
        coef = np.vstack([-coef, coef]) / 2
        intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32) / 2
    full_coef = np.zeros((n_labels, coef.shape[1]), dtype=np.float32)
    full_intercept = np.full(n_labels, -1e3, dtype=np.float32)  # a label absent from this fold never wins
    full_coef[present] = coef
    full_intercept[present] = intercept
    return full_coef.T, full_intercept


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising the log loss of out-of-fold ``scores``."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        z = scores / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))

    result = minimize_scalar(nll, bounds=(np.log(0.01), np.log(10.0)), method="bounded")
    return float(np.exp(result.x))


def _macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro"))


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    options: TrainOptions | None = None,
    calibrate: bool = True,
    progress: Progress | None = None,
) -> CategoryClassifier:
    """Train on cleaned examples (see :func:`prepare_examples`); return the model.

    With ``calibrate`` (the default) the softmax temperature is fitted on out-of-fold scores
    and the header's metrics hold their macro-F1 and accuracy; without it (cross-validation
    folds) the temperature is 1 and training costs one fit.
    """
    import sklearn

    options = options or TrainOptions()
    say = progress or (lambda message: None)
    started = time.perf_counter()
    label_names = sorted(set(labels))
    if len(label_names) < 2:
        raise ClassifierError("至少需要两个分类才能训练。", "Training needs at least two labels.", code="one_label")
    y = np.searchsorted(np.array(label_names), np.array(labels))
    say(f"向量化 {len(texts):,} 条文本 / vectorising {len(texts):,} texts")
    try:
        features, matrix = fit_features(texts, options.features)
    except ValueError:
        raise ClassifierError(
            f"文本中没有出现至少 {options.features.min_df} 次的字符片段，样本太少或全部为空。",
            f"No character n-gram occurs {options.features.min_df} times: too few or empty texts.",
            code="no_features",
        ) from None
    say(f"特征 {features.n_features:,} 个 / {features.n_features:,} features")
    metrics: dict[str, float | int] = {}
    temperature = 1.0
    folds = min(options.calibration_folds, int(np.bincount(y).min()))
    if calibrate and folds >= 2:
        from sklearn.model_selection import StratifiedKFold

        oof = np.zeros((len(y), len(label_names)), dtype=np.float32)
        splits = StratifiedKFold(folds, shuffle=True, random_state=options.seed).split(np.zeros(len(y)), y)
        for number, (fit_rows, held_rows) in enumerate(splits, 1):
            say(f"校准 第 {number}/{folds} 折 / calibration fold {number}/{folds}")
            coef, intercept = _fit_linear(matrix[fit_rows], y[fit_rows], len(label_names), options)
            oof[held_rows] = np.asarray(matrix[held_rows] @ coef) + intercept
        temperature = _fit_temperature(oof, y)
        predicted = oof.argmax(axis=1)
        metrics = {
            "oof_folds": folds,
            "oof_macro_f1": round(_macro_f1(y, predicted), 4),
            "oof_accuracy": round(float(np.mean(predicted == y)), 4),
        }
    say("训练最终模型 / fitting the final model")
    coef, intercept = _fit_linear(matrix, y, len(label_names), options)
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "labels": label_names,
        "label_counts": {name: int(n) for name, n in zip(label_names, np.bincount(y), strict=True)},
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_samples": len(texts),
        "n_features": features.n_features,
        "temperature": temperature,
        "metrics": metrics,
        "options": options.to_dict(),
        "model": "char n-gram TF-IDF + LinearSVC, softmax(score / temperature)",
    }
    return CategoryClassifier(
        features=features, coef=coef, intercept=intercept, labels=label_names, temperature=temperature, header=header
    )


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    options: TrainOptions | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Stratified k-fold macro-F1 and accuracy (features refitted per fold; no calibration).

    Returns ``{"folds", "macro_f1": [...], "macro_f1_mean", "macro_f1_median", "accuracy_mean"}``.
    """
    from sklearn.model_selection import StratifiedKFold

    options = options or TrainOptions()
    say = progress or (lambda message: None)
    texts_arr = np.array(texts, dtype=object)
    labels_arr = np.array(labels)
    smallest = min(Counter(labels).values())
    if smallest < folds:
        raise ClassifierError(
            f"交叉验证 {folds} 折要求每个分类至少 {folds} 条样本，最少的分类只有 {smallest} 条。",
            f"{folds}-fold cross-validation needs {folds} examples per label; the smallest label has {smallest}.",
            code="cv_too_small",
        )
    scores: list[float] = []
    accuracies: list[float] = []
    splits = StratifiedKFold(folds, shuffle=True, random_state=options.seed).split(texts_arr, labels_arr)
    for number, (fit_rows, held_rows) in enumerate(splits, 1):
        say(f"交叉验证 第 {number}/{folds} 折 / cross-validation fold {number}/{folds}")
        model = train(list(texts_arr[fit_rows]), list(labels_arr[fit_rows]), options=options, calibrate=False)
        predicted = np.array([s.label for s in model.predict(list(texts_arr[held_rows]))])
        scores.append(_macro_f1(labels_arr[held_rows], predicted))
        accuracies.append(float(np.mean(predicted == labels_arr[held_rows])))
    return {
        "folds": folds,
        "macro_f1": [round(s, 4) for s in scores],
        "macro_f1_mean": round(float(np.mean(scores)), 4),
        "macro_f1_median": round(float(np.median(scores)), 4),
        "accuracy_mean": round(float(np.mean(accuracies)), 4),
    }


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def save_model(model: CategoryClassifier, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, then rename).

    Raises :class:`ClassifierError` when the folder does not exist; on any failure no file is left.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise ClassifierError(
            f"模型文件的目录不存在：{target.parent}", f"The folder for the model file does not exist: {target.parent}"
        )
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(HEADER, json.dumps(model.header, ensure_ascii=False, indent=2))
            archive.writestr("terms.json", json.dumps(model.features.terms, ensure_ascii=False))
            archive.writestr("idf.npy", _npy(model.features.idf))
            archive.writestr("coef.npy", _npy(model.coef))
            archive.writestr("intercept.npy", _npy(model.intercept))
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _not_a_model(path: Path, why: str) -> ClassifierError:
    return ClassifierError(
        f"{path} 不是快响分类模型文件（{why}）。请用 manage.py train_classifier 生成模型。",
        f"{path} is not a kuaixiang classifier model ({why}). Create one with manage.py train_classifier.",
        code="not_a_model",
    )


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the header of a model file; :class:`ClassifierError` for a missing, foreign or other-version file."""
    path = Path(path)
    if not path.is_file():
        raise ClassifierError(f"模型文件不存在：{path}", f"Model file not found: {path}", code="missing")
    try:
        with zipfile.ZipFile(path) as archive:
            header = json.loads(archive.read(HEADER).decode("utf-8"))
    except zipfile.BadZipFile:
        raise _not_a_model(path, "不是 zip 归档 / not a zip archive") from None
    except KeyError:
        raise _not_a_model(path, f"缺少 {HEADER} / no {HEADER}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _not_a_model(path, f"{HEADER} 无法解析 / {HEADER} unreadable") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _not_a_model(path, "格式标识不符 / wrong format tag")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ClassifierError(
            f"模型文件 {path} 的格式版本为 {version}，本程序只能读取版本 {FORMAT_VERSION}。"
            "请用 manage.py train_classifier 重新训练。",
            f"Model file {path} has format version {version}; this program reads version {FORMAT_VERSION}. "
            "Retrain it with manage.py train_classifier.",
            code="format_version",
        )
    return header


def load_model(path: str | os.PathLike[str]) -> CategoryClassifier:
    """Load a model written by :func:`save_model`; :class:`ClassifierError` for anything else, never a crash."""
    path = Path(path)
    header = read_header(path)
    try:
        with zipfile.ZipFile(path) as archive:
            terms = json.loads(archive.read("terms.json").decode("utf-8"))
            arrays = {name: np.load(io.BytesIO(archive.read(name)), allow_pickle=False) for name in _MEMBERS[1:]}
        features = Features(FeatureSpec.from_dict(header["options"]["features"]), terms, arrays["idf.npy"])
        return CategoryClassifier(
            features=features,
            coef=arrays["coef.npy"],
            intercept=arrays["intercept.npy"],
            labels=header["labels"],
            temperature=header["temperature"],
            header=header,
        )
    except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ClassifierError(
            f"模型文件 {path} 已损坏或不完整（{type(exc).__name__}）。请重新训练。",
            f"Model file {path} is damaged or incomplete ({type(exc).__name__}). Retrain it.",
            code="damaged",
        ) from None


class ModelCache:
    """Models by path, reloaded when the file's mtime, size or inode changes (thread-safe).

    A worker calls :meth:`get` per request; one ``stat`` per call, a reload only after
    ``train_classifier`` replaced the file (the rename gives it a new inode).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[int, int, int], CategoryClassifier]] = {}

    def get(self, path: str | os.PathLike[str]) -> CategoryClassifier:
        key = os.fspath(Path(path).resolve())
        try:
            st = os.stat(key)
        except FileNotFoundError:
            raise ClassifierError(f"模型文件不存在：{path}", f"Model file not found: {path}", code="missing") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        entry = self._entries.get(key)
        if entry and entry[0] == stamp:
            return entry[1]
        with self._lock:
            entry = self._entries.get(key)
            if entry and entry[0] == stamp:
                return entry[1]
            model = load_model(key)
            self._entries[key] = (stamp, model)
            return model

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = ModelCache()


def load_cached(path: str | os.PathLike[str]) -> CategoryClassifier:
    """The process-wide :class:`ModelCache`: the model at ``path``, reloaded when the file changes."""
    return _cache.get(path)
