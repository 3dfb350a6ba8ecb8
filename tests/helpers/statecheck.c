/* statecheck: see statecheck.h. */
#include "statecheck.h"

void th_scratch_hash(const sw_state_t *s, char hex[65])
{
    sw_state_t *c = sw_state_clone(s);
    for (int i = 0; i < SW_SEC__COUNT; i++)
        sw_state_touch(c, (sw_section_t)i);
    for (size_t i = 0; i < c->execution.tasks.n; i++)
        sw_state_touch_task(c, c->execution.tasks.items[i]);
    sw_state_hash(c, hex);
    sw_state_free(c);
}
