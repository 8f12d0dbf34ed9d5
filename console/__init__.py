"""The web console at /console: server-rendered pages that act only through the API, an
application of its own (console.app) that switchboard/composition.py serves beside the API."""

# Where the console is served: its routes, links and cookies are all under it.
CONSOLE_PATH = "/console"
