/* weighted.pml: a SPIN model of gosync.semaphore.Weighted: the word of
 * csrc/weighted.h, whose fast paths are CASes, and the waiter queue of
 * gosync/semaphore.py, under its lock.
 *
 * Run it with `bash model/weighted.sh`.
 *
 * SHAPE
 *   The size is 2.
 *   F1, F2  acquire 1 on the fast path (a CAS that needs room and no
 *           waiter queued; the thread waits until it can), then release 1:
 *           on the fast path unless QUEUED is set, else under the lock
 *           (_release_slow), which gives back and notifies the queue.
 *   W       acquire 2 through the queue (_acquire_slow): under the lock,
 *           take_or_queue; queued, it sleeps until granted or until its
 *           deadline passes (the Clock, at any moment, once), then settles
 *           under the lock (_settle): keeps a grant, or leaves the queue and
 *           clears QUEUED. Then it releases what it holds.
 *
 *   One transition is one shared access of the code: a CAS or atomic add
 *   on the word (held, queued: one int64 in the C), a read of it, taking or
 *   giving back the lock. Notify reads the word, then adds, as the Python
 *   does (_word(), then _add()).
 *
 * PROPERTIES
 *   assertions     the weight inside (counted by the threads after they
 *                  acquire, before they release) never exceeds the size;
 *                  the word never counts more than the size; at the end
 *                  nothing is held, QUEUED is clear and nobody is queued.
 *   end states     nobody is left waiting: F1, F2 and W all finish (a
 *                  wait with a deadline ends; one without is granted).
 *
 * MUTANTS
 *   -DBARGE    the fast acquire ignores QUEUED (room is all it checks)
 *   -DNOCLEAR  a waiter that gives up leaves QUEUED set on an empty queue
 */

#define SIZE 2

byte held = 0;      /* the weight the word counts as held */
bool queued = 0;    /* QUEUED: a waiter is in the queue */
bool mu = 0;        /* the queue's lock (a gosync.Mutex) */
bool inq = 0;       /* W is in the queue */
bool ready = 0;     /* W was granted its weight by a notify */
bool dl = 0;        /* W's deadline has passed */
byte inside = 0;    /* the weight the threads say they hold */
byte done = 0;

inline lock() { atomic { mu == 0 -> mu = 1 } }
inline unlock() { mu = 0 }

/* _notify_waiters, under the lock, with W queued: read, then grant. */
inline notify() {
    byte h;
    h = held;
    if
    :: inq && SIZE - h >= 2 ->
        held = held + 2;
        inq = 0;
        ready = 1;
        queued = 0   /* the queue is empty: the fast paths may run again */
    :: else -> skip
    fi
}

proctype Fast() {
    /* try_acquire(1), retried until it succeeds */
#ifdef BARGE
    atomic { held + 1 <= SIZE -> held++ }
#else
    atomic { !queued && held + 1 <= SIZE -> held++ }
#endif
    inside++;
    assert(inside <= SIZE);
    inside--;
    /* release(1) */
    if
    :: atomic { !queued -> assert(held >= 1); held-- }
    :: atomic { queued -> skip };
        lock();
        if
        :: queued -> held--; notify()
        :: else -> atomic { assert(!queued && held >= 1); held-- }
        fi;
        unlock()
    fi;
    done++
}

proctype Waiter() {
    bool got = 0;
    lock();
    /* take_or_queue(2): one CAS */
    atomic {
        if
        :: !queued && held + 2 <= SIZE -> held = held + 2; got = 1
        :: else -> queued = 1
        fi
    }
    if
    :: got -> unlock()
    :: else ->
        inq = 1;
        unlock();
        /* sleep until granted, or until the deadline passes */
        if
        :: ready -> skip
        :: dl -> skip
        fi;
        lock();
        if
        :: ready -> got = 1      /* granted, perhaps as the deadline passed: kept */
        :: else ->
            inq = 0;             /* leaves the queue, which is now empty */
#ifndef NOCLEAR
            queued = 0
#endif
        fi;
        unlock()
    fi;
    if
    :: got ->
        inside = inside + 2;
        assert(inside <= SIZE);
        inside = inside - 2;
        /* release(2): not queued (W was the only waiter) */
        atomic { !queued -> assert(held >= 2); held = held - 2 }
    :: else -> skip
    fi;
    done++
}

proctype Clock() {
    if
    :: dl = 1
    :: skip   /* no deadline: the wait must end by a grant */
    fi
}

init {
    atomic {
        run Fast();
        run Fast();
        run Waiter();
        run Clock()
    }
    done == 3;
    assert(held == 0 && !queued && !inq && mu == 0 && inside == 0)
}

/* held never counts more than the size */
active proctype Invariant() {
end:    atomic { !(held <= SIZE) -> assert(false) }
}
