#!/usr/bin/env bash
# Checks the SPIN models of gosync.shared.Chan (gosync/shared/chan.py;
# model/README.md, "gosync.shared.Chan"):
#
#   shared_chan.pml    the unbuffered handoff: two senders and two receivers
#                      with deadlines, and with -DCLOSE a close racing them
#   shared_ring.pml    the buffered ring: a sender of 3 tokens, receivers of
#                      2 and 1, deadlines, close, a process killed at any
#                      step while it holds the mutex (-DDEATHS=1)
#   shared_select.pml  select(A.recv, (B.send, v)) against a sender on A and
#                      a receiver on B, with deadlines, closes of A and B
#                      (-DCLOSE, -DCLOSEB), the receiver killed (-DDEATHS=1);
#                      with -DTWOSEL against select(B.recv, (A.send, w))
#
#   bash model/shared_chan.sh
#
# The models must have no error (safety: every token received at most once,
# in order, exactly as often as its send reported success or its store was
# made, no torn or unwritten slot read, count in [0, capacity], one select
# case and only it taking effect; liveness: a call whose deadline passed
# returns, every call returns without deadlines, and with deaths a call
# that could go on returns), and must fail with:
#   shared_chan.pml -DBLIND_RETRACT    a timed-out sender retracting without
#                                      checking recvx
#   shared_ring.pml -DSTORE_FIRST      the word stored before the payload
#   shared_ring.pml -DTWO_STORES       a receive storing recvx and count
#                                      apart
#   shared_ring.pml -DWRAP_POW2        recvx wrapped at the field's size, no
#                                      multiple of the capacity
#   shared_ring.pml -DNOWAKE           a receive that wakes nobody
#   shared_ring.pml -DOLD_ORDER        _store's word store before its
#                                      broadcast (finding C1, fixed)
#   shared_select.pml -DNO_RETRACT     a select's offer not taken back when
#                                      its slice ends
#   shared_select.pml -DNO_UNCOUNT     a select that raises skipping its
#                                      finally (still counted a receiver)
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

# the longest first
ring_wrap=(-DCAP=3 -DNTOK=5 -DN1=5 -DN2=0)
expect shared_ring.pml live pass -DDEATHS=1
expect shared_ring.pml live pass -DCLOSE
expect shared_ring.pml safety pass -DCLOSE -DDEATHS=1
expect shared_chan.pml live pass -DCLOSE
expect shared_ring.pml live pass -DNODL -DDEATHS=1 -DBUFFERED -DCLOSE
expect shared_select.pml live pass -DCLOSE
expect shared_select.pml live pass -DDEATHS=1
expect shared_chan.pml live pass
expect shared_chan.pml safety pass
expect shared_chan.pml safety pass -DCLOSE
expect shared_ring.pml safety pass "${ring_wrap[@]}"
expect shared_ring.pml live pass -DNODL -DCLOSE
expect shared_select.pml safety pass -DCLOSE -DCLOSEB -DDEATHS=1
expect shared_select.pml safety pass -DTWOSEL -DCLOSE -DCLOSEB
expect shared_select.pml live pass -DTWOSEL -DCLOSE -DCLOSEB
expect shared_chan.pml safety fail -DBLIND_RETRACT
expect shared_ring.pml safety fail -DDEATHS=1 -DSTORE_FIRST
expect shared_ring.pml safety fail -DDEATHS=1 -DTWO_STORES
expect shared_ring.pml safety fail "${ring_wrap[@]}" -DWRAP_POW2
expect shared_ring.pml live fail -DNODL -DNOWAKE
expect shared_ring.pml live fail -DNODL -DDEATHS=1 -DBUFFERED -DOLD_ORDER
expect shared_select.pml safety fail -DNO_RETRACT
expect shared_select.pml safety fail -DCLOSEB -DNO_UNCOUNT
report
