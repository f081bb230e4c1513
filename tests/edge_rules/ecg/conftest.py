import sys
from pathlib import Path

# make the sibling helper module `synth` importable without a package __init__
sys.path.insert(0, str(Path(__file__).parent))
