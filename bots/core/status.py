"""The states of a job, of a document, and of a job's item (one file, or the re-index).

StrEnum: each member is its own string, so what is stored and what the API sends are the
same words as before, and a value read back (a plain str) compares equal to its member. Pure,
so the builder and the CLI can compare the statuses they receive with these too."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every item finished, each ready, unchanged, removed or failed
    FAILED = "failed"  # the job itself stopped (an internal error), not one of its files


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"  # being ingested: not deletable until it is finished
    READY = "ready"
    FAILED = "failed"


class ItemStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    UNCHANGED = "unchanged"  # the same content was already ready: nothing to do
    REMOVED = "removed"  # the document was deleted while it waited in the queue


# A job in one of these states will not change again.
JOB_FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED})
# Item states after which the job has nothing left to do for that file.
ITEM_FINISHED = frozenset({ItemStatus.READY, ItemStatus.FAILED, ItemStatus.UNCHANGED, ItemStatus.REMOVED})
