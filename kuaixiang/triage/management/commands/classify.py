"""``manage.py classify``: predict categories for a CSV column; CSV ``text,predicted,confidence`` on stdout."""

import csv
import io

from django.core.management.base import BaseCommand, CommandError

from kuaixiang.triage.classifier import ClassifierError, load_model
from kuaixiang.triage.tabular import GB_FALLBACK, read_table

BATCH = 2000


class Command(BaseCommand):
    help = (
        "用训练好的模型为 CSV 中的文本预测分类，输出 CSV（text,predicted,confidence）到标准输出。"
        " / Classify the texts of a CSV; writes text,predicted,confidence to stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="train_classifier 写出的模型文件 / model file")
        parser.add_argument("--csv", required=True, help="带表头的 CSV 文件 / CSV file with a header row")
        parser.add_argument("--text-col", default="text", help="文本列名 / text column (default: text)")
        parser.add_argument("--encoding", help="CSV 编码（默认自动：UTF-8，或 GBK/GB18030）/ CSV encoding")

    def handle(self, *args, **options):
        try:
            output, skipped, encoding = self._classify(**options)
        except ClassifierError as exc:
            raise CommandError(str(exc)) from None
        if encoding == GB_FALLBACK:
            self.stderr.write("文件不是 UTF-8，已按 GBK/GB18030 解码 / decoded as GBK/GB18030")
        if skipped:
            self.stderr.write(f"跳过文本为空的 {skipped} 行 / skipped {skipped} rows with empty text")
        self.stdout.write(output, ending="")

    def _classify(self, **options) -> tuple[str, int, str]:
        """Return the CSV output, the number of empty rows skipped and the encoding read; write nothing."""
        classifier = load_model(options["model"])
        text_col = options["text_col"]
        table = read_table(options["csv"], columns=[text_col], encoding=options["encoding"])
        texts = [t.strip() for t in table.column(text_col)]
        kept = [t for t in texts if t]
        if not kept:
            raise ClassifierError(
                f"“{text_col}”列没有非空文本（共 {len(texts)} 行）。",
                f"Column '{text_col}' has no non-empty text ({len(texts)} rows).",
                code="no_text",
            )
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["text", "predicted", "confidence"])
        for start in range(0, len(kept), BATCH):
            chunk = kept[start : start + BATCH]
            for text, prediction in zip(chunk, classifier.predict(chunk), strict=True):
                writer.writerow([text, prediction.label, f"{prediction.confidence:.4f}"])
        return buffer.getvalue(), len(texts) - len(kept), table.encoding
