/* Chan and select, see chan.h for the words, the waiter protocol and the
 * transitions. */
#include "chan.h"

#include <stddef.h>

#include "atomic.h"
#include "park.h"
#include "testhook.h"

/* ---- Waiter nodes (Go's sudog) ------------------------------------------ */

enum { SEL_WAITING = 0, SEL_GAVE_UP = 1, SEL_CLAIMED = 2, SEL_DONE = 3 };

typedef struct {
    _Atomic uint32_t sel; /* lead node: the waiter's state (chan.h) and futex word */
    uint32_t won;         /* lead node: the case completed, written while CLAIMED */
    uint32_t lead;        /* the lead node of this node's waiter */
    uint32_t case_index;  /* this node's case */
    uint32_t next, prev;  /* queue links (0: none), under the channel's lock */
    uint32_t queued;      /* 1 while on its channel's queue, under the lock */
    uint32_t success;     /* 1: a transfer completed it; 0: close did */
    uint64_t elem;        /* a sender's token, or the token a receiver got */
    _Atomic uint32_t free_next; /* the free stack's link */
} node_t;

/* The process's nodes. Only pages that nodes reach are ever touched: fresh
 * nodes are handed out in index order, and freed ones are reused first. */
static node_t nodes[GOSYNC_CHAN_MAX_NODES];
/* Free stack: index in the low 32 bits, an ABA tag in the high 32, so that a
 * pop's CAS fails if the head was popped and pushed back meanwhile. */
static _Atomic uint64_t free_head;
static _Atomic uint32_t next_fresh = 1;
static _Atomic uint32_t in_use;

static uint32_t node_alloc(void)
{
    uint64_t head = gosync_load(&free_head, GOSYNC_ACQUIRE);
    for (;;) {
        uint32_t idx = (uint32_t)head;
        if (idx == 0)
            break;
        uint32_t next = gosync_load(&nodes[idx].free_next, GOSYNC_RELAXED);
        uint64_t new = ((head >> 32) + 1) << 32 | next;
        if (gosync_cas(&free_head, &head, new, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE)) {
            gosync_add(&in_use, 1, GOSYNC_RELAXED);
            return idx;
        }
    }
    uint32_t fresh = gosync_load(&next_fresh, GOSYNC_RELAXED);
    do {
        if (fresh >= GOSYNC_CHAN_MAX_NODES)
            return 0;
    } while (!gosync_cas(&next_fresh, &fresh, fresh + 1, GOSYNC_RELAXED, GOSYNC_RELAXED));
    gosync_add(&in_use, 1, GOSYNC_RELAXED);
    return fresh;
}

static void node_free(uint32_t idx)
{
    gosync_add(&in_use, (uint32_t)-1, GOSYNC_RELAXED);
    uint64_t head = gosync_load(&free_head, GOSYNC_RELAXED);
    do {
        gosync_store(&nodes[idx].free_next, (uint32_t)head, GOSYNC_RELAXED);
    } while (!gosync_cas(&free_head, &head, ((head >> 32) + 1) << 32 | idx, GOSYNC_RELEASE,
                         GOSYNC_RELAXED));
}

uint32_t gosync_chan_nodes_in_use(void)
{
    return gosync_load(&in_use, GOSYNC_SEQ_CST);
}

/* ---- The channel's lock ---------------------------------------------------
 * Drepper's three-state futex lock ("Futexes are tricky", mutex 2): held for
 * a few instructions, so a short spin before sleeping; no deadline, and a
 * signal only makes it look again. */

#define LOCK_SPINS 100

static bool chan_trylock(gosync_chan *c)
{
    uint32_t free_ = 0;
    return gosync_cas(&c->lock, &free_, 1, GOSYNC_ACQUIRE, GOSYNC_RELAXED);
}

static void chan_lock(gosync_chan *c)
{
    if (chan_trylock(c))
        return;
    if (gosync_ncpu() > 1) {
        for (int i = 0; i < LOCK_SPINS; i++) {
            gosync_cpu_relax();
            if (gosync_load(&c->lock, GOSYNC_RELAXED) == 0 && chan_trylock(c))
                return;
        }
    }
    while (gosync_swap(&c->lock, 2, GOSYNC_ACQUIRE) != 0)
        gosync_park_wait(&c->lock, 2, 1, GOSYNC_NO_DEADLINE, c->park_flags);
}

