/* robust_rwmutex.pml: a SPIN model of gosync.shared's robust RWMutex
 * (issue 13; docs/DESIGN.md, "Robust locks"; csrc/robust_rwmutex.c) with
 * processes that die at any step.
 *
 * Run it with `bash model/robust.sh`; model/README.md explains it.
 *
 * SHAPE
 *   P1, P2, P3  three processes, one thread each (identity = number; no pid
 *               reuse). Each makes up to two calls, each a nondeterministic
 *               choice from a menu (CALLSij, bits: 1 RLock(), 2
 *               RLock(deadline), 4 Lock(), 8 Lock(deadline)); by default
 *               P1 reads, P2 reads and then writes, P3 writes. A read hold
 *               is followed by RUnlock; a write hold (from Lock, or from an
 *               RLock that took over a dead writer: OWNERDEAD_WRITE) by
 *               MarkConsistent or not, and Unlock. -DHOLD: one acquisition
 *               may keep its lock for ever instead.
 *   Death       any process may die at any step (DEATHS, default 1).
 *   Clock       deadlines pass at any moment while a call with one waits.
 *
 *   w, the writers' robust mutex, is abstract here (model/robust_mutex.pml
 *   checks it): its Lock is one step that takes it when free (OWNERDEAD if
 *   INCONSISTENT), takes it over when its owner is dead, returns
 *   NOTRECOVERABLE, or TIMEDOUT once the deadline has passed, and blocks
 *   otherwise; take_over_dead, Unlock (INCONSISTENT -> NOTRECOVERABLE),
 *   Abandon and MarkConsistent are one step each.
 *
 *   Everything else is as in the C, one shared access per step: the slot
 *   CASes (one CAS for identity and holds), the seq_cst store and loads of
 *   writer, readers_left's add and load, the liveness check (one read of
 *   alive[]), futex_wait (compare and enqueue) and futex_wake (all). A
 *   sleeper may time out by the POLL cap at any moment. With one thread
 *   per process, a process holds at most one read hold, so hold() skips
 *   its look for a slot of its own (it has none) and a slot is 0 or
 *   id + 4 * holds.
 *
 * PROPERTIES
 *   safety: no live reader and live writer hold together, nor two live
 *     writers (assertions where a hold starts); RUnlock and the undo of a
 *     hold find the hold (no MISUSE in this legal program).
 *   LIVE: every live Lock or RLock call returns (weak fairness, POLL cap):
 *     a dead reader never blocks a writer for ever, and a dead writer
 *     never blocks a reader for ever.
 *   LIVE with -DHOLD: a call whose deadline has passed returns.
 *
 * MUTANTS
 *   -DNORECHECK   RLock takes its hold without looking at writer after it
 *   -DTWOWRITES   a slot of a dead reader is cleaned by two plain stores
 *                 (holds, then identity) instead of one CAS from the word
 *                 seen (run with -DNSLOTS=1 -DCALLS31=1, so that readers
 *                 clean slots when every slot is taken)
 *   -DNODEADREADER  the drain never frees a dead reader's slot
 *   -DOLD_UNLOCK  an Unlock without MarkConsistent clears writer before it
 *                 makes w NOTRECOVERABLE (the C before review 13): a reader
 *                 gets in on unrepaired data (assert !unrep)
 *   -DSPEC_RETRY  a blocked reader's retry takes a hold before it looks at
 *                 writer, as csrc/robust_rwmutex.c does (model/README.md,
 *                 finding R2): the transient holds can keep the draining
 *                 writer out for ever
 */
