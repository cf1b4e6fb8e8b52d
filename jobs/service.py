"""newswatch as a background service: its systemd unit, and the pid file `reload` reads.

The daemon (`run`, not `--once`) writes its pid next to the database (``newswatch.db`` ->
``newswatch.pid``; beside the config for a database server) and removes it when it stops;
`newswatch reload` sends SIGHUP to that pid, as `systemctl reload` does to the unit's.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

STATE_DIR = Path("/var/lib/newswatch")


class NotRunning(Exception):
    """No daemon of this config is running; `str()` says why."""


def database_folder(database: str, cwd: Path) -> Path | None:
    """The folder of a SQLite database file opened from `cwd` (None for a database server)."""
    url = make_url(database)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return (cwd / url.database).resolve().parent


def pid_file(database: str, config_path: Path) -> Path:
    url = make_url(database)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).resolve().with_suffix(".pid")
    return config_path.resolve().parent / "newswatch.pid"


def write_pid(path: Path) -> None:
    """Record this process as the daemon of its config (a folder it cannot write only
    costs `newswatch reload`: SIGHUP still works)."""
    try:
        path.write_text(f"{os.getpid()}\n", encoding="ascii")
    except OSError as exc:
        log.warning("no pid file %s (%s): `newswatch reload` cannot find this daemon", path, exc.strerror)


def remove_pid(path: Path) -> None:
    """Remove the pid file if it is still this process's (a newer daemon may own it)."""
    try:
        if path.read_text(encoding="ascii").strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass


def signal_reload(path: Path) -> int:
    """SIGHUP to the daemon whose pid is in `path`; its pid, or NotRunning."""
    try:
        pid = int(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        raise NotRunning(f"{path}: no pid file (is `newswatch run` running with this config?)") from None
    except (OSError, ValueError) as exc:
        raise NotRunning(f"{path}: unreadable pid file ({exc})") from None
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise NotRunning(f"{path}: process {pid} is not running (a stale pid file)") from None
    except PermissionError:
        raise NotRunning(f"{path}: not allowed to signal process {pid} (run as its user)") from None
    return pid


def systemd_unit(config: Path, database: str | None, user: str = "newswatch") -> str:
    """A unit that runs `newswatch run --config CONFIG` as `user`, restarts it on failure,
    reloads it with SIGHUP, and lets it write only its state folder (and the SQLite
    database's folder when that is elsewhere)."""
    script = Path(sys.argv[0])
    executable = (script.resolve() if script.name == "newswatch" else shutil.which("newswatch")) \
        or f"{sys.executable} -m newswatch.jobs.cli"
    writable = [STATE_DIR]
    folder = database_folder(database, STATE_DIR) if database else None  # run from STATE_DIR
    if folder is not None and folder != STATE_DIR:
        writable.append(folder)
    return f"""\
# newswatch: install with
#   sudo useradd --system --home-dir {STATE_DIR} --shell /usr/sbin/nologin {user}
#   sudo cp newswatch.service /etc/systemd/system/ && sudo systemctl daemon-reload
#   sudo systemctl enable --now newswatch && journalctl -u newswatch -f
# `systemctl reload newswatch` (or `newswatch reload`) re-reads the config.
[Unit]
Description=newswatch news alerts
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
User={user}
Group={user}
WorkingDirectory={STATE_DIR}
StateDirectory={STATE_DIR.name}
# Secrets the config names as ${{VAR}}: one VAR=value a line, readable by root only.
EnvironmentFile=-/etc/newswatch/env
Environment=PYTHONUNBUFFERED=1
ExecStart={executable} run --config {config}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
TimeoutStopSec=15

# Hardening: the whole file system read-only but for the state and database folders.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={" ".join(str(p) for p in writable)}
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
CapabilityBoundingSet=
SystemCallArchitectures=native
UMask=0027

[Install]
WantedBy=multi-user.target
"""


# --- the commands --------------------------------------------------------------------


def cmd_init_systemd(args, config: Path) -> int:
    """`newswatch init --systemd [DIR]`: DIR/newswatch.service for the config `config`."""
    from newswatch.jobs.config import ConfigError, load_config

    target = Path(args.dir) / "newswatch.service"
    if target.exists():
        print(f"{target} exists; not overwriting it", file=sys.stderr)
        return 1
    try:
        database = load_config(config).database
    except ConfigError:
        database = None  # not valid yet: `check` says why; the unit does not depend on it
    target.write_text(systemd_unit(config.resolve(), database), encoding="utf-8")
    print(f"wrote {target}; install it as its first lines say")
    return 0


def cmd_reload(args) -> int:
    """`newswatch reload`: SIGHUP to the daemon running this config."""
    from newswatch.jobs.config import load_config

    config = load_config(args.config)  # an invalid config is refused here already
    try:
        pid = signal_reload(pid_file(config.database, config.path))
    except NotRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"sent SIGHUP to newswatch (pid {pid}); its log says whether the config was taken")
    return 0