static void chan_unlock(gosync_chan *c)
{
    if (gosync_swap(&c->lock, 0, GOSYNC_RELEASE) == 2)
        gosync_park_wake(&c->lock, 1, GOSYNC_PARK_ANY, c->park_flags);
}

/* ---- Queues ----------------------------------------------------------------
 * Under the channel's lock. recvq for receivers, sendq for senders. */

typedef struct {
    _Atomic uint32_t *first;
    uint32_t *last;
    uint32_t *len;
} queue_t;

static queue_t queue_of(gosync_chan *c, uint32_t dir)
{
    if (dir == GOSYNC_CHAN_RECV)
        return (queue_t){&c->recvq_first, &c->recvq_last, &c->nrecv};
    return (queue_t){&c->sendq_first, &c->sendq_last, &c->nsend};
}

static void enqueue(queue_t q, uint32_t idx)
{
    node_t *n = &nodes[idx];
    n->next = 0;
    n->prev = *q.last;
    n->queued = 1;
    if (*q.last != 0)
        nodes[*q.last].next = idx;
    else
        gosync_store(q.first, idx, GOSYNC_RELAXED);
    *q.last = idx;
    *q.len += 1;
}

static void unlink_node(queue_t q, uint32_t idx)
{
    node_t *n = &nodes[idx];
    if (n->prev != 0)
        nodes[n->prev].next = n->next;
    else
        gosync_store(q.first, n->next, GOSYNC_RELAXED);
    if (n->next != 0)
        nodes[n->next].prev = n->prev;
    else
        *q.last = n->prev;
    n->next = n->prev = 0;
    n->queued = 0;
    *q.len -= 1;
}

/* Takes the first node whose waiter it can claim (WAITING -> CLAIMED) off
 * the queue; stale nodes (their waiter won elsewhere or gave up) are
 * dropped on the way. Returns 0 if none. */
static uint32_t dequeue(queue_t q)
{
    for (;;) {
        uint32_t idx = gosync_load(q.first, GOSYNC_RELAXED);
        if (idx == 0)
            return 0;
        unlink_node(q, idx);
        uint32_t waiting = SEL_WAITING;
        if (gosync_cas(&nodes[nodes[idx].lead].sel, &waiting, SEL_CLAIMED, GOSYNC_ACQUIRE,
                       GOSYNC_RELAXED))
            return idx;
        GOSYNC_PREEMPT("chan.dequeue.stale");
    }
}

/* Ends a claim: the transfer into or out of node idx is written. After the
 * release store the waiter may return and free its nodes, so the caller
 * only wakes the returned word afterwards, by address. */
static _Atomic uint32_t *complete(uint32_t idx, uint32_t success)
{
    node_t *n = &nodes[idx];
    node_t *lead = &nodes[n->lead];
    n->success = success;
    lead->won = n->case_index;
    GOSYNC_PREEMPT("chan.complete.claimed");
    gosync_store(&lead->sel, SEL_DONE, GOSYNC_RELEASE);
    return &lead->sel;
}

/* Wakes a waiter parked on its lead node's sel word. The nodes are this
 * process's table, never shared memory, so the word is parked on and woken
 * as private (flags 0), whatever the channel's own park_flags (those are for
 * its lock word). */
static void wake(_Atomic uint32_t *word)
{
    if (word != NULL)
        gosync_park_wake(word, 1, GOSYNC_PARK_ANY, 0);
}

/* ---- One case under its channel's lock ------------------------------------ */

enum { CASE_NOT_READY = 0, CASE_DONE = 1, CASE_CLOSED_SEND = 2 };

/* Tries case k with its channel locked. On CASE_DONE, *to_wake is the word of
 * a waiter this completed (or NULL), to be woken after unlocking. */
