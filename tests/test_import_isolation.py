"""`import cmvc_format` must not pull torch or av: third-party parsers and
light tools depend on the format alone."""
import subprocess
import sys


def test_cmvc_format_imports_neither_torch_nor_av():
    code = ("import sys, cmvc_format, cmvc_format.probe, cmvc_format.writer;"
            "bad = [m for m in ('torch', 'av', 'numpy') if m in sys.modules];"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
