"""Seal and verify a 1-page and a 50-page document beside pyHanko alone, then each PAdES level
of the seal (B-B, B-T, B-LT, B-LTA) on a 1-page act (bench/seal_levels.py); figures only.

Run from the repository root: .venv/bin/python bench/seal_verify.py
The work lives in bench/sealing_pipeline.py: verification runs in child processes that import
this main script again, so it stays this small.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.seal_levels import main as levels
    from bench.sealing_pipeline import main

    main()
    levels()
