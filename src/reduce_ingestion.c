/* reduce_ingestion: the Ingestion section's effects (SPEC §5). */
#include "reduce.h"

#include <stdlib.h>

/* SPEC §5: INGESTION_STARTED →FETCH, Epoch+1, Sources replaced (payload
 * order), ContentHash and LastError cleared. */
SW_REDUCE_APPLY(ingestion_started)
{
    size_t n = json_array_size(p->pl.sources);
    sw_source_t *src = sw_xcalloc(n, sizeof *src);
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(p->pl.sources, i);
        src[i].id = sw_xstrdup(json_string_value(json_object_get(it, "id")));
        src[i].uri = sw_xstrdup(json_string_value(json_object_get(it, "uri")));
    }
    for (size_t i = 0; i < s->ingestion.n_sources; i++) {
        free(s->ingestion.sources[i].id);
        free(s->ingestion.sources[i].uri);
    }
    free(s->ingestion.sources);
    s->ingestion.sources = src;
    s->ingestion.n_sources = n;
    s->ingestion.phase = SW_ING_FETCH;
    s->ingestion.epoch++;
    sw_str_set(&s->ingestion.content_hash, "");
    sw_str_set(&s->ingestion.last_error, "");
    sw_state_touch(s, SW_SEC_INGESTION);
}

/* SPEC §5: INGESTION_FETCHED →VALIDATE with ContentHash. */
SW_REDUCE_APPLY(ingestion_fetched)
{
    s->ingestion.phase = SW_ING_VALIDATE;
    sw_str_set(&s->ingestion.content_hash, p->pl.content_hash);
    sw_state_touch(s, SW_SEC_INGESTION);
}

/* SPEC §5: INGESTION_VALIDATED →INDEX. */
SW_REDUCE_APPLY(ingestion_validated)
{
    (void)p;
    s->ingestion.phase = SW_ING_INDEX;
    sw_state_touch(s, SW_SEC_INGESTION);
}

/* SPEC §5: INGESTION_INDEXED →READY. */
SW_REDUCE_APPLY(ingestion_indexed)
{
    (void)p;
    s->ingestion.phase = SW_ING_READY;
    sw_state_touch(s, SW_SEC_INGESTION);
}

/* SPEC §5: INGESTION_FAILED →FAILED with LastError = reason. */
SW_REDUCE_APPLY(ingestion_failed)
{
    s->ingestion.phase = SW_ING_FAILED;
    sw_str_set(&s->ingestion.last_error, p->pl.reason);
    sw_state_touch(s, SW_SEC_INGESTION);
}
