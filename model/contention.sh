#!/usr/bin/env bash
# Checks the SPIN model of the mutex profile's contention record
# (model/contention.pml; csrc/profile.h): waiters that enter and leave, an
# unlocker that charges, time as a counter that moves at any moment.
#
#   bash model/contention.sh
#
# Must hold (the C as it is):
#   in-process (every call one step, the GIL): each charge is exactly the
#   sum of the registered waiters' uncharged waits; all zeros at the end
#   across processes (every access a step), without deaths: the count is 0
#   at the end
# Known limits, which must still show (model/README.md says why):
#   -DSPLIT            a charge can exceed the waits it stands for (races
#                      between the count, since and sum)
#   -DSPLIT -DDEATHS=1 a waiter killed while registered is charged for ever
#   -DSPLIT_ZEROS      across processes since and sum can stay non-zero
# Mutants that must be caught:
#   -DNO_LEAVE_SUB     a leave does not take its part out of sum
#   -DNO_LEAVE_RESET   the last leave does not reset since
#   -DNO_CHARGE_RESET  a charge does not restart the count
#   -DOLD              5a32c1b's head/tail record with Go's estimate
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC); about 25 s of CPU.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

expect contention.pml safety pass
expect contention.pml safety pass -DSPLIT -DNW=2 -DMAXT=3 -DCHARGES=1 -DNO_CHARGE_CHECK
expect contention.pml safety fail -DSPLIT -DNW=2 -DMAXT=3 -DCHARGES=1
expect contention.pml safety fail -DSPLIT -DNW=2 -DDEATHS=1
expect contention.pml safety fail -DSPLIT -DNW=2 -DNO_CHARGE_CHECK -DSPLIT_ZEROS
expect contention.pml safety fail -DNO_LEAVE_SUB
expect contention.pml safety fail -DNO_LEAVE_RESET
expect contention.pml safety fail -DNO_CHARGE_RESET
expect contention.pml safety fail -DOLD
report
