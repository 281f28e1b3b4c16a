#!/usr/bin/env bash
# Checks the SPIN models of gosync.shared's robust locks (model/README.md):
#
#   robust_mutex.pml    the robust mutex: three processes that lock (with and
#                       without a deadline), try_lock, mark_consistent,
#                       unlock, and die at any step; the POLL cap, takeover,
#                       INCONSISTENT -> NOTRECOVERABLE, starvation handoff and
#                       the unlocker's revert, the orphan-handoff claim
#   robust_rwmutex.pml  the robust RWMutex: reader slots, writer,
#                       readers_left, a dead reader freed by the drain, a
#                       reader taking over a dead writer, a writer's deadline
#                       undo (abandon)
#
#   bash model/robust.sh
#
# Each model must have no error as the C has the protocol (safety: the
# assertions and no invalid end state; liveness: the LTL formula under weak
# fairness), and each mutant must be caught:
#   robust_mutex.pml -DNOLIVECHECK   takeover without the liveness check
#   robust_mutex.pml -DIGNINC        Unlock ignores INCONSISTENT
#   robust_mutex.pml -DNOPOLL        no POLL cap: a waiter behind a dead
#                                    owner sleeps for ever
#   robust_mutex.pml -DNOREVERT      the starving Unlock does not revert an
#                                    unclaimed HANDOFF
#   robust_mutex.pml -DSPEC_REVERT   the revert without its last wake
#                                    (model-findings 1)
#   robust_rwmutex.pml -DNORECHECK   a reader's hold without a look at writer
#   robust_rwmutex.pml -DTWOWRITES   a dead reader's slot cleaned by two
#                                    stores instead of one CAS
#   robust_rwmutex.pml -DNODEADREADER  the drain never frees a dead reader
#   robust_rwmutex.pml -DSPEC_RETRY  a blocked reader's retry takes a hold
#                                    before it looks at writer (finding 2)
#   robust_rwmutex.pml -DOLD_UNLOCK  an Unlock without MarkConsistent lets
#                                    readers go before w is NOTRECOVERABLE
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC); about 80 s of CPU.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

# the two longest first, side by side
# The liveness runs narrow the call menus (see the .pml headers) to keep
# the states near a million; the safety runs keep every choice.
expect robust_rwmutex.pml live pass -DCALLS11=1 -DCALLS22=4 -DCALLS31=12
expect robust_mutex.pml live pass -DCALLS2=1 -DCALLS3=5
expect robust_mutex.pml safety pass
expect robust_mutex.pml live pass -DHOLD -DCALLS2=2 -DCALLS3=2
expect robust_mutex.pml live pass -DNOPOLL -DDEATHS=0 -DROUNDS1=2
expect robust_rwmutex.pml safety pass
expect robust_rwmutex.pml safety pass -DNSLOTS=1 -DCALLS31=1
expect robust_rwmutex.pml live pass -DHOLD -DCALLS11=2 -DCALLS22=8 -DCALLS31=4
expect robust_mutex.pml safety fail -DNOLIVECHECK
expect robust_mutex.pml safety fail -DIGNINC
expect robust_mutex.pml live fail -DNOPOLL
expect robust_mutex.pml live fail -DNOPOLL -DDEATHS=0 -DNOREVERT
expect robust_mutex.pml live fail -DNOPOLL -DDEATHS=0 -DROUNDS1=2 -DSPEC_REVERT
expect robust_rwmutex.pml safety fail -DNORECHECK
expect robust_rwmutex.pml safety fail -DTWOWRITES -DNSLOTS=1 -DCALLS31=1
expect robust_rwmutex.pml live fail -DNODEADREADER
expect robust_rwmutex.pml live fail -DSPEC_RETRY
expect robust_rwmutex.pml safety fail -DOLD_UNLOCK
report
