"""``manage.py train_classifier``: train the category classifier on a CSV or on archived complaints."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kuaixiang.triage.classifier import (
    ClassifierError,
    TrainOptions,
    cross_validate,
    prepare_examples,
    save_model,
    train,
)
from kuaixiang.triage.tabular import GB_FALLBACK, read_table


class Command(BaseCommand):
    help = (
        "训练投诉分类模型：从 CSV（--csv）或已归档工单（--from-db）读取文本和分类，写出模型文件。"
        " / Train the complaint category classifier from a CSV or from archived complaints."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--csv", help="带表头的 CSV 文件 / CSV file with a header row")
        source.add_argument(
            "--from-db",
            action="store_true",
            help="用已归档工单的投诉内容和分类完整路径训练 / train on archived complaints (description, category)",
        )
        parser.add_argument("--text-col", default="text", help="文本列名 / text column (default: text)")
        parser.add_argument("--label-col", default="category", help="分类列名 / label column (default: category)")
        parser.add_argument("--out", required=True, help="模型文件路径 / model file to write")
        parser.add_argument(
            "--cv", type=int, default=0, metavar="K", help="先做 K 折交叉验证 / run K-fold cross-validation first"
        )
        parser.add_argument("--encoding", help="CSV 编码（默认自动：UTF-8，或 GBK/GB18030）/ CSV encoding")
        parser.add_argument(
            "--drop-rare",
            action="store_true",
            help="忽略样本过少的分类（默认拒绝）/ drop labels with too few examples instead of refusing",
        )
        parser.add_argument(
            "--min-examples", type=int, default=2, help="每个分类至少的样本数（≥2）/ examples needed per label"
        )
        parser.add_argument("--C", type=float, default=TrainOptions.C, help="LinearSVC C (default %(default)s)")

    def handle(self, *args, **options):
        try:
            self._handle(**options)
        except ClassifierError as exc:
            raise CommandError(str(exc)) from None

    def _handle(self, **options):
        out = Path(options["out"])
        if out.is_dir() or not out.parent.is_dir():
            why_zh, why_en = (
                ("这是一个目录", "it is a folder") if out.is_dir() else ("所在目录不存在", "no such folder")
            )
            raise ClassifierError(
                f"无法写入模型文件 {out}：{why_zh}。", f"Cannot write the model file {out}: {why_en}.", code="out"
            )
        if options["cv"] == 1 or options["cv"] < 0:
            raise ClassifierError("--cv 需要至少 2 折。", "--cv needs at least 2 folds.")
        self.started = time.perf_counter()
        texts, labels = self._from_db() if options["from_db"] else self._from_csv(options)
        examples = prepare_examples(texts, labels, min_examples=options["min_examples"], drop_rare=options["drop_rare"])
        if examples.skipped_empty_text or examples.skipped_empty_label:
            self.stderr.write(
                self.style.WARNING(
                    f"跳过文本为空的 {examples.skipped_empty_text} 行、分类为空的 {examples.skipped_empty_label} 行"
                    f" / skipped {examples.skipped_empty_text} rows with empty text,"
                    f" {examples.skipped_empty_label} with empty label"
                )
            )
        for label, n in examples.dropped_labels.items():
            self.stderr.write(
                self.style.WARNING(f"忽略分类“{label}”（仅 {n} 条样本）/ dropped label '{label}' ({n} examples)")
            )
        counts = examples.label_counts
        n = len(examples.texts)
        self._progress(f"{n:,} 条样本，{len(counts)} 个分类 / {n:,} examples, {len(counts)} labels")
        train_options = TrainOptions(C=options["C"], min_examples=options["min_examples"])
        cv_result = None
        if options["cv"]:
            cv_result = cross_validate(
                examples.texts, examples.labels, folds=options["cv"], options=train_options, progress=self._progress
            )
            self._progress(
                f"交叉验证 macro-F1 / cross-validated macro-F1: 均值 mean {cv_result['macro_f1_mean']:.4f}，"
                f"中位数 median {cv_result['macro_f1_median']:.4f}（各折 folds {cv_result['macro_f1']}）"
            )
        model = train(examples.texts, examples.labels, options=train_options, progress=self._progress)
        metrics = model.header["metrics"]
        if cv_result:
            metrics["cv"] = cv_result
        model.header["source"] = "database" if options["from_db"] else Path(options["csv"]).name
        model.header["skipped_rows"] = examples.skipped_empty_text + examples.skipped_empty_label
        model.header["dropped_labels"] = examples.dropped_labels
        save_model(model, out)
        self.stdout.write(
            self.style.SUCCESS(
                f"已写出模型 / model written: {out}（{len(model.labels)} 个分类 labels，"
                f"{model.header['n_samples']:,} 条样本 examples，"
                f"留出 macro-F1 / out-of-fold macro-F1 {metrics.get('oof_macro_f1', '—')}，"
                f"用时 / took {time.perf_counter() - self.started:.1f}s）"
            )
        )

    def _progress(self, message: str) -> None:
        self.stdout.write(f"[{time.perf_counter() - self.started:6.1f}s] {message}")
        self.stdout.flush()

    def _from_csv(self, options) -> tuple[list[str], list[str]]:
        columns = [options["text_col"], options["label_col"]]
        table = read_table(options["csv"], columns=columns, encoding=options["encoding"])
        if table.encoding == GB_FALLBACK:
            self.stderr.write(self.style.WARNING("文件不是 UTF-8，已按 GBK/GB18030 解码 / decoded as GBK/GB18030"))
        self._progress(f"读取 / read {table.n_rows:,} 行 rows（{table.encoding}）: {table.path}")
        return table.column(options["text_col"]), table.column(options["label_col"])

    def _from_db(self) -> tuple[list[str], list[str]]:
        from kuaixiang.complaints.lifecycle import State
        from kuaixiang.complaints.models import Complaint

        rows = (
            Complaint.objects.filter(status=State.ARCHIVED, category__isnull=False)
            .order_by("pk")
            .values_list("description", "category__full_name")
        )
        texts: list[str] = []
        labels: list[str] = []
        for description, category in rows.iterator(chunk_size=5000):
            texts.append(description)
            labels.append(category)
        self._progress(f"读取已归档工单 / read {len(texts):,} archived complaints")
        if not texts:
            raise ClassifierError(
                "没有带分类的已归档工单可供训练。", "There are no archived complaints with a category to train on."
            )
        return texts, labels
