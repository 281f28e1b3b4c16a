"""Count the words of a book, split among processes.

    python examples/wordcount.py [--words 600000] [--workers 2] [--start fork|spawn|forkserver]

The seeds' second parallel job. The book is generated, the same every time
(a seeded random choice of words, in sentences and paragraphs: about the
length of War and Peace by default), and written to a temporary file. The
text is cut into pieces at whitespace, so that no word is split; worker
processes take the next piece from an atomic counter, count its words and
add them to an atomic total; a WaitGroup tells the main program when they
are done. Everything they share is in gosync.shared.

It prints the total, which must equal len(text.split()) in one process, and
the wall time of each variant: one process, and the worker processes
(start-up included).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
from typing import Any

import gosync.shared

VOCABULARY = (
    "the of and to a in that he was it his is with as for had you not be her on at by which have or from this "
    "him but all she they were my are me one their so an said them we who would been will no when there if more "
    "out up into do any your what has man could other than our some very time upon about may its only now like "
    "little then can should made did us such great before must two these see know over much down after first "
    "mister good men own never most old shall day where those came come himself way work life without go make "
    "well through being long say might how am too even under years again place thought young while last "
    "house prince princess moscow war peace army emperor countess natasha pierre andrew battle snow horse"
).split()
PIECES_PER_WORKER = 8


def make_book(words: int, seed: int = 1869) -> str:
    """A deterministic ASCII text of `words` words, in sentences of 5 to 24
    words and paragraphs of 3 to 9 sentences."""
    rng = random.Random(seed)
    chosen = rng.choices(VOCABULARY, k=words)
    paragraphs, sentence, sentences = [], [], []
    target = rng.randint(5, 24)
    for w in chosen:
        sentence.append(w)
        if len(sentence) == target:
            sentences.append(sentence[0].capitalize() + " " + " ".join(sentence[1:]) + rng.choice(".,;!?"))
            sentence, target = [], rng.randint(5, 24)
            if len(sentences) >= rng.randint(3, 9):
                paragraphs.append(" ".join(sentences))
                sentences = []
    if sentence:
        sentences.append(" ".join(sentence) + ".")
    if sentences:
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs) + "\n"


def pieces(data: bytes, n: int) -> list[tuple[int, int]]:
    """n or fewer (start, end) byte ranges covering data, each cut at a
    whitespace byte so that no word spans two."""
    bounds = [0]
    for i in range(1, n):
        cut = max(bounds[-1], len(data) * i // n)
        while cut < len(data) and not data[cut : cut + 1].isspace():
            cut += 1
        bounds.append(cut)
    bounds.append(len(data))
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def worker(path: str, ranges: list[tuple[int, int]], next_piece: Any, total: Any, wg: Any) -> None:
    """Counts the words of piece after piece of the file until none is left."""
    try:
        with open(path, "rb") as f:
            while True:
                i = next_piece.add(1) - 1
                if i >= len(ranges):
                    return
                start, end = ranges[i]
                f.seek(start)
                total.add(len(f.read(end - start).split()))
    finally:
        wg.done()


def count_in_processes(path: str, workers: int, start_method: str) -> int:
    """The words of the file at path, counted by `workers` processes."""
    with open(path, "rb") as f:
        ranges = pieces(f.read(), workers * PIECES_PER_WORKER)
    next_piece, total, wg = gosync.shared.atomic.Int64(), gosync.shared.atomic.Int64(), gosync.shared.WaitGroup()
    ctx = multiprocessing.get_context(start_method)
    wg.add(workers)
    procs = [ctx.Process(target=worker, args=(path, ranges, next_piece, total, wg)) for _ in range(workers)]
    for p in procs:
        p.start()
    if not wg.wait(timeout=600):
        raise SystemExit("the workers did not finish within 600 s")
    for p in procs:
        p.join()
    return int(total.load())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Count the words of a generated book with worker processes.")
    ap.add_argument("--words", type=int, default=600_000, help="the book's length in words (default 600000)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument(
        "--start", default=multiprocessing.get_start_method(), choices=multiprocessing.get_all_start_methods(),
        help="the multiprocessing start method (default: the platform's)",
    )
    args = ap.parse_args(argv)
    if args.words < 0 or args.workers < 1:
        ap.error("--words must be >= 0 and --workers >= 1")
    text = make_book(args.words)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "book.txt")
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
        t0 = time.perf_counter()
        with open(path, encoding="ascii") as f:
            single = len(f.read().split())
        t1 = time.perf_counter()
        parallel = count_in_processes(path, args.workers, args.start)
        t2 = time.perf_counter()
    print(f"book: {len(text)} bytes")
    print(f"one process, str.split:       {single} words in {t1 - t0:.3f} s")
    print(f"{args.workers} processes, gosync.shared: {parallel} words in {t2 - t1:.3f} s")
    if parallel != single:
        print(f"MISMATCH: {parallel} != {single}")
        return 1
    print(f"total: {parallel} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
