import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tools/ is importable as a package from the repo root
    sys.path.insert(0, str(ROOT))
