"""The embedders' lock (knowledge/embedding.py `TurnLock`): one model serves the chat's
queries and ingestion's batches, and whoever asks first gets it first, so ingestion is not
starved by a server full of questions."""

from __future__ import annotations

import threading
import time

from knowledge.embedding import TurnLock


def _until(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiters_get_the_lock_in_the_order_they_asked():
    lock = TurnLock()
    order: list[int] = []

    def take(i: int) -> None:
        with lock:
            order.append(i)

    lock.__enter__()
    threads = []
    for i in range(6):
        thread = threading.Thread(target=take, args=(i,))
        thread.start()
        _until(lambda: len(lock._waiting) == i + 1)  # queued behind the ones before it
        threads.append(thread)
    # A newcomer that arrives as the lock is handed over does not jump the queue.
    lock.__exit__(None, None, None)
    take(99)
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4, 5, 99]


def test_one_holder_at_a_time_under_contention():
    lock = TurnLock()
    inside = 0
    most = 0
    count = 0

    def work() -> None:
        nonlocal inside, most, count
        for _ in range(300):
            with lock:
                inside += 1
                most = max(most, inside)
                value = count
                time.sleep(0)  # let another thread run while we hold it
                count = value + 1
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (most, count) == (1, 8 * 300)
