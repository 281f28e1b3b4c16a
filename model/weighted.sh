#!/usr/bin/env bash
# Checks the SPIN model of gosync.semaphore.Weighted (model/weighted.pml):
# the CAS fast paths of csrc/weighted.h against the waiter queue of
# gosync/semaphore.py, with a waiter whose deadline may pass.
#
#   bash model/weighted.sh
#
# The model must have no error (the assertions and no invalid end state:
# every wait ends, by a grant or by its deadline), and each mutant must be
# caught:
#   -DBARGE    the fast acquire ignores QUEUED: a queued request is overtaken
#   -DNOCLEAR  a waiter that gives up leaves QUEUED set: the fast paths stall
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC); a few seconds.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

expect weighted.pml safety pass
expect weighted.pml safety fail -DBARGE
expect weighted.pml safety fail -DNOCLEAR
report