#ifndef DEATHS
#define DEATHS 1
#endif
#ifdef HOLD
#define KEEP 1
#else
#define KEEP 0
#endif
#ifndef NSLOTS
#define NSLOTS 2
#endif
#ifndef CALLS11
#define CALLS11 3
#endif
#ifndef CALLS12
#define CALLS12 0
#endif
#ifndef CALLS21
#define CALLS21 1
#endif
#ifndef CALLS22
#define CALLS22 12
#endif
#ifndef CALLS31
#define CALLS31 12
#endif
#ifndef CALLS32
#define CALLS32 0
#endif
#define MENU(i, c) ((i) == 1 -> ((c) == 0 -> CALLS11 : CALLS12) : \
                   ((i) == 2 -> ((c) == 0 -> CALLS21 : CALLS22) : \
                               ((c) == 0 -> CALLS31 : CALLS32)))
#define NP 3
#define HOLDONE 4
#define IDOF(v) ((v) & 3)

/* results */
#define R_OK 1
#define R_OWNERDEAD 2
#define R_NOTREC 3
#define R_TIMEDOUT 4
#define R_OVERFLOW 5
#define R_ODW 6         /* OWNERDEAD_WRITE: an RLock that holds the write lock */

/* program counters */
#define C_START 1
#define H_FREE 2        /* hold: CAS slot[k] 0 -> me | 1 hold */
#define H_CLOAD 3       /* hold, every slot taken: load slot[k] */
#define H_CALIVE 4      /* alive(id of slot[k]) */
#define H_CCAS 5        /* CAS slot[k] v -> 0 */
#define H_CCAS2 6       /* -DTWOWRITES: the second store */
#define R_LOADW 7       /* try_hold: load writer */
#define R_LOADNR 8      /* try_hold: load w's word (NOTRECOVERABLE?) */
#define R_UNHOLD 9      /* unhold: CAS my slot */
#define R_LEFT 10       /* reader_left: load writer */
#define R_ADD 11        /* reader_left: readers_left + 1 */
#define R_WAKE 12       /* reader_left: wake all on readers_left */
#define R_TAKE 13       /* take_over_dead(w) */
#define R_PARK 14       /* futex_wait(writer, 1) */
#define R_SLEEP 15
#define R_HELD 16       /* holds a read lock */
#define W_LOCK 17       /* robust lock of w */
#define B_STORE 18      /* become_writer: writer = 1 */
#define D_SEQ 19        /* drain: load readers_left */
#define D_SCAN 20       /* drain: load slot[k] */
#define D_ALIVE 21      /* drain: alive(id of slot[k]) */
#define D_CAS 22        /* drain: CAS slot[k] v -> 0 */
#define D_CAS2 23       /* -DTWOWRITES: the second store */
#define D_PARK 24       /* drain: futex_wait(readers_left, seq) */
#define D_SLEEP 25
#define X_STORE 26      /* undo_writer: writer = 0 */
#define X_WAKE 27       /* undo_writer: wake all on writer */
#define X_W 28          /* undo_writer: abandon or unlock w */
#define W_HELD 29       /* holds the write lock */
#define WM 30           /* MarkConsistent */
#define WU_LOAD 31      /* Unlock: load writer, w locked? */
#define WU_STORE 32     /* Unlock: writer = 0 */
#define WU_WAKE 33      /* Unlock: wake all on writer */
#define WU_W 34         /* Unlock: robust unlock of w */
#define P_KEEP 35
#define P_DONE 36
#define R_PRE 37        /* RLock's retry: load writer before holding (finding 2) */
#define WU_NR 38        /* Unlock, unrepaired: CAS w INCONSISTENT -> NOTRECOVERABLE */
#define WU_NRSTORE 39   /* ... then writer = 0 */
#define WU_NRWAKE 40    /* ... then wake all on writer */
#ifdef SPEC_RETRY
#define RETRY hold_free()
#else
#define RETRY pc = R_PRE
#endif

byte slot[NSLOTS];
bit writer = 0;
byte readers_left = 0;
byte wown = 0;                  /* w: owner (0: none) */
bit winc = 0;                   /* w: INCONSISTENT */
bit wnr = 0;                    /* w: NOTRECOVERABLE */

