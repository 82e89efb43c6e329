/* SPDX-License-Identifier: MIT */
/*
 * The gfx core (virtio 1.2 spec, 5.7.6 "Device Operation"; the part of
 * rutabaga_gfx that is not a component): the table of guest-named
 * resources, their guest backing (translated to host ranges once, at
 * attach time, through mem_ptr()), host memory accounting against
 * max_hostmem, scanouts with their listener, and the cursors. Commands
 * about pixels are handed to the component that created the resource
 * (component.h). Not here: command decoding (the device), pixel formats
 * and copies (2d.c), contexts, capsets, blobs and fences (later).
 */
#include "gfx/gfx.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "gfx/component.h"
#include "mem/mem.h"

/* Host memory charged per resource besides its pixels: the record, the
 * pixman image header and a share of the hash table. Without it a guest
 * could make millions of 1x1 resources for free. */
#define GFX_RESOURCE_OVERHEAD 512u

#define GFX_MIN_BUCKET_BITS 6u

struct gfx_scanout {
    uint32_t resource_id; /* 0: disabled */
    struct gfx_rect r;
    struct gfx_cursor cursor;
};

struct gfx {
    const struct mem_map *mem;
    uint64_t max_hostmem;
    uint64_t hostmem_used;
    uint32_t num_scanouts;
    const struct gfx_component_ops *comp_2d;

    /* Resources: chained hash table keyed by id; the hash is salted so a
     * guest cannot pick ids that all land in one chain. */
    struct gfx_resource **buckets;
    unsigned bucket_bits;
    uint32_t n_resources;
    uint64_t salt;

    struct gfx_scanout scanouts[GFX_MAX_SCANOUTS];

    const struct gfx_listener *listener;
    void *listener_opaque;
};

/* ---- host memory ---- */

