"""The decode thread count is picked by timing the step at each candidate count; an explicit
OMP_NUM_THREADS is left alone."""

import time

import torch

from verifrag.model.threads import pick_threads, thread_candidates


def _step_costing(seconds_by_threads):
    calls = []

    def step():
        calls.append(torch.get_num_threads())
        time.sleep(seconds_by_threads[torch.get_num_threads()])

    return step, calls


def test_the_faster_count_is_kept_and_set():
    before = torch.get_num_threads()
    try:
        step, _ = _step_costing({1: 0.05, 2: 0.001})
        assert pick_threads(step, [1, 2]) == 2 and torch.get_num_threads() == 2
        step, _ = _step_costing({1: 0.001, 2: 0.05})
        assert pick_threads(step, [1, 2]) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_count_far_slower_at_its_first_step_is_dropped_after_that_step():
    before = torch.get_num_threads()
    try:
        step, calls = _step_costing({1: 0.002, 2: 0.2})
        assert pick_threads(step, [1, 2], rounds=3) == 1
        assert calls.count(2) == 1 and calls.count(1) == 4  # warm-up + 3 rounds at one thread
    finally:
        torch.set_num_threads(before)


def test_an_explicit_omp_setting_means_no_choice(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert thread_candidates() == []
    monkeypatch.delenv("OMP_NUM_THREADS")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert thread_candidates() == [1, 2]
        torch.set_num_threads(1)
        assert thread_candidates() == []
    finally:
        torch.set_num_threads(before)
