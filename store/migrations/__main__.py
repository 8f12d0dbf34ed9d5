"""`python -m store.migrations new "what changes"`: write the next revision.

Alembic autogenerates it by comparing the models (store/tables.py) with a scratch SQLite
database migrated to the current head, so no real database is needed or touched. Read what it
wrote before committing: autogenerate sees a rename as a drop and an add, knows nothing of
data that must move, and compares on SQLite only (the PostgreSQL run of
tests/store/test_migrations.py checks the history against the models there too).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile

from alembic import command
from alembic.script import ScriptDirectory

from store.db import MIGRATIONS, alembic_config, make_engine, migrate

# alembic_version.version_num is a VARCHAR(32).
MAX_REVISION_LENGTH = 32


def new_revision(message: str) -> str:
    """Writes versions/NNNN_slug.py and returns its path."""
    number = len(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions())) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    revision = f"{number:04d}_{slug}"[:MAX_REVISION_LENGTH].rstrip("_")
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            migrate(engine)
            with engine.begin() as connection:
                config = alembic_config(connection)
                config.set_main_option("file_template", "%%(rev)s")  # file named as its revision
                script = command.revision(config, message, autogenerate=True, rev_id=revision)
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return script.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store.migrations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="autogenerate the next revision from the models")
    new.add_argument("message", help='what the revision changes, e.g. "queues: add a colour"')
    args = parser.parse_args(argv)
    path = new_revision(args.message)
    print(f"wrote {path}: review it, run tests/store/test_migrations.py, commit it with the models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
