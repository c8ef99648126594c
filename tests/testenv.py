"""Test-wide environment (loaded with -p before Django reads its settings)."""

import os
import tempfile

os.environ.setdefault("KX_TESTING", "1")
os.environ.setdefault("KX_VAR_DIR", tempfile.mkdtemp(prefix="kx-test-"))