static int try_case(gosync_chan_case *cs, _Atomic uint32_t **to_wake)
{
    gosync_chan *c = cs->c;
    uint32_t cap = c->cap;
    *to_wake = NULL;
    if (cs->dir == GOSYNC_CHAN_SEND) {
        if (gosync_load(&c->closed, GOSYNC_RELAXED))
            return CASE_CLOSED_SEND;
        uint32_t r = dequeue(queue_of(c, GOSYNC_CHAN_RECV));
        if (r != 0) {
            nodes[r].elem = cs->elem; /* straight to the parked receiver */
            *to_wake = complete(r, 1);
            return CASE_DONE;
        }
        uint32_t count = gosync_load(&c->count, GOSYNC_RELAXED);
        if (count < cap) {
            cs->ring[c->sendx] = cs->elem;
            c->sendx = c->sendx + 1 == cap ? 0 : c->sendx + 1;
            gosync_store(&c->count, count + 1, GOSYNC_RELAXED);
            return CASE_DONE;
        }
        return CASE_NOT_READY;
    }
    uint32_t count = gosync_load(&c->count, GOSYNC_RELAXED);
    if (gosync_load(&c->closed, GOSYNC_RELAXED) && count == 0) {
        cs->elem = 0;
        cs->ok = 0;
        return CASE_DONE;
    }
    uint32_t s = dequeue(queue_of(c, GOSYNC_CHAN_SEND));
    if (s != 0) {
        if (cap == 0) {
            cs->elem = nodes[s].elem;
        } else {
            /* The ring is full: take its head, and the sender's value goes
             * into the freed slot, which becomes the tail. */
            cs->elem = cs->ring[c->recvx];
            cs->ring[c->recvx] = nodes[s].elem;
            c->recvx = c->recvx + 1 == cap ? 0 : c->recvx + 1;
            c->sendx = c->recvx;
        }
        nodes[s].elem = 0;
        cs->ok = 1;
        *to_wake = complete(s, 1);
        return CASE_DONE;
    }
    if (count > 0) {
        cs->elem = cs->ring[c->recvx];
        cs->ring[c->recvx] = 0;
        c->recvx = c->recvx + 1 == cap ? 0 : c->recvx + 1;
        gosync_store(&c->count, count - 1, GOSYNC_RELAXED);
        cs->ok = 1;
        return CASE_DONE;
    }
    return CASE_NOT_READY;
}

/* ---- Go's non-blocking fast paths ------------------------------------------
 * A failing non-blocking operation is detected without the lock. Each word is
 * read atomically; the conclusion holds at the moment of the read (see the
 * comments in Go's chansend and chanrecv). */

static bool chan_full(gosync_chan *c)
{
    if (c->cap == 0)
        return gosync_load(&c->recvq_first, GOSYNC_ACQUIRE) == 0;
    return gosync_load(&c->count, GOSYNC_ACQUIRE) == c->cap;
}

static bool chan_empty(gosync_chan *c)
{
    if (c->cap == 0)
        return gosync_load(&c->sendq_first, GOSYNC_ACQUIRE) == 0;
    return gosync_load(&c->count, GOSYNC_ACQUIRE) == 0;
}

/* Whether a case looks ready, read without the lock: it may not be by the
 * time the lock is taken. */
static bool looks_ready(gosync_chan_case *cs)
{
    gosync_chan *c = cs->c;
    if (gosync_load(&c->closed, GOSYNC_ACQUIRE))
        return true; /* a receive drains or reports closed; a send fails */
    return cs->dir == GOSYNC_CHAN_SEND ? !chan_full(c) : !chan_empty(c);
}

/* Returns GOSYNC_CHAN_NOTREADY or GOSYNC_OK (closed and drained, seen
 * without the lock) when the fast path decides, else -1. */
static int fast_fail(gosync_chan_case *cs)
{
    gosync_chan *c = cs->c;
    if (cs->dir == GOSYNC_CHAN_SEND) {
        if (!gosync_load(&c->closed, GOSYNC_ACQUIRE) && chan_full(c))
            return GOSYNC_CHAN_NOTREADY;
        return -1;
    }
    if (!chan_empty(c))
        return -1;
    /* Empty was seen before closed: if still open, it was empty while open. */
    if (!gosync_load(&c->closed, GOSYNC_ACQUIRE))
        return GOSYNC_CHAN_NOTREADY;
    /* Closed for good; if empty now, it is closed and drained. */
    if (chan_empty(c)) {
        cs->elem = 0;
        cs->ok = 0;
        return GOSYNC_OK;
    }
    return -1;
}

