#!/usr/bin/env bash
# Checks the SPIN models of the WaitGroup and the Cond (model/README.md):
#
#   waitgroup.pml  add/done, wait with give-up (deadline, signal), reuse,
#                  add(0)
#   cond.pml       register, wait, give up, cancel, signal and broadcast,
#                  a 2-bit generation that wraps, waiters that re-register
#
#   bash model/waitgroup_cond.sh
#
# Each model must have no error as the C has the protocol (safety: the
# assertions and no invalid end state; liveness: the LTL formula under weak
# fairness), and each mutant must be caught:
#   waitgroup.pml -DTWO_STEP   the old two-step release (defect 2)
#   waitgroup.pml -DFORGET     a failed give-up parks again (defect 4)
#   cond.pml -DOLD_LEAVE       in_g2 = (gen == ticket) (defect 7's borrow)
#   cond.pml -DLOWGEN          gen partly outside the sleep word (b7a85dc)
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC); about 45 s on 2 cores.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

expect waitgroup.pml safety pass
expect waitgroup.pml live pass -DHANG -DNOZ
expect waitgroup.pml safety fail -DTWO_STEP
expect waitgroup.pml live fail -DHANG -DNOZ -DFORGET
expect cond.pml safety pass
expect cond.pml live pass
expect cond.pml safety fail -DOLD_LEAVE
expect cond.pml safety fail -DLOWGEN
report
