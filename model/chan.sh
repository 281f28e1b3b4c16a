#!/usr/bin/env bash
# Checks the SPIN model of the channels' waiter protocol (model/chan.pml):
# a select over a receive and a send, a plain sender and a plain receiver,
# all with deadlines, and with -DCLOSE a close racing with them.
#
#   bash model/chan.sh
#
# The model must have no error as the C has the protocol (safety: every
# token received exactly as often as its send reported success, no node
# left queued, nobody left asleep; liveness: a call whose deadline passed
# returns), and must fail with its rule broken:
#   -DNOCLAIM       a dequeue that takes a node without the CAS on sel
#   -DBLIND_GIVEUP  a waiter that gives up with a store instead of a CAS
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

expect chan.pml safety pass
expect chan.pml safety pass -DCLOSE
expect chan.pml live pass
expect chan.pml live pass -DCLOSE
expect chan.pml safety fail -DNOCLAIM
expect chan.pml safety fail -DBLIND_GIVEUP
report