/* ---- Select ------------------------------------------------------------------ */

/* A per-thread xorshift for the poll order: not shared, so no contention, and
 * seeded from the thread's own address and the clock. */
static uint32_t cheaprand(void)
{
    static _Thread_local uint64_t x;
    if (x == 0)
        x = (uint64_t)(uintptr_t)&x ^ (uint64_t)gosync_now_ns() ^ UINT64_C(0x9e3779b97f4a7c15);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (uint32_t)(x >> 32);
}

/* Uniform in [0, n), by Lemire's multiply-shift (bias below n / 2^32). */
static uint32_t cheaprandn(uint32_t n)
{
    return (uint32_t)(((uint64_t)cheaprand() * n) >> 32);
}

static void sel_unlock(gosync_chan_case *cases, const uint32_t *lockorder, uint32_t m)
{
    for (uint32_t i = m; i-- > 0;) {
        gosync_chan *c = cases[lockorder[i]].c;
        if (i > 0 && cases[lockorder[i - 1]].c == c)
            continue; /* a channel named twice is unlocked once */
        chan_unlock(c);
    }
}

/* Locks the channels in address order, each once. With trylock, gives up
 * (unlocking what it took) as soon as one is held: false. */
static bool sel_lock(gosync_chan_case *cases, const uint32_t *lockorder, uint32_t m, bool trylock)
{
    for (uint32_t i = 0; i < m; i++) {
        gosync_chan *c = cases[lockorder[i]].c;
        if (i > 0 && cases[lockorder[i - 1]].c == c)
            continue;
        if (!trylock) {
            chan_lock(c);
        } else if (!chan_trylock(c)) {
            sel_unlock(cases, lockorder, i);
            return false;
        }
    }
    return true;
}

/* Unlinks the nodes of the cases other than `except` (all: UINT32_MAX) that
 * are still queued, then frees every node. Channels must be locked. */
static void drop_nodes(gosync_chan_case *cases, const uint32_t *live, const uint32_t *node_of,
                       uint32_t m)
{
    for (uint32_t i = 0; i < m; i++) {
        uint32_t idx = node_of[i];
        if (nodes[idx].queued)
            unlink_node(queue_of(cases[live[i]].c, cases[live[i]].dir), idx);
    }
}

static void free_nodes(const uint32_t *node_of, uint32_t m)
{
    for (uint32_t i = 0; i < m; i++)
        node_free(node_of[i]);
}

/* Select {} and the like: no live case. */
static int sleep_forever(int64_t deadline_ns)
{
    _Atomic uint32_t never = 0;
    for (;;) {
        gosync_park_result r = gosync_park_wait(&never, 0, 1, deadline_ns, 0);
        if (gosync_park_gave_up(r))
            return gosync_park_status(r);
    }
}