bit alive[NP + 1];
bit rsl[NP + 1];                /* asleep on writer */
bit wsl[NP + 1];                /* asleep on readers_left */
bit waiting[NP + 1];
bit hasdl[NP + 1];
bit dl[NP + 1];
byte deaths = DEATHS;
byte keep = KEEP;

/* ghosts */
bit rheld[NP + 1];
bit wheld[NP + 1];
byte fin = 0;
bit unrep = 0;                  /* a writer unlocked without mark_consistent */

#define RL_LEFTMOD 8            /* readers_left wraps (mod 2^32 in the C) */

inline ret(r) {
    res = r; waiting[id] = 0; dl[id] = 0; hasdl[id] = 0;
    k = 0; v = 0; seq = 0; busy = 0; chk = 0; looked = 0; last = 0; freed = 0; rnd = 0; after = 0;
    pc = P_DONE
}

/* a read hold starts */
inline read_held() {
    assert(!(wheld[1] && alive[1]) && !(wheld[2] && alive[2]) && !(wheld[3] && alive[3]));
    assert(!unrep);             /* no reader on data left unrepaired */
    rheld[id] = 1; ret(R_OK); pc = R_HELD
}

/* a write hold starts (status wst) */
inline write_held() {
    assert(!(wheld[1] && alive[1]) && !(wheld[2] && alive[2]) && !(wheld[3] && alive[3]));
    assert(!(rheld[1] && alive[1]) && !(rheld[2] && alive[2]) && !(rheld[3] && alive[3]));
    assert(writer && wown == id);
    wheld[id] = 1; ret(wst); pc = W_HELD
}

/* hold(): the pass over the free slots */
inline hold_free() {
    k = 0; pc = H_FREE
}

/* the reader's next step after try_hold said BUSY (nothing held) */
inline after_busy() {
    if
#ifndef OLD_UNLOCK
    :: wnr -> ret(R_NOTREC)     /* w NOTRECOVERABLE while writer == 1 */
    :: !wnr && (chk || (hasdl[id] && dl[id])) -> last = (hasdl[id] && dl[id]); chk = 0; pc = R_TAKE
    :: !wnr && !(chk || (hasdl[id] && dl[id])) -> pc = R_PARK
#else
    :: chk || (hasdl[id] && dl[id]) -> last = (hasdl[id] && dl[id]); chk = 0; pc = R_TAKE
    :: else -> pc = R_PARK
#endif
    fi
}

/* the drain after a scan */
inline drain_decide() {
    if
    :: !busy -> busy = 0; chk = 0; looked = 0; seq = 0; write_held()
    :: busy && hasdl[id] && dl[id] && !looked -> chk = 1; busy = 0; pc = D_SEQ
    :: busy && hasdl[id] && dl[id] && looked -> busy = 0; pc = X_STORE   /* TIMEDOUT: undo */
    :: busy && !(hasdl[id] && dl[id]) -> busy = 0; pc = D_PARK
    fi
}

/* the drain: the next slot, or the end of the scan */
inline scan_next() {
    k++;
    if
    :: k < NSLOTS -> pc = D_SCAN
    :: else -> k = 0; chk = 0; drain_decide()
    fi
}

