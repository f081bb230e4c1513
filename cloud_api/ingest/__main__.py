"""``python -m cloud_api.ingest``: the worker without the installed console script."""

import sys

from cloud_api.ingest.main import main

sys.exit(main())
