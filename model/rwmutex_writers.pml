/* The RWMutex writer's wait, wider than rwmutex_wait.pml: two writers (A may
 * time out and give up, B may not), two readers that leave, lock again and
 * leave, a futex queue on the low half in which a wake dequeues one sleeper,
 * and stale wakes from earlier rounds. Only the low 9 bits of readers are in
 * the low half, as in the C (RB). A writer left asleep is an invalid end
 * state; mutual exclusion is asserted.
 *
 *   default     the protocol of csrc/rwmutex.c
 *   -DNORWAIT   the writer sleeps on a word without readerWait: SPIN must
 *               find the writer left asleep
 *
 * Written by a reviewer of the fix described in model/README.md.
 */
#ifndef RB
#define RB 511   /* readers' bits kept in the low half: C keeps 9 bits */
#endif
byte readers = 2; byte rwait = 0; bit writer = 0; byte epoch = 0;
bit w = 0;                /* the writers' mutex */
bit sl[2];                /* writer i in the futex queue of the low half */
byte rheld = 2; bit wheld = 0;
bit timedout = 0;
#ifdef NORWAIT
#define WORD (64*writer + 128*(readers & RB))
#else
#define WORD (rwait + 64*writer + 128*(readers & RB))
#endif

inline wake1() {
  if
  :: sl[0] -> sl[0] = 0
  :: sl[1] -> sl[1] = 0
  :: else
  fi
}

proctype Writer(byte id; bit may_give_up)
{
  short seen; byte st;
  atomic { w == 0 -> w = 1 };
  atomic { writer == 0 -> writer = 1; rwait = readers; st = readers };
  if :: st == 0 -> goto holds :: else fi;
  do
  :: atomic { st = rwait; seen = WORD };
     if :: st == 0 -> goto holds :: else fi;
     atomic { if :: WORD == seen -> sl[id] = 1 :: else fi };
     if
     :: sl[id] == 0 -> skip            /* woken (or EAGAIN) */
     :: atomic { may_give_up && !timedout && sl[id] -> sl[id] = 0; timedout = 1 };
        atomic { st = rwait };
        if :: st == 0 -> goto holds :: else fi;
        w = 0;
        atomic { writer = 0; rwait = 0; epoch++ };
        goto done
     fi
  od;
holds:
  atomic { assert(rheld == 0 && rwait == 0); wheld = 1 };
  wheld = 0;
  w = 0;
  atomic { writer = 0; epoch++ };
done:
  skip
}

proctype Reader()
{
  byte e; bit ow;
  byte o_r, o_rw; bit o_w, last;

r1:
  atomic { o_r = readers; o_rw = rwait; o_w = writer };
  assert(o_r > 0 && (!o_w || o_rw > 0));
  last = o_w && o_rw == 1;
  atomic {
    if
    :: readers == o_r && rwait == o_rw && writer == o_w ->
       readers--; rheld--; if :: o_w -> rwait-- :: else fi
    :: else -> goto r1
    fi
  };
  if :: last -> wake1() :: else fi
;
  atomic { readers++; e = epoch; ow = writer };
  if :: ow -> epoch != e :: else fi;
  atomic { assert(!wheld); rheld++ };

r2:
  atomic { o_r = readers; o_rw = rwait; o_w = writer };
  assert(o_r > 0 && (!o_w || o_rw > 0));
  last = o_w && o_rw == 1;
  atomic {
    if
    :: readers == o_r && rwait == o_rw && writer == o_w ->
       readers--; rheld--; if :: o_w -> rwait-- :: else fi
    :: else -> goto r2
    fi
  };
  if :: last -> wake1() :: else fi

}

init {
  atomic { run Reader(); run Reader(); run Writer(0, 1); run Writer(1, 0) }
}