int gosync_chan_select(gosync_chan_case *cases, uint32_t n, uint32_t *scratch, unsigned flags,
                       int64_t deadline_ns, uint32_t *chosen)
{
    uint32_t *pollorder = scratch, *lockorder = scratch + n, *node_of = scratch + 2 * n;

    /* Pass 0: the cases that look ready without their locks; one of them,
     * chosen uniformly, is tried under its own lock alone. Most selects
     * that find a case ready end here, locking one channel instead of all
     * of them. A case that is not ready after all, or whose lock is held,
     * is left to pass 1. */
    uint32_t m = 0, nready = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cases[i].c == NULL)
            continue;
        m++;
        if (looks_ready(&cases[i]))
            pollorder[nready++] = i;
    }
    if (m == 0) {
        if (!(flags & GOSYNC_CHAN_BLOCK))
            return GOSYNC_CHAN_NOTREADY;
        return sleep_forever(deadline_ns);
    }
    if (nready > 0) {
        uint32_t k = pollorder[nready == 1 ? 0 : cheaprandn(nready)];
        gosync_chan_case *cs = &cases[k];
        if ((flags & GOSYNC_CHAN_TRYLOCK) ? chan_trylock(cs->c) : (chan_lock(cs->c), true)) {
            _Atomic uint32_t *to_wake;
            int r = try_case(cs, &to_wake);
            chan_unlock(cs->c);
            if (r != CASE_NOT_READY) {
                wake(to_wake);
                *chosen = k;
                return r == CASE_DONE ? GOSYNC_OK : GOSYNC_CHAN_CLOSED;
            }
        }
    } else if (m == 1 && !(flags & GOSYNC_CHAN_BLOCK)) {
        /* Go's lock-free failure of a non-blocking operation. */
        uint32_t k = 0;
        while (cases[k].c == NULL)
            k++;
        int rc = fast_fail(&cases[k]);
        if (rc >= 0) {
            *chosen = k;
            return rc;
        }
    }

    /* The live cases in a random order (Go's pollorder: an inside-out
     * Fisher-Yates shuffle, so every permutation is equally likely). */
    m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cases[i].c == NULL)
            continue;
        uint32_t j = cheaprandn(m + 1);
        pollorder[m] = pollorder[j];
        pollorder[j] = i;
        m++;
    }

    /* Lock order: by channel address (insertion sort: selects are small). */
    for (uint32_t i = 0; i < m; i++) {
        uint32_t k = pollorder[i], j = i;
        while (j > 0 && (uintptr_t)cases[lockorder[j - 1]].c > (uintptr_t)cases[k].c) {
            lockorder[j] = lockorder[j - 1];
            j--;
        }
        lockorder[j] = k;
    }
    if (!sel_lock(cases, lockorder, m, (flags & GOSYNC_CHAN_TRYLOCK) != 0))
        return GOSYNC_CHAN_BUSY;

    /* Pass 1: the first ready case in poll order. */
    for (uint32_t i = 0; i < m; i++) {
        uint32_t k = pollorder[i];
        _Atomic uint32_t *to_wake;
        int r = try_case(&cases[k], &to_wake);
        if (r == CASE_NOT_READY)
            continue;
        sel_unlock(cases, lockorder, m);
        wake(to_wake);
        *chosen = k;
        return r == CASE_DONE ? GOSYNC_OK : GOSYNC_CHAN_CLOSED;
    }
    if (!(flags & GOSYNC_CHAN_BLOCK)) {
        sel_unlock(cases, lockorder, m);
        return GOSYNC_CHAN_NOTREADY;
    }

    /* Pass 2: a node on every channel, in lock order; the first is the lead. */
    uint32_t lead = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t idx = node_alloc();
        if (idx == 0) {
            free_nodes(node_of, i);
            sel_unlock(cases, lockorder, m);
            return GOSYNC_OVERFLOW;
        }
        node_of[i] = idx;
    }
    lead = node_of[0];
    gosync_store(&nodes[lead].sel, SEL_WAITING, GOSYNC_RELAXED);
    for (uint32_t i = 0; i < m; i++) {
        uint32_t k = lockorder[i];
        node_t *nd = &nodes[node_of[i]];
        nd->lead = lead;
        nd->case_index = k;
        nd->success = 0;
        nd->elem = cases[k].dir == GOSYNC_CHAN_SEND ? cases[k].elem : 0;
        enqueue(queue_of(cases[k].c, cases[k].dir), node_of[i]);
    }
    GOSYNC_PREEMPT("chan.select.queued");
    sel_unlock(cases, lockorder, m);

    /* Sleep until claimed and done, or give up. */
    _Atomic uint32_t *sel = &nodes[lead].sel;
    int gave_up = GOSYNC_OK;
    for (;;) {
        uint32_t s = gosync_load(sel, GOSYNC_ACQUIRE);
        if (s == SEL_DONE)
            break;
        if (s == SEL_CLAIMED) { /* the claimer is a few instructions from DONE */
            gosync_park_wait(sel, SEL_CLAIMED, 1, GOSYNC_NO_DEADLINE, 0);
            continue;
        }
        gosync_park_result r = gosync_park_wait(sel, SEL_WAITING, 1, deadline_ns, 0);
        if (!gosync_park_gave_up(r))
            continue;
        GOSYNC_PREEMPT("chan.select.giving_up");
        uint32_t waiting = SEL_WAITING;
        if (gosync_cas(sel, &waiting, SEL_GAVE_UP, GOSYNC_ACQUIRE, GOSYNC_ACQUIRE)) {
            gave_up = gosync_park_status(r);
            break;
        }
        /* Claimed meanwhile: the case completes; wait for DONE. */
    }

    /* Pass 3: unlink what is still queued, under the channels' locks. A node
     * already taken off its queue (the winner, or stale nodes that another
     * thread dropped) is not linked any more; with one case and a win there
     * is nothing left on any queue. */
    if (gave_up != GOSYNC_OK || m > 1) {
        sel_lock(cases, lockorder, m, false);
        drop_nodes(cases, lockorder, node_of, m);
        sel_unlock(cases, lockorder, m);
    }
    if (gave_up != GOSYNC_OK) {
        free_nodes(node_of, m);
        return gave_up;
    }
    uint32_t k = nodes[lead].won;
    uint32_t won_node = 0;
    for (uint32_t i = 0; i < m; i++)
        if (lockorder[i] == k)
            won_node = node_of[i];
    int rc = GOSYNC_OK;
    if (cases[k].dir == GOSYNC_CHAN_RECV) {
        cases[k].ok = nodes[won_node].success;
        cases[k].elem = nodes[won_node].success ? nodes[won_node].elem : 0;
    } else if (!nodes[won_node].success) {
        rc = GOSYNC_CHAN_CLOSED; /* woken by close */
    }
    free_nodes(node_of, m);
    *chosen = k;
    return rc;
}

