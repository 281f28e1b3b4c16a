#!/usr/bin/env bash
# Checks the SPIN model of gosync.shared.Chan's unbuffered handoff
# (model/shared_chan.pml): two senders and two receivers with deadlines,
# and with -DCLOSE a close racing with them.
#
#   bash model/shared_chan.sh
#
# The model must have no error (safety: every token received at most once,
# and exactly as often as its send reported success, the slot left empty;
# liveness: a call whose deadline passed returns), and must fail with
#   -DBLIND_RETRACT  a timed-out sender retracting without checking recvx
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

expect shared_chan.pml safety pass
expect shared_chan.pml safety pass -DCLOSE
expect shared_chan.pml live pass
expect shared_chan.pml live pass -DCLOSE
expect shared_chan.pml safety fail -DBLIND_RETRACT
report
