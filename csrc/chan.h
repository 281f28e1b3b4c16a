/* Chan: Go's channels (runtime/chan.go) and select (runtime/select.go).
 *
 * A channel is a ring of `cap` slots and two wait queues: receivers waiting
 * for a value (recvq) and senders waiting for room or for a receiver
 * (sendq). A lock word guards the ring and the queues; it is held only for a
 * few instructions and never across a sleep.
 *
 * The values themselves are not the core's: a value is a 64-bit token (the
 * binding's is a reference to a Python object; 0 means "no value") and the
 * ring is the caller's array of `cap` tokens, passed to every call. The core
 * decides which slot is read or written: recvx is where the next receive
 * reads, sendx where the next send writes, count how many slots hold values.
 *
 * Waiters. A blocked send, receive or select takes one node per channel it
 * waits on (Go's sudog) from a process-wide table, and queues each node on
 * its channel. Nodes are named by their index in the table, so the channel
 * holds integers only (docs/DESIGN.md, "The data rule"). The nodes of one
 * waiter share a lead node whose `sel` word is the waiter's futex word and
 * its "who won" record: a thread that takes a node off a queue to complete
 * it (a sender handing a value to a parked receiver, a receiver taking a
 * parked sender's value, close) first claims the whole waiter with one CAS
 * of sel from WAITING to CLAIMED. If the CAS fails, the waiter has already
 * been completed through another channel or has given up: the node is stale
 * and is dropped from the queue (Go's dequeue does the same with
 * selectDone). So a select completes at most one case, and a waiter that
 * gives up (deadline, signal) with the same CAS from WAITING to GAVE_UP can
 * never lose a value handed to it: either its give-up CAS wins and nothing
 * was transferred, or a claim won and the transfer is finished and reported
 * as success, even past the deadline.
 *
 * Waiter's sel word (lead node):
 *
 *   value     name      meaning
 *   0         WAITING   queued; any channel may claim it
 *   1         GAVE_UP   the waiter left (deadline, signal): claims fail
 *   2         CLAIMED   a thread claimed it under its channel's lock and is
 *                       writing the transfer (elem, success, won)
 *   3         DONE      the transfer is written; `won` names the case
 *
 *   WAITING -> CLAIMED  dequeue by a sender, receiver or close (CAS, under
 *                       the lock of the channel of the node)
 *   CLAIMED -> DONE     the claimer, after writing the node (release store,
 *                       still under the lock); then it wakes the sel word by
 *                       address only: it never reads a node after DONE
 *   WAITING -> GAVE_UP  the waiter, after a deadline or signal (CAS); then it
 *                       locks its channels and unlinks its nodes
 *   a waiter that sees CLAIMED waits for DONE: the claimer is inside a
 *   critical section that does not block
 *
 * Channel words (each written under the lock; count, closed and the queue
 * heads are atomics so that a failing non-blocking operation is detected
 * without the lock, as Go's chansend/chanrecv fast paths do):
 *
 *   field        meaning
 *   lock         0 free, 1 held, 2 held and a thread sleeps on it
 *   cap          ring size, fixed by gosync_chan_init
 *   count        values in the ring, 0..cap
 *   recvx,sendx  next slot to read, next slot to write, 0..cap-1
 *   closed       0 open, 1 closed (never reopens)
 *   recvq, sendq first and last node index (0: empty), doubly linked
 *   nrecv,nsend  queue lengths (stale nodes included), for tests
 *
 *   Invariants under the lock: recvq non-empty only while count == 0 (with
 *   no stale node, a receiver waits only when nothing is buffered); sendq
 *   non-empty only while count == cap; both empty once closed.
 *
 * Transitions (all under the lock):
 *
 *   send, receiver queued   claim it, write the value into its node, DONE
 *   send, room              ring[sendx] = v, sendx+1, count+1
 *   send, full              queue a node holding v, sleep
 *   send, closed            GOSYNC_CHAN_CLOSED (Go's panic), nothing sent
 *   recv, sender queued     cap 0: take the sender's value; else take
 *                           ring[recvx], put the sender's value there,
 *                           recvx+1, sendx = recvx (the ring rotates, full)
 *   recv, value buffered    take ring[recvx], recvx+1, count-1
 *   recv, closed, empty     ok = 0, the zero token
 *   recv, empty             queue a node, sleep
 *   close                   closed = 1; claim every queued node and complete
 *                           it with success = 0 (receivers get ok = 0,
 *                           senders GOSYNC_CHAN_CLOSED); a second close is
 *                           GOSYNC_MISUSE and changes nothing
 *
 * An unbuffered send therefore returns only after a receiver holds its
 * value: either the receiver was queued and the value was written into its
 * node, or the sender's own node was claimed by a receiver that took it.
 *
 * Select follows Go's selectgo: a random permutation of the live cases
 * (pollorder) and the channels locked in address order (lockorder). Pass 1
 * completes the first ready case in poll order, which is uniform among the
 * ready cases. Otherwise pass 2 queues one node per case and sleeps; after
 * waking, the waiter locks its channels again and unlinks the nodes that
 * were not chosen. Locking in address order is what makes two selects that
 * name the same channels in opposite orders safe: both lock the lower
 * address first, so neither holds one lock while waiting for the other.
 * Go's order was chosen over a park-on-all design without channel locks
 * because every queue change then happens under its channel's lock, so a
 * node is unlinked by exactly one thread and a waiter that gave up knows,
 * once it holds its channels' locks, that nobody can reach its nodes.
 *
 * Limits: 65535 waiting nodes at once in the process (a blocking call past
 * that fails with GOSYNC_OVERFLOW, changing nothing); cap < 2^31.
 */
