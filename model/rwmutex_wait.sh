#!/usr/bin/env bash
# Checks the SPIN models of the RWMutex (model/README.md):
#
#   rwmutex_wait.pml     the writer's wait: two readers leave while a third
#                        arrives
#   rwmutex_writers.pml  two writers (one gives up at its deadlines, in w's
#                        Lock, in announce's WWAIT sleep, or waiting for the
#                        readers), readers that leave, come back (blocking,
#                        giving up) and leave, the epoch (2 bits)
#
#   bash model/rwmutex_wait.sh
#
# Each model must have no error as the C has the protocol (safety: mutual
# exclusion and the other assertions, no invalid end state, i.e. nobody
# left asleep; liveness: a thread whose deadline passed returns from Lock or
# RLock), and must fail with its rule flipped:
#   rwmutex_wait.pml -DSEQ             the earlier protocol whose lost
#                                      wake-up `python -m gosync bench` hit
#   rwmutex_writers.pml -DNORWAIT      a writer sleeping on a word without
#                                      readerWait
#   rwmutex_writers.pml -DALWAYS_ADVANCE  every release advances the epoch
#                                      (defect 6: the wrap)
# Exit 0 only if all come out so, 1 if one does not, 2 on a tool error.
# Needs spin and a C compiler (gcc, $CC); about 25 s of CPU.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=expect.sh
source "$here/expect.sh"

expect rwmutex_wait.pml safety pass
expect rwmutex_wait.pml safety fail -DSEQ
expect rwmutex_writers.pml safety pass
expect rwmutex_writers.pml safety pass -DNR=1 -DNA=3
expect rwmutex_writers.pml live pass -DHANG -DNR=1 -DNA=3
expect rwmutex_writers.pml safety fail -DNORWAIT
expect rwmutex_writers.pml safety fail -DNR=1 -DNA=3 -DALWAYS_ADVANCE
report
