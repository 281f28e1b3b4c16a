/* The RWMutex writer's wait for the readers that hold the lock
 * (csrc/rwmutex.c: gosync_rwmutex_lock's loop and gosync_rwmutex_runlock),
 * checked for a lost wake-up: a writer asleep with readerWait already 0 and
 * no wake left to come.
 *
 * Two readers hold the lock when the writer announces itself (WRITER set,
 * readerWait = 2); both then leave. A third reader arrives meanwhile (readers
 * + 1, which makes the leaving readers' CASes fail and retry) and waits for
 * the writer's unlock (the epoch). Each C atomic is one step; each plain
 * computation between them is folded into the step that uses it.
 *
 * The futex: futex_wait(word, expected) is one step that compares the word
 * and, if equal, enqueues the writer (wsleep); futex_wake dequeues it.
 *
 * Two versions of the protocol:
 *   default   what csrc/rwmutex.c does: the writer sleeps on the state word's
 *             low half (readerWait, WRITER and the readers' low bits), the
 *             one the last reader's CAS changes.
 *   -DSEQ     the earlier version: the writer sleeps on a separate sequence
 *             word, which the last reader advanced *before* its CAS (to keep
 *             the CAS its last write). SPIN finds the lost wake-up.
 *
 * No deadlock (no invalid end state) is the property:
 *   spin -a [-DSEQ] rwmutex_wait.pml && gcc -O2 -o pan pan.c && ./pan
 * (model/rwmutex_wait.sh runs both and expects exactly that.)
 */

byte readers = 2;   /* readers holding the lock or waiting for the writer */
byte rwait = 0;     /* readerWait */
bit writer = 0;     /* WRITER */
byte epoch = 0;
byte seq = 0;       /* -DSEQ: the writer's sequence word */
bit wsleep = 0;     /* the writer is in the futex queue */
bit wlocked = 0;    /* the writer holds the lock */
byte announced = 0; /* the writer has announced (readers may now leave) */

/* The writer's futex word: the low half of the state word, or seq. */
#ifdef SEQ
#define WORD seq
#else
#define WORD (rwait + 64 * writer + 128 * readers)
#endif

active proctype Writer()
{
    short seen;
    byte st_rwait;
    /* announce: WRITER, readerWait = readers (every reader holds the lock) */
    atomic { writer = 1; rwait = readers; announced = 1 }
wait:
    do
    :: true ->
#ifdef SEQ
        seen = seq;            /* seq = load(writer_sem) */
        st_rwait = rwait;      /* st = load(state) */
#else
        atomic { st_rwait = rwait; seen = WORD }  /* st = load(state) */
#endif
        if
        :: st_rwait == 0 -> break
        :: else
        fi;
        atomic {               /* futex_wait(word, seen) */
            if
            :: WORD == seen -> wsleep = 1
            :: else            /* EAGAIN: look again */
            fi
        }
        wsleep == 0            /* asleep until woken */
    od;
    wlocked = 1;
    assert(rwait == 0);
    /* Unlock: clear WRITER; epoch+1 only if readers are blocked
     * (readers > readerWait, which is 0 here): grants the waiting reader. */
    atomic {
        wlocked = 0; writer = 0;
        if
        :: readers > rwait -> epoch++
        :: else
        fi
    }
}

/* RUnlock of a reader that held the lock before the writer came. */
proctype Leaving()
{
    byte o_readers, o_rwait;
    bit o_writer, last;
    announced == 1;
retry:
    atomic { o_readers = readers; o_rwait = rwait; o_writer = writer };
    last = o_writer && o_rwait == 1;
#ifdef SEQ
    if
    :: last -> seq++      /* the advance before the CAS */
    :: else
    fi;
#endif
    atomic {              /* CAS(state, old, old - reader - waiter) */
        if
        :: readers == o_readers && rwait == o_rwait && writer == o_writer ->
            readers--;
            if
            :: o_writer -> rwait--
            :: else
            fi
        :: else -> goto retry
        fi
    };
    if                    /* futex_wake: by address, after the last write */
    :: last -> wsleep = 0
    :: else
    fi
}

/* RLock once the writer has announced: readers+1, then, if the writer is
 * still pending, wait for the epoch. */
proctype Arriving()
{
    byte e;
    bit w;
    announced == 1;
    atomic { readers++; e = epoch; w = writer };
    if
    :: w -> epoch != e    /* blocked until the writer's unlock grants it */
    :: else               /* the writer had gone: it holds the lock */
    fi;
    readers--             /* RUnlock, with no writer pending */
}

init
{
    atomic { run Leaving(); run Leaving(); run Arriving() }
}