int gosync_chan_send(gosync_chan *c, uint64_t *ring, uint64_t elem, unsigned flags,
                     int64_t deadline_ns)
{
    gosync_chan_case cs = {c, ring, GOSYNC_CHAN_SEND, 0, elem};
    uint32_t scratch[3], chosen;
    return gosync_chan_select(&cs, 1, scratch, flags, deadline_ns, &chosen);
}

int gosync_chan_recv(gosync_chan *c, uint64_t *ring, uint64_t *elem, uint32_t *ok, unsigned flags,
                     int64_t deadline_ns)
{
    gosync_chan_case cs = {c, ring, GOSYNC_CHAN_RECV, 0, 0};
    uint32_t scratch[3], chosen;
    int rc = gosync_chan_select(&cs, 1, scratch, flags, deadline_ns, &chosen);
    *elem = cs.elem;
    *ok = cs.ok;
    return rc;
}

int gosync_chan_close(gosync_chan *c)
{
    chan_lock(c);
    if (gosync_load(&c->closed, GOSYNC_RELAXED)) {
        chan_unlock(c);
        return GOSYNC_MISUSE;
    }
    gosync_store(&c->closed, 1, GOSYNC_RELEASE);
    /* Every waiter is completed with success = 0, and woken at once (under
     * the lock: close is rare, and the words are table entries, always
     * mapped). Senders keep their tokens: the caller's send fails. */
    for (uint32_t dir = GOSYNC_CHAN_RECV; dir <= GOSYNC_CHAN_SEND; dir++) {
        uint32_t idx;
        while ((idx = dequeue(queue_of(c, dir))) != 0) {
            if (dir == GOSYNC_CHAN_RECV)
                nodes[idx].elem = 0;
            wake(complete(idx, 0));
        }
    }
    chan_unlock(c);
    return GOSYNC_OK;
}

void gosync_chan_init(gosync_chan *c, uint32_t cap)
{
    c->cap = cap;
}

int gosync_chan_visit(gosync_chan *c, const uint64_t *ring, int (*visit)(uint64_t token, void *arg),
                      void *arg)
{
    int rc = 0;
    chan_lock(c);
    uint32_t n = gosync_load(&c->count, GOSYNC_RELAXED);
    for (uint32_t i = 0, x = c->recvx; rc == 0 && i < n; i++, x = x + 1 == c->cap ? 0 : x + 1)
        rc = visit(ring[x], arg);
    chan_unlock(c);
    return rc;
}

void gosync_chan_waiters(gosync_chan *c, uint32_t *receivers, uint32_t *senders)
{
    chan_lock(c);
    *receivers = c->nrecv;
    *senders = c->nsend;
    chan_unlock(c);
}
