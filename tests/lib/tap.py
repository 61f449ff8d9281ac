"""tap.py — the line protocol of tests/run.sh for Python test files: one
"ok - name" or "not ok - name: why" a case, and the exit status from the
count of failures."""


class Report:
    def __init__(self):
        self.failures = 0

    def __call__(self, name, ok, why=""):
        if ok:
            print("ok - " + name)
        else:
            self.failures += 1
            print("not ok - %s: %s" % (name, why))

    def status(self):
        """The exit status: 1 when any case failed."""
        return 1 if self.failures else 0
