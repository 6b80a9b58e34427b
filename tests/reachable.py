"""reachable.py - the programs of a build where every account can run them.

Some tests run the module, pamconv, locker, portalctl or portald as a
throwaway account (test_security.py, test_e2e_locker.py): every folder
above those files must then be searchable by that account.  A checkout in
root's home (/root, mode 0700) is not, and the tests must not depend on
where the checkout is.  So when some folder above the build bars others,
the programs are copied into a folder of their own, /tmp/portal-build-PID-*
(mode 0755), removed when Python exits; one that a killed run left behind
is removed by the next run that needs such a folder.
"""
import atexit
import os
import re
import shutil
import stat
import tempfile

PREFIX = "portal-build-"


def everyone_reaches(path):
    """Whether every folder from / down to path lets others through."""
    path = os.path.realpath(path)
    while True:
        if not os.stat(path).st_mode & stat.S_IXOTH:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _remove_stale(tmp):
    """Folders of runs whose process is gone."""
    for name in os.listdir(tmp):
        m = re.match(re.escape(PREFIX) + r"(\d+)-", name)
        if m and not os.path.exists("/proc/" + m.group(1)):
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)


def build_for_everyone(build, programs):
    """build itself when everyone reaches it; else a folder holding copies
    of programs (paths relative to build) at the same relative paths.
    A program not built yet is left out: the test that needs it says so."""
    if everyone_reaches(build):
        return build
    tmp = tempfile.gettempdir()
    _remove_stale(tmp)
    copy = tempfile.mkdtemp(prefix="%s%d-" % (PREFIX, os.getpid()), dir=tmp)
    atexit.register(shutil.rmtree, copy, True)
    os.chmod(copy, 0o755)
    for p in programs:
        src = os.path.join(build, p)
        if os.path.exists(src):
            os.makedirs(os.path.dirname(os.path.join(copy, p)), mode=0o755, exist_ok=True)
            shutil.copy2(src, os.path.join(copy, p))
    return copy