uint32_t gfx_hostmem_charge(struct gfx *g, struct gfx_resource *res,
                            uint64_t bytes)
{
    if (bytes > g->max_hostmem - g->hostmem_used) {
        log_guest("virtio-gpu: resource %u: %llu more bytes would pass "
                  "max_hostmem (%llu of %llu in use)",
                  res->id, (unsigned long long)bytes,
                  (unsigned long long)g->hostmem_used,
                  (unsigned long long)g->max_hostmem);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    g->hostmem_used += bytes;
    res->hostmem += bytes;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static void gfx_hostmem_release(struct gfx *g, uint64_t bytes)
{
    g->hostmem_used -= bytes;
}

/* ---- the resource table ---- */

static size_t gfx_bucket(const struct gfx *g, uint32_t id)
{
    uint64_t h = ((uint64_t)id ^ g->salt) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> (64 - g->bucket_bits));
}

static struct gfx_resource *gfx_resource_find(const struct gfx *g, uint32_t id)
{
    if (id == 0) {
        return NULL;
    }
    for (struct gfx_resource *res = g->buckets[gfx_bucket(g, id)]; res;
         res = res->next) {
        if (res->id == id) {
            return res;
        }
    }
    return NULL;
}

/* Keep chains short by doubling when the table is full. A failed
 * allocation only costs speed, so it is ignored. */
static void gfx_table_grow(struct gfx *g)
{
    if (g->n_resources < (1u << g->bucket_bits) || g->bucket_bits >= 31) {
        return;
    }
    unsigned bits = g->bucket_bits + 1;
    struct gfx_resource **nb = calloc((size_t)1 << bits, sizeof(*nb));
    if (!nb) {
        return;
    }
    struct gfx_resource **old = g->buckets;
    size_t old_n = (size_t)1 << g->bucket_bits;
    g->buckets = nb;
    g->bucket_bits = bits;
    for (size_t i = 0; i < old_n; i++) {
        struct gfx_resource *res = old[i], *next;
        for (; res; res = next) {
            next = res->next;
            size_t b = gfx_bucket(g, res->id);
            res->next = nb[b];
            nb[b] = res;
        }
    }
    free(old);
}

static void gfx_table_insert(struct gfx *g, struct gfx_resource *res)
{
    size_t b = gfx_bucket(g, res->id);
    res->next = g->buckets[b];
    g->buckets[b] = res;
    g->n_resources++;
    gfx_table_grow(g);
}

static void gfx_table_remove(struct gfx *g, struct gfx_resource *res)
{
    struct gfx_resource **pp = &g->buckets[gfx_bucket(g, res->id)];
    while (*pp != res) {
        pp = &(*pp)->next;
    }
    *pp = res->next;
    g->n_resources--;
}

static bool gfx_rect_inside(const struct gfx_rect *r, uint32_t width,
                            uint32_t height)
{
    return r->x <= width && r->width <= width - r->x && r->y <= height &&
           r->height <= height - r->y;
}

static bool gfx_rect_empty(const struct gfx_rect *r)
{
    return r->width == 0 || r->height == 0;
}

/* ---- listener ---- */

static void gfx_notify_scanout(struct gfx *g, uint32_t n)
{
    const struct gfx_listener *l = g->listener;
    if (!l || !l->scanout_set) {
        return;
    }
    struct gfx_scanout *s = &g->scanouts[n];
    if (s->resource_id == 0) {
        l->scanout_set(g->listener_opaque, n, NULL, NULL);
        return;
    }
    struct gfx_resource *res = gfx_resource_find(g, s->resource_id);
    l->scanout_set(g->listener_opaque, n, res->image, &s->r);
}

static void gfx_notify_cursor(struct gfx *g, uint32_t n)
{
    const struct gfx_listener *l = g->listener;
    if (l && l->cursor_update) {
        l->cursor_update(g->listener_opaque, n, &g->scanouts[n].cursor);
    }
}

static void gfx_scanout_disable(struct gfx *g, uint32_t n)
{
    struct gfx_scanout *s = &g->scanouts[n];
    if (s->resource_id == 0) {
        return;
    }
    struct gfx_resource *res = gfx_resource_find(g, s->resource_id);
    res->scanout_mask &= ~(1u << n);
    s->resource_id = 0;
    memset(&s->r, 0, sizeof(s->r));
    gfx_notify_scanout(g, n);
}

/* ---- backing ---- */

static void gfx_backing_free(struct gfx *g, struct gfx_resource *res)
{
    free(res->iov);
    res->iov = NULL;
    res->n_iov = 0;
    res->backing_len = 0;
    gfx_hostmem_release(g, res->backing_hostmem);
    res->hostmem -= res->backing_hostmem;
    res->backing_hostmem = 0;
}

int gfx_backing_read(const struct gfx_resource *res, uint64_t off, void *dst,
                     size_t len)
{
    if (len == 0) {
        return 0;
    }
    if (off > res->backing_len || len > res->backing_len - off) {
        return -EFAULT;
    }
    /* The last piece starting at or before off. */
    uint32_t lo = 0, hi = res->n_iov;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (res->iov[mid].start <= off) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    uint8_t *d = dst;
    for (uint32_t i = lo; len > 0; i++) {
        const struct gfx_host_iov *v = &res->iov[i];
        uint64_t in = off - v->start;
        size_t n = v->len - in < len ? (size_t)(v->len - in) : len;
        memcpy(d, v->base + in, n);
        d += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* ---- lifecycle ---- */

int gfx_create(const struct gfx_config *cfg, struct gfx **out,
               struct error *err)
{
    *out = NULL;
    if (!cfg->mem) {
        return err_set(err, -EINVAL, "gfx: no guest memory");
    }
    if (cfg->num_scanouts < 1 || cfg->num_scanouts > GFX_MAX_SCANOUTS) {
        return err_set(err, -EINVAL,
                       "gfx: %u scanouts (must be between 1 and %u)",
                       cfg->num_scanouts, GFX_MAX_SCANOUTS);
    }
    if (cfg->max_hostmem == 0) {
        return err_set(err, -EINVAL, "gfx: max_hostmem must not be 0");
    }
    struct gfx *g = calloc(1, sizeof(*g));
    if (!g) {
        return err_set(err, -ENOMEM, "gfx: out of memory");
    }
    g->mem = cfg->mem;
    g->max_hostmem = cfg->max_hostmem;
    g->num_scanouts = cfg->num_scanouts;
    g->comp_2d = &gfx_2d_component;
    g->bucket_bits = GFX_MIN_BUCKET_BITS;
    g->buckets = calloc((size_t)1 << g->bucket_bits, sizeof(*g->buckets));
    if (!g->buckets) {
        free(g);
        return err_set(err, -ENOMEM, "gfx: out of memory");
    }
    if (getrandom(&g->salt, sizeof(g->salt), GRND_NONBLOCK) !=
        (ssize_t)sizeof(g->salt)) {
        /* Only the hash spread depends on it. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        g->salt = (uint64_t)ts.tv_nsec * 0x2545f4914f6cdd1dull ^
                  (uint64_t)(uintptr_t)g;
    }
    *out = g;
    return 0;
}

static void gfx_resource_free(struct gfx *g, struct gfx_resource *res)
{
    if (res->comp && res->comp->resource_destroy) {
        res->comp->resource_destroy(g, res);
    }
    gfx_backing_free(g, res);
    gfx_hostmem_release(g, res->hostmem);
    free(res);
}

static void gfx_cursor_hide(struct gfx *g, uint32_t n, bool notify)
{
    struct gfx_cursor *c = &g->scanouts[n].cursor;
    if (!c->image) {
        return;
    }
    pixman_image_unref(c->image);
    c->image = NULL;
    if (notify) {
        gfx_notify_cursor(g, n);
    }
}

void gfx_destroy(struct gfx *g)
{
    if (!g) {
        return;
    }
    g->listener = NULL;
    for (uint32_t n = 0; n < g->num_scanouts; n++) {
        gfx_cursor_hide(g, n, false);
    }
    for (size_t i = 0; i < (size_t)1 << g->bucket_bits; i++) {
        struct gfx_resource *res = g->buckets[i], *next;
        for (; res; res = next) {
            next = res->next;
            gfx_resource_free(g, res);
        }
    }
    free(g->buckets);
    free(g);
}

void gfx_reset(struct gfx *g)
{
    for (uint32_t n = 0; n < g->num_scanouts; n++) {
        gfx_scanout_disable(g, n);
        gfx_cursor_hide(g, n, true);
        memset(&g->scanouts[n].cursor, 0, sizeof(g->scanouts[n].cursor));
    }
    for (size_t i = 0; i < (size_t)1 << g->bucket_bits; i++) {
        struct gfx_resource *res = g->buckets[i], *next;
        for (; res; res = next) {
            next = res->next;
            gfx_resource_free(g, res);
        }
        g->buckets[i] = NULL;
    }
    g->n_resources = 0;
}

void gfx_set_listener(struct gfx *g, const struct gfx_listener *listener,
                      void *opaque)
{
    g->listener = listener;
    g->listener_opaque = opaque;
    for (uint32_t n = 0; listener && n < g->num_scanouts; n++) {
        if (g->scanouts[n].resource_id) {
            gfx_notify_scanout(g, n);
        }
        if (g->scanouts[n].cursor.image) {
            gfx_notify_cursor(g, n);
        }
    }
}

/* ---- commands ---- */

static struct gfx_resource *gfx_lookup(struct gfx *g, uint32_t id,
                                       const char *cmd)
{
    struct gfx_resource *res = gfx_resource_find(g, id);
    if (!res) {
        log_guest("virtio-gpu: %s: no resource %u", cmd, id);
    }
    return res;
}

uint32_t gfx_resource_create_2d(struct gfx *g, uint32_t resource_id,
                                uint32_t format, uint32_t width,
                                uint32_t height)
{
    if (resource_id == 0 || gfx_resource_find(g, resource_id)) {
        log_guest("virtio-gpu: resource_create_2d: id %u is %s", resource_id,
                  resource_id ? "in use" : "invalid");
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (width == 0 || height == 0) {
        log_guest("virtio-gpu: resource_create_2d: %u: empty %ux%u",
                  resource_id, width, height);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    const struct gfx_component_ops *comp = g->comp_2d;
    if (!comp->resource_create_2d) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    struct gfx_resource tmp = { .id = resource_id };
    if (gfx_hostmem_charge(g, &tmp, GFX_RESOURCE_OVERHEAD) !=
        VIRTIO_GPU_RESP_OK_NODATA) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    struct gfx_resource *res = calloc(1, sizeof(*res));
    if (!res) {
        gfx_hostmem_release(g, tmp.hostmem);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    res->id = resource_id;
    res->format = format;
    res->width = width;
    res->height = height;
    res->comp = comp;
    res->hostmem = tmp.hostmem;
    uint32_t resp = comp->resource_create_2d(g, res);
    if (resp != VIRTIO_GPU_RESP_OK_NODATA) {
        gfx_hostmem_release(g, res->hostmem);
        free(res);
        return resp;
    }
    gfx_table_insert(g, res);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_resource_unref(struct gfx *g, uint32_t resource_id)
{
    struct gfx_resource *res = gfx_lookup(g, resource_id, "resource_unref");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    for (uint32_t n = 0; n < g->num_scanouts; n++) {
        if (res->scanout_mask & (1u << n)) {
            gfx_scanout_disable(g, n);
        }
    }
    gfx_table_remove(g, res);
    gfx_resource_free(g, res);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_resource_attach_backing(struct gfx *g, uint32_t resource_id,
                                     const struct gfx_iovec *entries,
                                     uint32_t n)
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "resource_attach_backing");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (res->iov) {
        log_guest("virtio-gpu: resource %u: backing already attached",
                  resource_id);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (n == 0 || n > GFX_MAX_BACKING_ENTRIES) {
        log_guest("virtio-gpu: resource %u: %u backing entries (1..%u)",
                  resource_id, n, GFX_MAX_BACKING_ENTRIES);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint64_t table = (uint64_t)n * sizeof(struct gfx_host_iov);
    struct gfx_resource charged = { .id = resource_id };
    if (gfx_hostmem_charge(g, &charged, table) != VIRTIO_GPU_RESP_OK_NODATA) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    struct gfx_host_iov *iov = calloc(n, sizeof(*iov));
    if (!iov) {
        gfx_hostmem_release(g, table);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    uint32_t n_iov = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (entries[i].len == 0) {
            continue;
        }
        /* Writable RAM only: transfers from host will write it. */
        uint8_t *p = mem_ptr(g->mem, entries[i].gpa, entries[i].len, true);
        if (!p) {
            log_guest("virtio-gpu: resource %u: backing entry %u "
                      "[%#llx, +%#x) is not guest RAM",
                      resource_id, i, (unsigned long long)entries[i].gpa,
                      entries[i].len);
            free(iov);
            gfx_hostmem_release(g, table);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        iov[n_iov].base = p;
        iov[n_iov].len = entries[i].len;
        iov[n_iov].start = total;
        n_iov++;
        total += entries[i].len; /* < 2^14 * 2^32: no overflow */
    }
    /* All entries empty leaves n_iov 0: a zero-length backing, which every
     * non-empty transfer overruns. */
    res->iov = iov;
    res->n_iov = n_iov;
    res->backing_len = total;
    res->backing_hostmem = table;
    res->hostmem += table;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_resource_detach_backing(struct gfx *g, uint32_t resource_id)
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "resource_detach_backing");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!res->iov) {
        log_guest("virtio-gpu: resource %u: no backing to detach", resource_id);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    gfx_backing_free(g, res);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static bool gfx_check_rect(const struct gfx_resource *res,
                           const struct gfx_rect *r, const char *cmd)
{
    if (gfx_rect_inside(r, res->width, res->height)) {
        return true;
    }
    log_guest("virtio-gpu: %s: rect %ux%u+%u+%u outside resource %u "
              "(%ux%u)",
              cmd, r->width, r->height, r->x, r->y, res->id, res->width,
              res->height);
    return false;
}

uint32_t gfx_transfer_to_host_2d(struct gfx *g, uint32_t resource_id,
                                 const struct gfx_rect *r, uint64_t offset)
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "transfer_to_host_2d");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!gfx_check_rect(res, r, "transfer_to_host_2d")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (!res->iov) {
        log_guest("virtio-gpu: transfer_to_host_2d: resource %u has no "
                  "backing",
                  resource_id);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (!res->comp->transfer_to_host_2d) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (gfx_rect_empty(r)) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    return res->comp->transfer_to_host_2d(g, res, r, offset);
}

uint32_t gfx_resource_flush(struct gfx *g, uint32_t resource_id,
                            const struct gfx_rect *r)
{
    struct gfx_resource *res = gfx_lookup(g, resource_id, "resource_flush");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!gfx_check_rect(res, r, "resource_flush")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    const struct gfx_listener *l = g->listener;
    if (!l || !l->scanout_damage || gfx_rect_empty(r)) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    for (uint32_t n = 0; n < g->num_scanouts; n++) {
        if (!(res->scanout_mask & (1u << n))) {
            continue;
        }
        /* Intersect; both lie inside the resource, so no overflow. */
        const struct gfx_rect *s = &g->scanouts[n].r;
        uint32_t x0 = r->x > s->x ? r->x : s->x;
        uint32_t y0 = r->y > s->y ? r->y : s->y;
        uint32_t rx1 = r->x + r->width, sx1 = s->x + s->width;
        uint32_t ry1 = r->y + r->height, sy1 = s->y + s->height;
        uint32_t x1 = rx1 < sx1 ? rx1 : sx1;
        uint32_t y1 = ry1 < sy1 ? ry1 : sy1;
        if (x0 >= x1 || y0 >= y1) {
            continue;
        }
        struct gfx_rect d = { x0 - s->x, y0 - s->y, x1 - x0, y1 - y0 };
        l->scanout_damage(g->listener_opaque, n, &d);
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static bool gfx_check_scanout(const struct gfx *g, uint32_t scanout_id,
                              const char *cmd)
{
    if (scanout_id < g->num_scanouts) {
        return true;
    }
    log_guest("virtio-gpu: %s: no scanout %u (%u configured)", cmd, scanout_id,
              g->num_scanouts);
    return false;
}

uint32_t gfx_set_scanout(struct gfx *g, uint32_t scanout_id,
                         uint32_t resource_id, const struct gfx_rect *r)
{
    if (!gfx_check_scanout(g, scanout_id, "set_scanout")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (resource_id == 0 || gfx_rect_empty(r)) {
        gfx_scanout_disable(g, scanout_id);
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    struct gfx_resource *res = gfx_lookup(g, resource_id, "set_scanout");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!res->image) {
        log_guest("virtio-gpu: set_scanout: resource %u has no image",
                  resource_id);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (!gfx_check_rect(res, r, "set_scanout")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    struct gfx_scanout *s = &g->scanouts[scanout_id];
    if (s->resource_id && s->resource_id != resource_id) {
        struct gfx_resource *old = gfx_resource_find(g, s->resource_id);
        old->scanout_mask &= ~(1u << scanout_id);
    }
    s->resource_id = resource_id;
    s->r = *r;
    res->scanout_mask |= 1u << scanout_id;
    gfx_notify_scanout(g, scanout_id);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The alpha-carrying twin of a 32-bit pixman format (see
 * gfx_update_cursor). */
static pixman_format_code_t gfx_cursor_format(pixman_format_code_t f)
{
    switch (f) {
    case PIXMAN_x8r8g8b8:
        return PIXMAN_a8r8g8b8;
    case PIXMAN_x8b8g8r8:
        return PIXMAN_a8b8g8r8;
    case PIXMAN_b8g8r8x8:
        return PIXMAN_b8g8r8a8;
    case PIXMAN_r8g8b8x8:
        return PIXMAN_r8g8b8a8;
    default:
        return f;
    }
}

uint32_t gfx_update_cursor(struct gfx *g, uint32_t scanout_id,
                           uint32_t resource_id, uint32_t hot_x, uint32_t hot_y,
                           int32_t x, int32_t y)
{
    if (!gfx_check_scanout(g, scanout_id, "update_cursor")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    struct gfx_cursor *c = &g->scanouts[scanout_id].cursor;
    if (resource_id == 0) {
        gfx_cursor_hide(g, scanout_id, false);
    } else {
        struct gfx_resource *res = gfx_lookup(g, resource_id, "update_cursor");
        if (!res) {
            return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
        }
        if (!res->image || res->width != GFX_CURSOR_SIZE ||
            res->height != GFX_CURSOR_SIZE) {
            log_guest("virtio-gpu: update_cursor: resource %u is not a "
                      "%ux%u image",
                      resource_id, GFX_CURSOR_SIZE, GFX_CURSOR_SIZE);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        if (!c->image) {
            c->image = pixman_image_create_bits(
                PIXMAN_a8r8g8b8, GFX_CURSOR_SIZE, GFX_CURSOR_SIZE, NULL, 0);
            if (!c->image) {
                return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
            }
        }
        /* A cursor's fourth byte is its alpha whatever the resource's
         * format says: Linux makes cursors from dumb buffers, which are
         * always XRGB, and QEMU copies the words as ARGB. So read the
         * bits through the format's alpha twin, then convert. */
        pixman_image_t *src = pixman_image_create_bits(
            gfx_cursor_format(pixman_image_get_format(res->image)),
            GFX_CURSOR_SIZE, GFX_CURSOR_SIZE, pixman_image_get_data(res->image),
            pixman_image_get_stride(res->image));
        if (!src) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, c->image, 0, 0, 0, 0,
                                 0, 0, GFX_CURSOR_SIZE, GFX_CURSOR_SIZE);
        pixman_image_unref(src);
    }
    c->hot_x = hot_x < GFX_CURSOR_SIZE ? hot_x : GFX_CURSOR_SIZE - 1;
    c->hot_y = hot_y < GFX_CURSOR_SIZE ? hot_y : GFX_CURSOR_SIZE - 1;
    c->x = x;
    c->y = y;
    gfx_notify_cursor(g, scanout_id);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_move_cursor(struct gfx *g, uint32_t scanout_id, int32_t x,
                         int32_t y)
{
    if (!gfx_check_scanout(g, scanout_id, "move_cursor")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    struct gfx_cursor *c = &g->scanouts[scanout_id].cursor;
    c->x = x;
    c->y = y;
    const struct gfx_listener *l = g->listener;
    if (l && l->cursor_move) {
        l->cursor_move(g->listener_opaque, scanout_id, x, y);
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- queries ---- */

uint32_t gfx_num_scanouts(const struct gfx *g)
{
    return g->num_scanouts;
}

uint64_t gfx_hostmem_used(const struct gfx *g)
{
    return g->hostmem_used;
}

pixman_image_t *gfx_scanout_snapshot(struct gfx *g, uint32_t scanout_id)
{
    if (scanout_id >= g->num_scanouts) {
        return NULL;
    }
    const struct gfx_scanout *s = &g->scanouts[scanout_id];
    if (s->resource_id == 0) {
        return NULL;
    }
    struct gfx_resource *res = gfx_resource_find(g, s->resource_id);
    pixman_image_t *copy =
        pixman_image_create_bits(pixman_image_get_format(res->image),
                                 (int)s->r.width, (int)s->r.height, NULL, 0);
    if (!copy) {
        return NULL;
    }
    pixman_image_composite32(PIXMAN_OP_SRC, res->image, NULL, copy,
                             (int32_t)s->r.x, (int32_t)s->r.y, 0, 0, 0, 0,
                             (int32_t)s->r.width, (int32_t)s->r.height);
    return copy;
}
