"""A stock WsgiDAV share (FilesystemProvider, its defaults, anonymous) on cheroot: the reference server.

    python bench/stock_wsgidav.py ROOT PORT

Prints ``stock wsgidav ready`` once it listens; SIGTERM stops it.
"""

from __future__ import annotations

import signal
import sys
import threading

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp  # type: ignore[import-untyped]


def main(argv: list[str]) -> int:
    root, port = argv[0], int(argv[1])
    app = WsgiDAVApp({
        "provider_mapping": {"/": root},
        "simple_dc": {"user_mapping": {"*": True}},
        "verbose": 0,
        "logging": {"enable_loggers": []},
    })
    server = wsgi.Server(("127.0.0.1", port), app, numthreads=10)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    server.prepare()
    print("stock wsgidav ready", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