proctype P(byte id)
{
    byte pc = C_START, k, v, seq, res, wst, call;
    bit busy, chk, looked, last, freed, rnd, after, ro;
    do
    :: atomic { deaths > 0 && pc != P_DONE ->
        deaths--; alive[id] = 0; rsl[id] = 0; wsl[id] = 0; waiting[id] = 0; dl[id] = 0;
        fin++; break }
    :: atomic { pc == C_START ->
        if
        :: MENU(id, call) & 1 -> ro = 1; waiting[id] = 1; hold_free()
        :: MENU(id, call) & 2 -> ro = 1; waiting[id] = 1; hasdl[id] = 1; hold_free()
        :: MENU(id, call) & 4 -> ro = 0; waiting[id] = 1; pc = W_LOCK
        :: MENU(id, call) & 8 -> ro = 0; waiting[id] = 1; hasdl[id] = 1; pc = W_LOCK
        :: MENU(id, call) == 0 -> pc = P_DONE
        fi }
    /* -- hold() ---------------------------------------------------------- */
    :: atomic { pc == H_FREE ->
        if
        :: slot[k] == 0 -> slot[k] = id + HOLDONE; k = 0; freed = 0; rnd = 0; pc = R_LOADW
        :: else -> k++;
            if
            :: k < NSLOTS -> skip
            :: else -> k = 0; freed = 0; pc = H_CLOAD
            fi
        fi }
    :: atomic { pc == H_CLOAD ->
        v = slot[k];
        if
        :: v != 0 && IDOF(v) != id -> pc = H_CALIVE
        :: else -> v = 0; k++;
            if
            :: k < NSLOTS -> skip
            :: else -> k = 0;
                if
                :: freed && !rnd -> rnd = 1; hold_free()
                :: else -> rnd = 0; freed = 0; ret(R_OVERFLOW)
                fi
            fi
        fi }
    :: atomic { pc == H_CALIVE ->
        if
        :: !alive[IDOF(v)] -> pc = H_CCAS
        :: else -> v = 0; k++;
            if
            :: k < NSLOTS -> pc = H_CLOAD
            :: else -> k = 0;
                if
                :: freed && !rnd -> rnd = 1; hold_free()
                :: else -> rnd = 0; freed = 0; ret(R_OVERFLOW)
                fi
            fi
        fi }
    :: atomic { pc == H_CCAS ->
#ifdef TWOWRITES
        slot[k] = IDOF(v); freed = 1; pc = H_CCAS2    /* holds = 0, then ... */
#else
        if :: slot[k] == v -> slot[k] = 0; freed = 1 :: else fi;
        v = 0; k++;
        if
        :: k < NSLOTS -> pc = H_CLOAD
        :: else -> k = 0;
            if
            :: freed && !rnd -> rnd = 1; hold_free()
            :: else -> rnd = 0; freed = 0; ret(R_OVERFLOW)
            fi
        fi
#endif
        }
#ifdef TWOWRITES
    :: atomic { pc == H_CCAS2 ->
        slot[k] = 0;                                /* ... identity = 0 */
        v = 0; k++;
        if
        :: k < NSLOTS -> pc = H_CLOAD
        :: else -> k = 0;
            if
            :: freed && !rnd -> rnd = 1; hold_free()
            :: else -> rnd = 0; freed = 0; ret(R_OVERFLOW)
            fi
        fi }
#endif
    /* -- try_hold after the hold ------------------------------------------- */
    :: atomic { pc == R_LOADW ->
#ifdef NORECHECK
        pc = R_LOADNR
#else
        if
        :: !writer -> pc = R_LOADNR
        :: writer -> after = 1; pc = R_UNHOLD         /* BUSY after the undo */
        fi
#endif
        }
    :: atomic { pc == R_LOADNR ->
        if
        :: wnr -> after = 0; pc = R_UNHOLD; res = R_NOTREC   /* undo, NOTRECOVERABLE */
        :: else -> read_held()
        fi }
    :: atomic { pc == R_UNHOLD ->               /* unhold: the CAS loop */
        k = 0;
        do
        :: k < NSLOTS && IDOF(slot[k]) == id && slot[k] >= HOLDONE -> break
        :: k < NSLOTS && !(IDOF(slot[k]) == id && slot[k] >= HOLDONE) -> k++
        :: k == NSLOTS -> break
        od;
        assert(k < NSLOTS);                     /* the hold is there */
        slot[k] = 0; k = 0; rheld[id] = 0;
        if
        :: res == R_NOTREC -> ret(R_NOTREC)
        :: else -> pc = R_LEFT
        fi }
    :: atomic { pc == R_LEFT ->
        if
        :: writer -> pc = R_ADD
        :: !writer && after -> after = 0; after_busy()
        :: !writer && !after -> pc = P_DONE
        fi }
    :: atomic { pc == R_ADD -> readers_left = (readers_left + 1) % RL_LEFTMOD; pc = R_WAKE }
    :: atomic { pc == R_WAKE ->
        wsl[1] = 0; wsl[2] = 0; wsl[3] = 0;
        if
        :: after -> after = 0; after_busy()
        :: else -> pc = P_DONE
        fi }
    :: atomic { pc == R_TAKE ->                 /* take_over_dead(w) */
        if
        :: wown != 0 && !wnr && !alive[wown] -> wown = id; winc = 1; wst = R_OWNERDEAD; pc = B_STORE
        :: else ->
            if
            :: last -> ret(R_TIMEDOUT)
            :: else -> pc = R_PARK
            fi
        fi }
    :: atomic { pc == R_PARK ->
        if
        :: writer -> rsl[id] = 1; pc = R_SLEEP
        :: else -> RETRY                          /* AGAIN */
        fi }
    :: atomic { pc == R_SLEEP && !rsl[id] -> RETRY }                        /* WOKEN */
    :: atomic { pc == R_SLEEP && rsl[id] -> rsl[id] = 0; chk = 1; RETRY }   /* POLL cap */
    :: atomic { pc == R_SLEEP && rsl[id] && hasdl[id] && dl[id] -> rsl[id] = 0; RETRY }
    :: atomic { pc == R_PRE ->                  /* finding 2: look before holding */
        if
        :: writer -> after_busy()
        :: else -> hold_free()
        fi }
    :: atomic { pc == R_HELD ->
        if
        :: true -> res = 0; pc = R_UNHOLD
        :: keep > 0 -> keep--; pc = P_KEEP
        fi }
    /* -- Lock --------------------------------------------------------------- */
    :: atomic { pc == W_LOCK ->
        if
        :: wnr -> ret(R_NOTREC)
        :: !wnr && wown == 0 -> wown = id; wst = (winc -> R_OWNERDEAD : R_OK); pc = B_STORE
        :: !wnr && wown != 0 && !alive[wown] -> wown = id; winc = 1; wst = R_OWNERDEAD; pc = B_STORE
        :: !wnr && wown != 0 && alive[wown] && hasdl[id] && dl[id] -> ret(R_TIMEDOUT)
        fi }
    :: atomic { pc == B_STORE -> writer = 1; chk = 1; pc = D_SEQ }
    :: atomic { pc == D_SEQ -> seq = readers_left; k = 0; looked = chk; busy = 0; pc = D_SCAN }
    :: atomic { pc == D_SCAN ->
        v = slot[k];
        if
        :: v == 0 -> v = 0; scan_next()
#ifndef NODEADREADER
        :: v != 0 && chk -> pc = D_ALIVE
        :: v != 0 && !chk -> v = 0; busy = 1; scan_next()
#else
        :: v != 0 -> v = 0; busy = 1; scan_next()
#endif
        fi }
    :: atomic { pc == D_ALIVE ->
        if
        :: !alive[IDOF(v)] -> pc = D_CAS
        :: else -> v = 0; busy = 1; scan_next()
        fi }
    :: atomic { pc == D_CAS ->
#ifdef TWOWRITES
        slot[k] = IDOF(v); pc = D_CAS2
#else
        if
        :: slot[k] == v -> slot[k] = 0
        :: else -> busy = 1
        fi;
        v = 0; scan_next()
#endif
        }
#ifdef TWOWRITES
    :: atomic { pc == D_CAS2 -> slot[k] = 0; v = 0; scan_next() }
#endif
    :: atomic { pc == D_PARK ->
        if
        :: readers_left == seq -> wsl[id] = 1; pc = D_SLEEP
        :: else -> pc = D_SEQ                   /* AGAIN */
        fi }
    :: atomic { pc == D_SLEEP && !wsl[id] -> pc = D_SEQ }                   /* WOKEN */
    :: atomic { pc == D_SLEEP && wsl[id] -> wsl[id] = 0; chk = 1; pc = D_SEQ }    /* POLL cap */
    :: atomic { pc == D_SLEEP && wsl[id] && hasdl[id] && dl[id] -> wsl[id] = 0; chk = 1; pc = D_SEQ }
    /* undo_writer: the deadline passed while draining */
    :: atomic { pc == X_STORE -> writer = 0; pc = X_WAKE }
    :: atomic { pc == X_WAKE -> rsl[1] = 0; rsl[2] = 0; rsl[3] = 0; pc = X_W }
    :: atomic { pc == X_W ->
        assert(wown == id);
        wown = 0;
        if :: wst == R_OWNERDEAD -> winc = 1 :: else fi;    /* abandon, or unlock */
        ret(R_TIMEDOUT) }
    /* -- holding the write lock ------------------------------------------ */
    :: atomic { pc == W_HELD ->
        if
        :: winc -> winc = 0; pc = WU_LOAD     /* MarkConsistent */
        :: true -> pc = WU_LOAD
        :: keep > 0 -> keep--; pc = P_KEEP
        fi }
    :: atomic { pc == WU_LOAD -> assert(writer && wown == id); wheld[id] = 0;
        if
        :: winc -> unrep = 1;
#ifdef OLD_UNLOCK
            pc = WU_STORE
#else
            pc = WU_NR
#endif
        :: else -> pc = WU_STORE
        fi }
    /* Unlock, unrepaired: w NOTRECOVERABLE first, then the readers go */
    :: atomic { pc == WU_NR -> assert(wown == id && winc); wown = 0; winc = 0; wnr = 1; pc = WU_NRSTORE }
    :: atomic { pc == WU_NRSTORE -> writer = 0; pc = WU_NRWAKE }
    :: atomic { pc == WU_NRWAKE -> rsl[1] = 0; rsl[2] = 0; rsl[3] = 0; pc = P_DONE }
    :: atomic { pc == WU_STORE -> writer = 0; pc = WU_WAKE }
    :: atomic { pc == WU_WAKE -> rsl[1] = 0; rsl[2] = 0; rsl[3] = 0; pc = WU_W }
    :: atomic { pc == WU_W ->
        assert(wown == id);
        wown = 0;
        if :: winc -> winc = 0; wnr = 1 :: else fi;
        pc = P_DONE }
    /* -- between calls ----------------------------------------------------- */
    :: atomic { pc == P_DONE ->
        rheld[id] = 0; res = 0; wst = 0; ro = 0; call++;
        if
        :: call < 2 -> pc = C_START
        :: else -> fin++; break
        fi }
    od
}

active proctype Clock()
{
end:
    do
    :: atomic { waiting[1] && hasdl[1] && !dl[1] -> dl[1] = 1 }
    :: atomic { waiting[2] && hasdl[2] && !dl[2] -> dl[2] = 1 }
    :: atomic { waiting[3] && hasdl[3] && !dl[3] -> dl[3] = 1 }
    od
}

init
{
    atomic {
        alive[1] = 1; alive[2] = 1; alive[3] = 1;
        run P(1); run P(2); run P(3)
    }
}

#ifdef LIVE
#ifdef HOLD
ltl deadline_ends {
    [] (((waiting[1] && dl[1]) -> <> !waiting[1]) &&
        ((waiting[2] && dl[2]) -> <> !waiting[2]) &&
        ((waiting[3] && dl[3]) -> <> !waiting[3]))
}
#else
ltl progress {
    [] ((waiting[1] -> <> !waiting[1]) &&
        (waiting[2] -> <> !waiting[2]) &&
        (waiting[3] -> <> !waiting[3]))
}
#endif
#endif
