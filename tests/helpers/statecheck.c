/* statecheck: see statecheck.h. */
#include "statecheck.h"

#include <stdio.h>

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

/* A populated state as a reducer would leave it: a council of `members`,
 * `tasks` tasks (plus two with non-ASCII ids whose JCS order differs from
 * code point order), maps, sets and sources. */
sw_state_t *th_state_typical(size_t members, size_t tasks)
{
    sw_state_t *s = sw_state_new_genesis();
    s->meta.index = 4242;
    s->meta.hlc_last = (sw_hlc_t){1700000000000ULL, 7, 0xabcdefULL};
    sw_str_set(&s->meta.last_transition, "EXECUTION_BEAT");
    sw_str_set(&s->meta.last_signer, "agent-0");
    s->boot.licensed = true;
    sw_str_set(&s->boot.license_id, "lic-\"quoted\"");
    sw_str_set(&s->boot.node_id, "0000000000000001");
    s->ingestion.phase = SW_ING_READY;
    s->ingestion.epoch = 2;
    s->ingestion.n_sources = 2;
    s->ingestion.sources = sw_xcalloc(2, sizeof(sw_source_t));
    s->ingestion.sources[0].id = sw_xstrdup("src-b");
    s->ingestion.sources[0].uri = sw_xstrdup("ucxl://b\n");
    s->ingestion.sources[1].id = sw_xstrdup("src-a");
    s->ingestion.sources[1].uri = sw_xstrdup("https://a/\xe2\x80\xa8");
    sw_str_set(&s->ingestion.content_hash, "c0ffee");
    s->council.phase = SW_CNC_READY;
    s->council.epoch = 3;
    sw_str_set(&s->council.council_id, "council-1");
    s->council.n_roles = members;
    s->council.roles = sw_xcalloc(members ? members : 1, sizeof(sw_role_t));
    s->council.members = sw_xcalloc(members ? members : 1, sizeof(sw_member_t));
    s->council.cap_members = members;
    for (size_t i = 0; i < members; i++) {
        char b[64];
        snprintf(b, sizeof(b), "role-%zu", members - i);
        s->council.roles[i].role = sw_xstrdup(b);
        s->council.roles[i].required = i % 2 == 0;
        s->council.members[i].role = sw_xstrdup(b);
        snprintf(b, sizeof(b), "agent-%zu", i);
        s->council.members[i].agent_id = sw_xstrdup(b);
        s->council.members[i].joined_index = 10 + i;
        sw_strset_add(&s->execution.approvals, b);
    }
    s->council.n_members = members;
    s->council.quorum = members / 2;
    sw_str_set(&s->council.quorum_cert_hash, "cert");
    s->environment.phase = SW_ENV_READY;
    s->environment.epoch = 1;
    sw_map_set(&s->environment.resources, "gpu", "2");
    sw_map_set(&s->environment.resources, "cpu", "8");
    sw_map_set(&s->environment.resources, "\xef\xac\xb3", "x");
    sw_map_set(&s->environment.resources, "\xf0\x9f\x98\x80", "y");
    s->execution.phase = SW_EXE_WORK;
    s->execution.epoch = 5;
    s->execution.beat_index = 77;
    sw_str_set(&s->execution.active_window_id, "w-1");
    for (size_t i = 0; i < tasks; i++) {
        char id[32], title[64];
        snprintf(id, sizeof(id), "task-%04zu", tasks - 1 - i);
        snprintf(title, sizeof(title), "Title %zu \\ \"q\" \t", i);
        sw_task_t *t = sw_task_new(id, title, 100 + i);
        t->status = (sw_task_status_t)(i % SW_TASK__COUNT);
        if (t->status != SW_TASK_OPEN)
            sw_str_set(&t->claimant, "agent-1");
        if (t->status >= SW_TASK_COMPLETED)
            sw_str_set(&t->result, "result text");
        t->updated_index = 200 + i;
        sw_tasks_insert(s, t);
    }
    sw_tasks_insert(s, sw_task_new("\xee\x80\x80", "private use", 1));
    sw_tasks_insert(s, sw_task_new("\xf0\x9f\x98\x80", "emoji", 2));
    s->control.degraded = false;
    s->control.paused = true;
    sw_str_set(&s->control.quarantine_reason, "none");
    s->policy.version = 2;
    s->policy.approval_threshold = 2;
    sw_strset_add(&s->policy.admins, "zed");
    sw_strset_add(&s->policy.admins, "admin");
    sw_strset_add(&s->policy.admins, "Admin");
    sw_map_set(&s->policy.params, "mode", "strict");
    sw_map_set(&s->policy.params, "a", "1");
    for (int i = 0; i < SW_SEC__COUNT; i++)
        sw_state_touch(s, (sw_section_t)i);
    return s;
}
