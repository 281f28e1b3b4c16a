/* Once, see once.h. */
#include "once.h"

#include "atomic.h"

bool gosync_once_done(const gosync_once *o)
{
    return gosync_load((_Atomic uint32_t *)&o->done, GOSYNC_ACQUIRE) != 0;
}

void gosync_once_set_done(gosync_once *o)
{
    gosync_store(&o->done, 1, GOSYNC_RELEASE);
}