#ifndef GOSYNC_CHAN_H
#define GOSYNC_CHAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#define GOSYNC_CHAN_MAX_CAP 0x7fffffffu
#define GOSYNC_CHAN_MAX_NODES 65536u /* node 0 is "none" */

/* Status codes of the channel calls beyond status.h's. */
enum {
    GOSYNC_CHAN_NOTREADY = 20, /* non-blocking and no case was ready */
    GOSYNC_CHAN_CLOSED = 21,   /* a send case's channel is closed (Go's
                                  "send on closed channel"); nothing sent */
    GOSYNC_CHAN_BUSY = 22,     /* GOSYNC_CHAN_TRYLOCK and a lock was held */
};

/* Flags of gosync_chan_select. */
#define GOSYNC_CHAN_BLOCK 1u   /* wait until a case is ready (else NOTREADY) */
#define GOSYNC_CHAN_TRYLOCK 2u /* never wait for a channel's lock: BUSY */

enum { GOSYNC_CHAN_RECV = 0, GOSYNC_CHAN_SEND = 1 };

/* Zero-filled and then gosync_chan_init: an open, empty, private channel. */
typedef struct {
    _Atomic uint32_t lock;
    uint32_t cap;
    _Atomic uint32_t count;
    uint32_t recvx, sendx;
    _Atomic uint32_t closed;
    _Atomic uint32_t recvq_first, sendq_first;
    uint32_t recvq_last, sendq_last;
    uint32_t nrecv, nsend;
    uint32_t park_flags; /* GOSYNC_PARK_SHARED or 0 */
} gosync_chan;

/* One case of a select (a send or a receive is a select of one case). */
typedef struct {
    gosync_chan *c;  /* NULL: a nil channel, never ready */
    uint64_t *ring;  /* c's ring: c->cap tokens, the caller's memory */
    uint32_t dir;    /* GOSYNC_CHAN_RECV or GOSYNC_CHAN_SEND */
    uint32_t ok;     /* out, receive: 1 a value came, 0 closed and drained */
    uint64_t elem;   /* in, send: the token; out, receive: the token (0 if !ok) */
} gosync_chan_case;

void gosync_chan_init(gosync_chan *c, uint32_t cap);

/* Performs one of the cases, chosen uniformly at random among the ready
 * ones, and stores its index in *chosen. scratch has room for 3 * n
 * uint32_t. Returns:
 *   GOSYNC_OK            case *chosen was performed (a receive's value, or
 *                        ok = 0, is in the case; a send's token now belongs
 *                        to the channel or to a receiver)
 *   GOSYNC_CHAN_CLOSED   send case *chosen found its channel closed
 *   GOSYNC_CHAN_NOTREADY without GOSYNC_CHAN_BLOCK: nothing was ready
 *   GOSYNC_CHAN_BUSY     with GOSYNC_CHAN_TRYLOCK: a lock was held; nothing
 *                        was done (call again without the flag)
 *   GOSYNC_TIMEDOUT, GOSYNC_INTERRUPTED, GOSYNC_FAULT, GOSYNC_OVERFLOW
 *                        nothing was done, every node is gone
 * With no live case and GOSYNC_CHAN_BLOCK it sleeps until the deadline or a
 * signal (Go's select {}). A case completed while the waiter was giving up
 * is reported as GOSYNC_OK: no token is lost or delivered twice. */
int gosync_chan_select(gosync_chan_case *cases, uint32_t n, uint32_t *scratch, unsigned flags,
                       int64_t deadline_ns, uint32_t *chosen);

/* Send and receive: a select of one case. Returns as gosync_chan_select. */
int gosync_chan_send(gosync_chan *c, uint64_t *ring, uint64_t elem, unsigned flags,
                     int64_t deadline_ns);
int gosync_chan_recv(gosync_chan *c, uint64_t *ring, uint64_t *elem, uint32_t *ok, unsigned flags,
                     int64_t deadline_ns);

/* Close: GOSYNC_OK, or GOSYNC_MISUSE (already closed; nothing changed). Wakes
 * every queued receiver (ok = 0) and sender (GOSYNC_CHAN_CLOSED). Buffered
 * values stay for receivers to drain. */
int gosync_chan_close(gosync_chan *c);

/* Calls visit(token, arg) for each value buffered in c, oldest first, under
 * the channel's lock, and returns the first nonzero result (0 if none). The
 * lock is what makes this safe while other threads send and receive: the
 * garbage collector of the binding reads the ring with its interpreter lock
 * held while the core moves tokens without it, and without the channel's
 * lock it could read recvx and count from different moments and visit a
 * slot whose token was already taken. visit must not call into the channel
 * (its lock is held) and must not block. */
int gosync_chan_visit(gosync_chan *c, const uint64_t *ring, int (*visit)(uint64_t token, void *arg),
                      void *arg);

/* Relaxed views, for len(), for tests and for the debug state. */
static inline uint32_t gosync_chan_len(const gosync_chan *c)
{
    return atomic_load_explicit((_Atomic uint32_t *)&c->count, memory_order_relaxed);
}
static inline bool gosync_chan_is_closed(const gosync_chan *c)
{
    return atomic_load_explicit((_Atomic uint32_t *)&c->closed, memory_order_relaxed) != 0;
}
/* Queued receivers and senders (taken under the lock), and the nodes in use
 * in the whole process. */
void gosync_chan_waiters(gosync_chan *c, uint32_t *receivers, uint32_t *senders);
uint32_t gosync_chan_nodes_in_use(void);

#endif /* GOSYNC_CHAN_H */
