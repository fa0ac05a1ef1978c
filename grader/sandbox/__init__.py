"""Student code runs here, never in the judge's interpreter.

- client.py    the judge's side: `Sandbox` starts workers, calls functions, cleans up
- launcher.py  the intermediate process: namespaces (root's or a user namespace), private uid,
               supervision, clean-up
- confine.py   Landlock and seccomp over whatever isolation the launcher reached
- levels.py    the isolation levels, named and ordered, and the one a sandbox reached
- watch.py     the judge's watch over the whole submission: memory, processes, CPU, scratch
- worker.py    runs in the sandbox: imports the student's module, answers calls
- protocol.py  the private channel's wire format (length-prefixed JSON, no pickle)
- values.py    returned values as the judge sees them
- outcomes.py  what a call can end as, described for students
- limits.py    per-submission limits and the rlimits they become
- jail.py      plans isolation: scratch folder, leased uid, folders to hide
- reaper.py    kills whatever a submission started, however it hid
- output.py    captures what the student's code prints (head and tail)
"""
