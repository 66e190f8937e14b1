"""How one embedding model is shared (knowledge/embedding.py): `TurnLock` gives the model to
the chat's queries and ingestion's batches in the order they asked, so ingestion is not
starved by a server full of questions; `QueryBatcher` encodes the queries of concurrent
questions in one model call."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from knowledge.embedding import QueryBatcher, TurnLock


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


def _fake_encode(texts: list[str]) -> np.ndarray:
    """A vector that tells which text it came from."""
    return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32)


def _ask_all(batcher: QueryBatcher, texts: list[str]) -> tuple[list[threading.Thread], dict]:
    answers: dict = {}

    def ask(text: str) -> None:
        try:
            answers[text] = batcher.embed(text)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each caller got
            answers[text] = exc

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    return threads, answers


def test_queries_waiting_for_the_model_are_encoded_in_one_call():
    lock = TurnLock()
    batcher = QueryBatcher(_fake_encode, lock)
    texts = [f"question number {i}" * (i + 1) for i in range(12)]
    with lock:  # the model is busy (ingestion): every question queues
        threads, answers = _ask_all(batcher, texts)
        _until(lambda: len(batcher._queued) == len(texts))
    for thread in threads:
        thread.join(timeout=10)
    assert batcher.calls == 1
    for text in texts:
        assert answers[text].tolist() == _fake_encode([text])[0].tolist()


def test_a_failed_call_wakes_every_waiter_with_the_error_and_the_next_call_works():
    lock = TurnLock()
    fail = {"now": True}

    def encode(texts: list[str]) -> np.ndarray:
        if fail["now"]:
            raise RuntimeError("model crashed")
        return _fake_encode(texts)

    batcher = QueryBatcher(encode, lock)
    with lock:
        threads, answers = _ask_all(batcher, ["a", "bb", "ccc"])
        _until(lambda: len(batcher._queued) == 3)
    for thread in threads:
        thread.join(timeout=10)
    assert all(isinstance(answers[t], RuntimeError) for t in ["a", "bb", "ccc"])
    fail["now"] = False
    assert batcher.embed("dddd").tolist() == [4, 400]


def test_queries_arriving_during_a_call_get_a_new_leader_and_nobody_hangs():
    lock = TurnLock()

    def slow_encode(texts: list[str]) -> np.ndarray:
        time.sleep(0.002)
        return _fake_encode(texts)

    batcher = QueryBatcher(slow_encode, lock)
    wrong: list[str] = []

    def work(worker: int) -> None:
        for i in range(150):
            text = f"w{worker} q{i}" + "x" * (i % 7)
            if batcher.embed(text).tolist() != _fake_encode([text])[0].tolist():
                wrong.append(text)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []
    assert batcher.calls < 8 * 150  # batched, not one call per query
    assert not batcher._leading and batcher._queued == []


@pytest.mark.parametrize("model", ["all-MiniLM-L6-v2", "multilingual-e5-small"])
def test_a_batched_query_vector_is_the_query_vector(embedders, model):
    """Padding in a batch must not change a query's vector: retrieval would then depend on
    which other questions happened to arrive at the same moment."""
    embedder = embedders.get(model)
    texts = ["How long is the warranty?", "Can I return a kettle I bought in a shop?", "refund"]
    alone = [embedder.embed_query(t) for t in texts]
    with embedder._lock:
        threads, answers = _ask_all(embedder._queries, texts)
        _until(lambda: len(embedder._queries._queued) == len(texts))
    for thread in threads:
        thread.join(timeout=60)
    for text, vector in zip(texts, alone, strict=True):
        assert answers[text].shape == vector.shape == (embedder.dim,)
        assert np.allclose(answers[text], vector, atol=1e-5)


def test_every_model_call_runs_on_the_one_model_thread(embedders):
    """glibc keeps freed activations in the arena of the thread that freed them: the model
    runs on one thread, whoever asks, or memory grows with the number of request threads."""
    embedder = embedders.get("all-MiniLM-L6-v2")
    seen: set[int] = set()
    run_model = embedder._run_model

    def spy(texts):
        seen.add(threading.get_ident())
        return run_model(texts)

    embedder._run_model = spy
    try:
        threads = [threading.Thread(target=lambda i=i: embedder.embed_query(f"where is order {i}?")) for i in range(6)]
        threads.append(threading.Thread(target=lambda: embedder.embed_passages(["a passage", "another"])))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        embedder.embed_query("and from the test's own thread")
    finally:
        del embedder._run_model
    assert len(seen) == 1 and threading.get_ident() not in seen
