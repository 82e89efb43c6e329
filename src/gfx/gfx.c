/* SPDX-License-Identifier: MIT */
/*
 * The gfx core (virtio 1.2 spec, 5.7.6 "Device Operation"; the part of
 * rutabaga_gfx that is not a component): the table of guest-named
 * resources, their guest backing (translated to host ranges once, at
 * attach time, through mem_ptr()), host memory accounting against
 * max_hostmem, scanouts with their listener, and the cursors. Commands
 * about pixels are handed to the component that created the resource
 * (component.h). Also the rest of rutabaga's core (5.7.6.x 3D and blob
 * commands): contexts routed to components by capset id, capset
 * enumeration, blob resources (guest memory, or a host memfd the
 * component provides) and their mappings into the host-visible region,
 * uuids, and fence timelines. Not here: command decoding (the device),
 * pixel formats and copies (2d.c), context-type protocols (components).
 *
 * The host-visible region is one reserved mapping (anonymous,
 * MAP_NORESERVE) whose address never changes: MAP_BLOB replaces the
 * pages of a range with the blob's memfd (mmap MAP_FIXED|MAP_SHARED) and
 * UNMAP_BLOB puts fresh anonymous pages back, so the guest memory block
 * the board makes of it, and every host pointer the CPU caches into it,
 * stay valid. Unmapped ranges read zero; what a guest writes there is
 * dropped at the next unmap of that range.
 */
#include "gfx/gfx.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "gfx/component.h"
#include "mem/mem.h"

/* Host memory charged per resource besides its pixels: the record, the
 * pixman image header and a share of the hash table. Without it a guest
 * could make millions of 1x1 resources for free. */
#define GFX_RESOURCE_OVERHEAD 512u

#define GFX_MIN_BUCKET_BITS 6u
/* Host memory charged per context besides its attachment table. */
#define GFX_CONTEXT_OVERHEAD 1024u
/* Most contexts at once (Linux makes one per open DRM file). */
#define GFX_MAX_CONTEXTS 1024u
/* Most components a gfx enables (capsets). */
#define GFX_MAX_COMPONENTS 8u

struct gfx_scanout {
    uint32_t resource_id; /* 0: disabled */
    /* The shown rectangle in resource coordinates (for a blob scanout,
     * in the framebuffer SET_SCANOUT_BLOB described). */
    struct gfx_rect r;
    struct gfx_cursor cursor;
    /* SET_SCANOUT_BLOB: a copy of r, refreshed on flush. */
    pixman_image_t *blob_image;
    uint32_t blob_stride, blob_offset;
    uint64_t blob_hostmem;
};

struct gfx_async_fence {
    uint32_t ctx_id, ring_idx;
    uint64_t fence_id;
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

    struct gfx_config cfg; /* wayland_socket_path is our copy */
    uint32_t max_fds, fds_used;

    /* Enabled components, in capset order, and their init() state. */
    const struct gfx_component_ops *comps[GFX_MAX_COMPONENTS];
    void *comp_state[GFX_MAX_COMPONENTS];
    uint32_t n_comps;

    struct gfx_context *contexts;
    uint32_t n_contexts;

    /* The host-visible region and the blobs mapped into it. */
    uint8_t *hv;
    uint64_t hv_size;
    /* One bit per MEM_RO_PAGE of hv: a read-only blob is mapped there
     * (mem_add_block_host's ro_pages; the CPUs read it unlocked). */
    uint8_t *hv_ro;
    struct gfx_resource **maps;
    uint32_t n_maps;

    /* Signals from other threads (gfx_fence_signal_async). */
    pthread_mutex_t async_lock;
    struct gfx_async_fence *async;
    uint32_t n_async, cap_async;
};

static uint64_t gfx_page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (uint64_t)p : 4096;
}

static uint64_t gfx_page_round(uint64_t n)
{
    uint64_t p = gfx_page_size();
    return n > UINT64_MAX - (p - 1) ? 0 : (n + p - 1) & ~(p - 1);
}

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
    if (s->blob_image) {
        struct gfx_rect all = { 0, 0, s->r.width, s->r.height };
        l->scanout_set(g->listener_opaque, n, s->blob_image, &all);
        return;
    }
    struct gfx_resource *res = gfx_resource_find(g, s->resource_id);
    l->scanout_set(g->listener_opaque, n, res->image, &s->r);
}

/* Drop a blob scanout's copy (after the listener stopped using it). */
static void gfx_scanout_blob_free(struct gfx *g, struct gfx_scanout *s)
{
    if (s->blob_image) {
        pixman_image_unref(s->blob_image);
        s->blob_image = NULL;
        gfx_hostmem_release(g, s->blob_hostmem);
        s->blob_hostmem = 0;
    }
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
    gfx_scanout_blob_free(g, s);
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

static int gfx_backing_copy(const struct gfx_resource *res, uint64_t off,
                            uint8_t *buf, size_t len, bool to_backing)
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
    for (uint32_t i = lo; len > 0; i++) {
        const struct gfx_host_iov *v = &res->iov[i];
        uint64_t in = off - v->start;
        size_t n = v->len - in < len ? (size_t)(v->len - in) : len;
        if (to_backing) {
            memcpy(v->base + in, buf, n);
        } else {
            memcpy(buf, v->base + in, n);
        }
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

int gfx_backing_read(const struct gfx_resource *res, uint64_t off, void *dst,
                     size_t len)
{
    return gfx_backing_copy(res, off, dst, len, false);
}

int gfx_backing_write(const struct gfx_resource *res, uint64_t off,
                      const void *src, size_t len)
{
    return gfx_backing_copy(res, off, (uint8_t *)(uintptr_t)src, len, true);
}

/* ---- lifecycle ---- */

/* The component serving capset id, if this build has it. The reference
 * to gfx_cross_domain_component must stay strong: libswede is a static
 * archive, and a weak reference does not pull cross_domain.o out of it
 * (the component would be NULL in swede). */
static const struct gfx_component_ops *gfx_component_for(uint32_t capset_id)
{
    if (capset_id == VIRTIO_GPU_CAPSET_CROSS_DOMAIN) {
        return &gfx_cross_domain_component;
    }
    return NULL;
}

static int gfx_enable(struct gfx *g, const struct gfx_component_ops *c,
                      struct error *err)
{
    uint32_t i = g->n_comps;
    if (i == GFX_MAX_COMPONENTS) {
        return err_set(err, -EINVAL, "gfx: too many context types");
    }
    g->comps[i] = c;
    g->n_comps++;
    if (c->init) {
        int r = c->init(g, &g->cfg, &g->comp_state[i], err);
        if (r < 0) {
            g->n_comps--;
            return r;
        }
    }
    return 0;
}

static void gfx_free_core(struct gfx *g);

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
    if (cfg->host_visible_size % gfx_page_size() ||
        cfg->host_visible_size > GFX_MAX_HOST_VISIBLE) {
        return err_set(err, -EINVAL,
                       "gfx: host-visible region of %llu bytes (must be a "
                       "multiple of %llu, at most %llu)",
                       (unsigned long long)cfg->host_visible_size,
                       (unsigned long long)gfx_page_size(),
                       (unsigned long long)GFX_MAX_HOST_VISIBLE);
    }
    struct gfx *g = calloc(1, sizeof(*g));
    if (!g) {
        return err_set(err, -ENOMEM, "gfx: out of memory");
    }
    pthread_mutex_init(&g->async_lock, NULL);
    g->cfg = *cfg;
    g->cfg.wayland_socket_path = NULL;
    g->max_fds = cfg->max_fds ? cfg->max_fds : GFX_DEFAULT_MAX_FDS;
    g->mem = cfg->mem;
    g->max_hostmem = cfg->max_hostmem;
    g->num_scanouts = cfg->num_scanouts;
    g->comp_2d = &gfx_2d_component;
    g->bucket_bits = GFX_MIN_BUCKET_BITS;
    g->buckets = calloc((size_t)1 << g->bucket_bits, sizeof(*g->buckets));
    if (!g->buckets ||
        (cfg->wayland_socket_path &&
         !(g->cfg.wayland_socket_path = strdup(cfg->wayland_socket_path)))) {
        gfx_free_core(g);
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
    if (cfg->host_visible_size) {
        void *p =
            mmap(NULL, (size_t)cfg->host_visible_size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            gfx_free_core(g);
            return err_set(err, -e,
                           "gfx: cannot reserve a host-visible region of "
                           "%llu bytes: %s",
                           (unsigned long long)cfg->host_visible_size,
                           strerror(e));
        }
        g->hv = p;
        g->hv_size = cfg->host_visible_size;
        g->hv_ro = calloc(1, (size_t)(g->hv_size / MEM_RO_PAGE + 8) / 8);
        if (!g->hv_ro) {
            gfx_free_core(g);
            return err_set(err, -ENOMEM, "gfx: out of memory");
        }
    }
    for (uint32_t id = 1; id < 64; id++) {
        if (!(cfg->capset_mask & (1ull << id))) {
            continue;
        }
        const struct gfx_component_ops *c = gfx_component_for(id);
        int r = c ? gfx_enable(g, c, err)
                  : err_set(err, -ENOTSUP,
                            "gfx: context type with capset id %u is not "
                            "supported by this build",
                            id);
        if (r < 0) {
            gfx_destroy(g);
            return r;
        }
    }
    if (cfg->test_component) {
        int r = gfx_enable(g, &gfx_test_component, err);
        if (r < 0) {
            gfx_destroy(g);
            return r;
        }
    }
    *out = g;
    return 0;
}

static void gfx_contexts_forget(struct gfx *g, struct gfx_resource *res);
static void gfx_unmap(struct gfx *g, struct gfx_resource *res);

static void gfx_resource_free(struct gfx *g, struct gfx_resource *res)
{
    gfx_contexts_forget(g, res);
    if (res->comp && res->comp->resource_destroy) {
        res->comp->resource_destroy(g, res);
    }
    if (res->mapped) {
        gfx_unmap(g, res);
    }
    if (res->blob_host) {
        munmap(res->blob_host, (size_t)gfx_page_round(res->blob_size));
    }
    if (res->blob_fd >= 0) {
        close(res->blob_fd);
        gfx_fd_release(g);
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

static void gfx_context_free(struct gfx *g, struct gfx_context *ctx,
                             bool notify);

/* Every context, then every resource (contexts first: they detach). */
static void gfx_drop_all(struct gfx *g, bool notify)
{
    while (g->contexts) {
        gfx_context_free(g, g->contexts, notify);
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

static void gfx_free_core(struct gfx *g)
{
    if (g->hv) {
        munmap(g->hv, (size_t)g->hv_size);
    }
    free(g->hv_ro);
    free(g->maps);
    free(g->async);
    free((char *)g->cfg.wayland_socket_path);
    pthread_mutex_destroy(&g->async_lock);
    free(g->buckets);
    free(g);
}

void gfx_destroy(struct gfx *g)
{
    if (!g) {
        return;
    }
    g->listener = NULL;
    for (uint32_t n = 0; n < g->num_scanouts; n++) {
        gfx_cursor_hide(g, n, false);
        gfx_scanout_blob_free(g, &g->scanouts[n]);
    }
    if (g->buckets) {
        gfx_drop_all(g, false);
    }
    for (uint32_t i = g->n_comps; i-- > 0;) {
        if (g->comps[i]->fini) {
            g->comps[i]->fini(g, g->comp_state[i]);
        }
    }
    gfx_free_core(g);
}

void gfx_reset(struct gfx *g)
{
    for (uint32_t n = 0; n < g->num_scanouts; n++) {
        gfx_scanout_disable(g, n);
        gfx_cursor_hide(g, n, true);
        memset(&g->scanouts[n].cursor, 0, sizeof(g->scanouts[n].cursor));
    }
    gfx_drop_all(g, true);
    pthread_mutex_lock(&g->async_lock);
    g->n_async = 0;
    pthread_mutex_unlock(&g->async_lock);
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
    res->blob_fd = -1;
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

/* Translate n guest entries into res's backing (res has none). */
static uint32_t gfx_backing_build(struct gfx *g, struct gfx_resource *res,
                                  const struct gfx_iovec *entries, uint32_t n)
{
    uint32_t resource_id = res->id;
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

uint32_t gfx_resource_attach_backing(struct gfx *g, uint32_t resource_id,
                                     const struct gfx_iovec *entries,
                                     uint32_t n)
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "resource_attach_backing");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (res->iov || res->blob_mem) {
        log_guest("virtio-gpu: resource %u: backing already attached%s",
                  resource_id, res->blob_mem ? " (a blob)" : "");
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    return gfx_backing_build(g, res, entries, n);
}

uint32_t gfx_resource_detach_backing(struct gfx *g, uint32_t resource_id)
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "resource_detach_backing");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!res->iov || res->blob_mem) {
        log_guest("virtio-gpu: resource %u: no backing to detach%s",
                  resource_id, res->blob_mem ? " (a blob)" : "");
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
    if (!res->comp || !res->comp->transfer_to_host_2d) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (gfx_rect_empty(r)) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    return res->comp->transfer_to_host_2d(g, res, r, offset);
}

static void gfx_blob_refresh(struct gfx *g, struct gfx_resource *res,
                             uint32_t n, const struct gfx_rect *r);

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
    if (gfx_rect_empty(r)) {
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
        if (g->scanouts[n].blob_image) {
            gfx_blob_refresh(g, res, n, &d);
        }
        if (l && l->scanout_damage) {
            l->scanout_damage(g->listener_opaque, n, &d);
        }
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
    pixman_image_t *old_blob = s->blob_image;
    uint64_t old_blob_mem = s->blob_hostmem;
    s->blob_image = NULL;
    s->blob_hostmem = 0;
    s->resource_id = resource_id;
    s->r = *r;
    res->scanout_mask |= 1u << scanout_id;
    gfx_notify_scanout(g, scanout_id);
    if (old_blob) {
        pixman_image_unref(old_blob);
        gfx_hostmem_release(g, old_blob_mem);
    }
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
    pixman_image_t *src = s->blob_image ? s->blob_image : res->image;
    int32_t sx = s->blob_image ? 0 : (int32_t)s->r.x;
    int32_t sy = s->blob_image ? 0 : (int32_t)s->r.y;
    pixman_image_t *copy =
        pixman_image_create_bits(pixman_image_get_format(src), (int)s->r.width,
                                 (int)s->r.height, NULL, 0);
    if (!copy) {
        return NULL;
    }
    pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, copy, sx, sy, 0, 0, 0, 0,
                             (int32_t)s->r.width, (int32_t)s->r.height);
    return copy;
}

uint32_t gfx_fds_used(const struct gfx *g)
{
    return g->fds_used;
}

/* ---- component helpers ---- */

void *gfx_component_state(struct gfx *g, const struct gfx_component_ops *comp)
{
    for (uint32_t i = 0; i < g->n_comps; i++) {
        if (g->comps[i] == comp) {
            return g->comp_state[i];
        }
    }
    return NULL;
}

const struct gfx_config *gfx_get_config(const struct gfx *g)
{
    return &g->cfg;
}

uint32_t gfx_fd_charge(struct gfx *g)
{
    if (g->fds_used >= g->max_fds) {
        log_guest("virtio-gpu: the guest holds %u host fds (max %u)",
                  g->fds_used, g->max_fds);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    g->fds_used++;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

void gfx_fd_release(struct gfx *g)
{
    g->fds_used--;
}

struct gfx_resource *gfx_resource_get(struct gfx *g, uint32_t id)
{
    return gfx_resource_find(g, id);
}

/* ---- capsets ---- */

uint32_t gfx_num_capsets(const struct gfx *g)
{
    return g->n_comps;
}

uint32_t gfx_get_capset_info(struct gfx *g, uint32_t index, uint32_t *id,
                             uint32_t *max_version, uint32_t *max_size)
{
    if (index >= g->n_comps) {
        log_guest("virtio-gpu: get_capset_info: no capset index %u (%u)", index,
                  g->n_comps);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    const struct gfx_component_ops *c = g->comps[index];
    *id = c->capset_id;
    *max_version = *max_size = 0;
    if (c->get_capset_info) {
        uint32_t r = c->get_capset_info(g, max_version, max_size);
        if (r != VIRTIO_GPU_RESP_OK_NODATA) {
            return r;
        }
    }
    if (*max_size > GFX_MAX_CAPSET_SIZE) {
        *max_size = GFX_MAX_CAPSET_SIZE;
    }
    return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

uint32_t gfx_get_capset(struct gfx *g, uint32_t id, uint32_t version, void *buf,
                        uint32_t cap, uint32_t *size)
{
    *size = 0;
    for (uint32_t i = 0; i < g->n_comps; i++) {
        const struct gfx_component_ops *c = g->comps[i];
        if (c->capset_id != id) {
            continue;
        }
        uint32_t max_version = 0, max_size = 0;
        if (!c->get_capset_info || !c->get_capset ||
            c->get_capset_info(g, &max_version, &max_size) !=
                VIRTIO_GPU_RESP_OK_NODATA) {
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        if (version > max_version) {
            log_guest("virtio-gpu: get_capset: capset %u version %u (max %u)",
                      id, version, max_version);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        if (max_size > cap) {
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
        memset(buf, 0, max_size);
        uint32_t r = c->get_capset(g, version, buf, max_size);
        if (r != VIRTIO_GPU_RESP_OK_NODATA) {
            return r;
        }
        *size = max_size;
        return VIRTIO_GPU_RESP_OK_CAPSET;
    }
    log_guest("virtio-gpu: get_capset: capset %u is not offered", id);
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

/* ---- contexts ---- */

static struct gfx_context *gfx_ctx_find(const struct gfx *g, uint32_t id)
{
    for (struct gfx_context *c = g->contexts; c; c = c->next) {
        if (c->id == id) {
            return c;
        }
    }
    return NULL;
}

static struct gfx_context *gfx_ctx_lookup(struct gfx *g, uint32_t id,
                                          const char *cmd)
{
    struct gfx_context *c = id ? gfx_ctx_find(g, id) : NULL;
    if (!c) {
        log_guest("virtio-gpu: %s: no context %u", cmd, id);
    }
    return c;
}

static void gfx_notify_fence(struct gfx *g, uint32_t ctx_id, uint32_t ring,
                             uint64_t fence_id)
{
    const struct gfx_listener *l = g->listener;
    if (l && l->fence_signalled) {
        l->fence_signalled(g->listener_opaque, ctx_id, ring, fence_id);
    }
}

static int gfx_attached_index(const struct gfx_context *ctx,
                              const struct gfx_resource *res)
{
    for (uint32_t i = 0; i < ctx->n_attached; i++) {
        if (ctx->attached[i] == res) {
            return (int)i;
        }
    }
    return -1;
}

bool gfx_context_has_resource(const struct gfx_context *ctx,
                              const struct gfx_resource *res)
{
    return gfx_attached_index(ctx, res) >= 0;
}

static void gfx_detach_at(struct gfx *g, struct gfx_context *ctx, uint32_t i)
{
    struct gfx_resource *res = ctx->attached[i];
    ctx->attached[i] = ctx->attached[--ctx->n_attached];
    if (ctx->comp->context_detach_resource) {
        ctx->comp->context_detach_resource(g, ctx, res);
    }
}

/* A resource is going: every context lets go of it. */
static void gfx_contexts_forget(struct gfx *g, struct gfx_resource *res)
{
    for (struct gfx_context *c = g->contexts; c; c = c->next) {
        int i = gfx_attached_index(c, res);
        if (i >= 0) {
            gfx_detach_at(g, c, (uint32_t)i);
        }
    }
}

static void gfx_context_free(struct gfx *g, struct gfx_context *ctx,
                             bool notify)
{
    while (ctx->n_attached) {
        gfx_detach_at(g, ctx, ctx->n_attached - 1);
    }
    if (ctx->comp->context_destroy) {
        ctx->comp->context_destroy(g, ctx);
    }
    struct gfx_context **pp = &g->contexts;
    while (*pp != ctx) {
        pp = &(*pp)->next;
    }
    *pp = ctx->next;
    g->n_contexts--;
    /* Signals queued for it from other threads are void now (a new
     * context may take the same id). */
    pthread_mutex_lock(&g->async_lock);
    uint32_t k = 0;
    for (uint32_t i = 0; i < g->n_async; i++) {
        if (g->async[i].ctx_id != ctx->id) {
            g->async[k++] = g->async[i];
        }
    }
    g->n_async = k;
    pthread_mutex_unlock(&g->async_lock);
    uint32_t id = ctx->id;
    uint64_t rings = ctx->rings_fenced;
    gfx_hostmem_release(g, ctx->hostmem);
    free(ctx->attached);
    free(ctx);
    /* Its timelines end: whatever the guest still waits on is retired. */
    for (uint32_t r = 0; notify && r < GFX_MAX_RINGS; r++) {
        if (rings & (1ull << r)) {
            gfx_notify_fence(g, id, r, UINT64_MAX);
        }
    }
}

uint32_t gfx_ctx_create(struct gfx *g, uint32_t ctx_id, uint32_t context_init,
                        const char *name, uint32_t nlen)
{
    if (ctx_id == 0 || gfx_ctx_find(g, ctx_id)) {
        log_guest("virtio-gpu: ctx_create: context id %u is %s", ctx_id,
                  ctx_id ? "in use" : "invalid");
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    if (g->n_comps == 0) {
        log_guest("virtio-gpu: ctx_create: no context types enabled");
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    uint32_t capset = context_init & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
    const struct gfx_component_ops *comp = capset ? NULL : g->comps[0];
    for (uint32_t i = 0; capset && i < g->n_comps; i++) {
        if (g->comps[i]->capset_id == capset) {
            comp = g->comps[i];
        }
    }
    if (!comp) {
        log_guest("virtio-gpu: ctx_create: context %u: capset %u is not "
                  "offered",
                  ctx_id, capset);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (g->n_contexts >= GFX_MAX_CONTEXTS) {
        log_guest("virtio-gpu: ctx_create: %u contexts already", g->n_contexts);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    struct gfx_resource charged = { .id = 0 };
    if (gfx_hostmem_charge(g, &charged, GFX_CONTEXT_OVERHEAD) !=
        VIRTIO_GPU_RESP_OK_NODATA) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    struct gfx_context *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        gfx_hostmem_release(g, GFX_CONTEXT_OVERHEAD);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    ctx->id = ctx_id;
    ctx->capset_id = comp->capset_id;
    ctx->context_init = context_init;
    ctx->comp = comp;
    ctx->hostmem = GFX_CONTEXT_OVERHEAD;
    nlen = nlen < 64 ? nlen : 64;
    for (uint32_t i = 0; name && i < nlen && name[i]; i++) {
        ctx->debug_name[i] = name[i];
    }
    if (comp->context_create) {
        uint32_t r = comp->context_create(g, ctx, context_init);
        if (r != VIRTIO_GPU_RESP_OK_NODATA) {
            gfx_hostmem_release(g, ctx->hostmem);
            free(ctx);
            return r;
        }
    }
    ctx->next = g->contexts;
    g->contexts = ctx;
    g->n_contexts++;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_ctx_destroy(struct gfx *g, uint32_t ctx_id)
{
    struct gfx_context *ctx = gfx_ctx_lookup(g, ctx_id, "ctx_destroy");
    if (!ctx) {
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    gfx_context_free(g, ctx, true);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_ctx_attach_resource(struct gfx *g, uint32_t ctx_id,
                                 uint32_t resource_id)
{
    struct gfx_context *ctx = gfx_ctx_lookup(g, ctx_id, "ctx_attach_resource");
    if (!ctx) {
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "ctx_attach_resource");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (gfx_context_has_resource(ctx, res)) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    if (ctx->n_attached == ctx->cap_attached) {
        if (ctx->cap_attached >= GFX_MAX_ATTACHED) {
            log_guest("virtio-gpu: context %u: %u resources attached already",
                      ctx_id, ctx->n_attached);
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        uint32_t cap = ctx->cap_attached ? ctx->cap_attached * 2 : 16;
        uint64_t more = (uint64_t)(cap - ctx->cap_attached) * sizeof(void *);
        struct gfx_resource charged = { .id = resource_id };
        if (gfx_hostmem_charge(g, &charged, more) !=
            VIRTIO_GPU_RESP_OK_NODATA) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        struct gfx_resource **a =
            realloc(ctx->attached, (size_t)cap * sizeof(*a));
        if (!a) {
            gfx_hostmem_release(g, more);
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
        ctx->attached = a;
        ctx->cap_attached = cap;
        ctx->hostmem += more;
    }
    if (ctx->comp->context_attach_resource) {
        uint32_t r = ctx->comp->context_attach_resource(g, ctx, res);
        if (r != VIRTIO_GPU_RESP_OK_NODATA) {
            return r;
        }
    }
    ctx->attached[ctx->n_attached++] = res;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_ctx_detach_resource(struct gfx *g, uint32_t ctx_id,
                                 uint32_t resource_id)
{
    struct gfx_context *ctx = gfx_ctx_lookup(g, ctx_id, "ctx_detach_resource");
    if (!ctx) {
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "ctx_detach_resource");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    int i = gfx_attached_index(ctx, res);
    if (i < 0) {
        log_guest("virtio-gpu: ctx_detach_resource: resource %u is not "
                  "attached to context %u",
                  resource_id, ctx_id);
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    gfx_detach_at(g, ctx, (uint32_t)i);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gfx_submit_3d(struct gfx *g, uint32_t ctx_id, const void *cmd,
                       uint32_t size)
{
    struct gfx_context *ctx = gfx_ctx_lookup(g, ctx_id, "submit_3d");
    if (!ctx) {
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    if (size > GFX_MAX_SUBMIT) {
        log_guest("virtio-gpu: submit_3d: %u bytes (max %u)", size,
                  GFX_MAX_SUBMIT);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    if (!ctx->comp->context_submit) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    return ctx->comp->context_submit(g, ctx, cmd, size);
}

uint32_t gfx_transfer_3d(struct gfx *g, uint32_t ctx_id, uint32_t resource_id,
                         const struct gfx_transfer_3d *t, bool to_host)
{
    const char *cmd = to_host ? "transfer_to_host_3d" : "transfer_from_host_3d";
    struct gfx_context *ctx = NULL;
    if (ctx_id && !(ctx = gfx_ctx_lookup(g, ctx_id, cmd))) {
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    struct gfx_resource *res = gfx_lookup(g, resource_id, cmd);
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (res->blob_mem == VIRTIO_GPU_BLOB_MEM_GUEST) {
        return VIRTIO_GPU_RESP_OK_NODATA; /* the guest's memory is all */
    }
    if (res->comp == g->comp_2d) {
        if (!to_host || t->z != 0 || t->d > 1) {
            log_guest("virtio-gpu: %s: resource %u is 2D", cmd, resource_id);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
        struct gfx_rect r = { t->x, t->y, t->w, t->h };
        return gfx_transfer_to_host_2d(g, resource_id, &r, t->offset);
    }
    if (!res->comp || !res->comp->transfer_3d) {
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    return res->comp->transfer_3d(g, ctx, res, t, to_host);
}

/* ---- blobs ---- */

uint32_t gfx_resource_create_blob(struct gfx *g, uint32_t ctx_id,
                                  uint32_t resource_id, uint32_t blob_mem,
                                  uint32_t blob_flags, uint64_t blob_id,
                                  uint64_t size,
                                  const struct gfx_iovec *entries, uint32_t n)
{
    const uint32_t known = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE |
                           VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE |
                           VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE;
    if (resource_id == 0 || gfx_resource_find(g, resource_id)) {
        log_guest("virtio-gpu: resource_create_blob: id %u is %s", resource_id,
                  resource_id ? "in use" : "invalid");
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (size == 0 || gfx_page_round(size) == 0 || (blob_flags & ~known) ||
        (blob_mem != VIRTIO_GPU_BLOB_MEM_GUEST &&
         blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D &&
         blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST)) {
        log_guest("virtio-gpu: resource_create_blob: %u: blob_mem %u, "
                  "flags %#x, size %llu",
                  resource_id, blob_mem, blob_flags, (unsigned long long)size);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    struct gfx_context *ctx = NULL;
    if (blob_mem != VIRTIO_GPU_BLOB_MEM_GUEST) {
        ctx = gfx_ctx_lookup(g, ctx_id, "resource_create_blob");
        if (!ctx) {
            return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
        }
        if (!ctx->comp->context_create_blob) {
            return VIRTIO_GPU_RESP_ERR_UNSPEC;
        }
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
    res->hostmem = tmp.hostmem;
    res->blob_fd = -1;
    res->blob_mem = blob_mem;
    res->blob_flags = blob_flags;
    res->blob_id = blob_id;
    res->blob_size = size;
    res->ctx_id = ctx ? ctx->id : 0;
    uint32_t r = VIRTIO_GPU_RESP_OK_NODATA;
    if (blob_mem != VIRTIO_GPU_BLOB_MEM_HOST3D) {
        r = gfx_backing_build(g, res, entries, n);
        if (r == VIRTIO_GPU_RESP_OK_NODATA && res->backing_len < size) {
            log_guest("virtio-gpu: resource_create_blob: %u: %llu bytes of "
                      "guest memory for a blob of %llu",
                      resource_id, (unsigned long long)res->backing_len,
                      (unsigned long long)size);
            r = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
    }
    if (r == VIRTIO_GPU_RESP_OK_NODATA && ctx) {
        res->comp = ctx->comp;
        r = ctx->comp->context_create_blob(g, ctx, res);
        if (r != VIRTIO_GPU_RESP_OK_NODATA) {
            res->comp = NULL; /* nothing of the component's to destroy */
        }
    }
    if (r == VIRTIO_GPU_RESP_OK_NODATA && res->blob_fd >= 0) {
        /* Check the fd really holds the blob (a short one would SIGBUS)
         * and map it for scanouts and components. */
        uint64_t len = gfx_page_round(size);
        struct stat st;
        int seals = fcntl(res->blob_fd, F_GET_SEALS);
        /* A file that cannot shrink may end inside the last page: the
         * rest of that page reads as zeros, no SIGBUS. */
        uint64_t end = fstat(res->blob_fd, &st) < 0 || st.st_size < 0 ? 0
                       : seals > 0 && (seals & F_SEAL_SHRINK)
                           ? gfx_page_round((uint64_t)st.st_size)
                           : (uint64_t)st.st_size;
        if (res->blob_fd_offset % gfx_page_size() ||
            res->blob_fd_offset > end || len > end - res->blob_fd_offset) {
            log_guest("virtio-gpu: resource_create_blob: %u: the host "
                      "memory is smaller than the blob (%llu bytes)",
                      resource_id, (unsigned long long)size);
            r = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        } else {
            void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
                           res->blob_private ? MAP_PRIVATE : MAP_SHARED,
                           res->blob_fd, (off_t)res->blob_fd_offset);
            if (p == MAP_FAILED) {
                r = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
            } else {
                res->blob_host = p;
            }
        }
    }
    if (r != VIRTIO_GPU_RESP_OK_NODATA) {
        gfx_resource_free(g, res);
        return r;
    }
    gfx_table_insert(g, res);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Mark [offset, offset+len) of the region read-only for the CPUs and
 * devices (mem_ptr refuses writes there), or writable again. */
static void gfx_hv_mark_ro(struct gfx *g, uint64_t offset, uint64_t len,
                           bool ro)
{
    for (uint64_t pg = offset / MEM_RO_PAGE;
         pg < (offset + len + MEM_RO_PAGE - 1) / MEM_RO_PAGE; pg++) {
        uint8_t bit = (uint8_t)(1u << (pg % 8));
        if (ro) {
            __atomic_fetch_or(&g->hv_ro[pg / 8], bit, __ATOMIC_RELEASE);
        } else {
            __atomic_fetch_and(&g->hv_ro[pg / 8], (uint8_t)~bit,
                               __ATOMIC_RELEASE);
        }
    }
}

/* Put fresh anonymous pages back over a mapping. */
static void gfx_unmap(struct gfx *g, struct gfx_resource *res)
{
    void *p = mmap(
        g->hv + res->map_offset, (size_t)res->map_len, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        /* Out of host mappings: the blob's pages stay visible there
         * (they stay valid memory: the mapping holds the memfd). */
        log_msg("virtio-gpu: cannot unmap resource %u from the "
                "host-visible region",
                res->id);
    } else if (res->blob_private) {
        gfx_hv_mark_ro(g, res->map_offset, res->map_len, false);
    }
    for (uint32_t i = 0; i < g->n_maps; i++) {
        if (g->maps[i] == res) {
            g->maps[i] = g->maps[--g->n_maps];
            break;
        }
    }
    res->mapped = false;
}

uint32_t gfx_resource_map_blob(struct gfx *g, uint32_t resource_id,
                               uint64_t offset, uint32_t *map_info)
{
    struct gfx_resource *res = gfx_lookup(g, resource_id, "resource_map_blob");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!g->hv) {
        log_guest("virtio-gpu: resource_map_blob: no host-visible region");
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (!res->blob_host ||
        !(res->blob_flags & VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE)) {
        log_guest("virtio-gpu: resource_map_blob: resource %u has no "
                  "mappable host memory",
                  resource_id);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (res->mapped) {
        log_guest("virtio-gpu: resource_map_blob: resource %u is mapped "
                  "already",
                  resource_id);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint64_t len = gfx_page_round(res->blob_size);
    if (offset % gfx_page_size() || offset > g->hv_size ||
        len > g->hv_size - offset) {
        log_guest("virtio-gpu: resource_map_blob: resource %u: %llu bytes "
                  "at %#llx do not fit the host-visible region (%llu bytes)",
                  resource_id, (unsigned long long)len,
                  (unsigned long long)offset, (unsigned long long)g->hv_size);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    for (uint32_t i = 0; i < g->n_maps; i++) {
        const struct gfx_resource *o = g->maps[i];
        if (offset < o->map_offset + o->map_len &&
            o->map_offset < offset + len) {
            log_guest("virtio-gpu: resource_map_blob: resource %u at %#llx "
                      "overlaps resource %u",
                      resource_id, (unsigned long long)offset, o->id);
            return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
        }
    }
    if (g->n_maps >= GFX_MAX_MAPPINGS) {
        log_guest("virtio-gpu: resource_map_blob: %u blobs mapped already",
                  g->n_maps);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    if (!g->maps) {
        g->maps = calloc(GFX_MAX_MAPPINGS, sizeof(*g->maps));
        if (!g->maps) {
            return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
        }
    }
    /* Read-only blobs: marked before their pages appear, so no new
     * write access reaches them; writes through older CPU TLB entries
     * land in private copy-on-write pages (mem.h). */
    if (res->blob_private) {
        gfx_hv_mark_ro(g, offset, len, true);
    }
    void *p = mmap(g->hv + offset, (size_t)len, PROT_READ | PROT_WRITE,
                   (res->blob_private ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED,
                   res->blob_fd, (off_t)res->blob_fd_offset);
    if (p == MAP_FAILED) {
        log_msg("virtio-gpu: cannot map resource %u into the host-visible "
                "region: %s",
                resource_id, strerror(errno));
        /* A failed MAP_FIXED may have left the range unmapped. */
        mmap(g->hv + offset, (size_t)len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        gfx_hv_mark_ro(g, offset, len, false);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    res->mapped = true;
    res->map_offset = offset;
    res->map_len = len;
    g->maps[g->n_maps++] = res;
    *map_info = res->map_info & VIRTIO_GPU_MAP_CACHE_MASK;
    return VIRTIO_GPU_RESP_OK_MAP_INFO;
}

uint32_t gfx_resource_unmap_blob(struct gfx *g, uint32_t resource_id)
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "resource_unmap_blob");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!res->mapped) {
        log_guest("virtio-gpu: resource_unmap_blob: resource %u is not "
                  "mapped",
                  resource_id);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    gfx_unmap(g, res);
    return VIRTIO_GPU_RESP_OK_NODATA;
}

uint8_t *gfx_host_visible(const struct gfx *g, uint64_t *size)
{
    *size = g->hv_size;
    return g->hv;
}

const uint8_t *gfx_host_visible_ro_pages(const struct gfx *g)
{
    return g->hv_ro;
}

uint32_t gfx_resource_assign_uuid(struct gfx *g, uint32_t resource_id,
                                  uint8_t uuid[16])
{
    struct gfx_resource *res =
        gfx_lookup(g, resource_id, "resource_assign_uuid");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    if (!res->has_uuid) {
        if (getrandom(res->uuid, sizeof(res->uuid), 0) !=
            (ssize_t)sizeof(res->uuid)) {
            /* Unique within this process is what matters. */
            uint64_t a = g->salt ^ resource_id, b = (uintptr_t)res;
            memcpy(res->uuid, &a, 8);
            memcpy(res->uuid + 8, &b, 8);
        }
        res->uuid[6] = (uint8_t)((res->uuid[6] & 0x0f) | 0x40); /* v4 */
        res->uuid[8] = (uint8_t)((res->uuid[8] & 0x3f) | 0x80); /* RFC 4122 */
        res->has_uuid = true;
    }
    memcpy(uuid, res->uuid, 16);
    return VIRTIO_GPU_RESP_OK_RESOURCE_UUID;
}

/* Bytes [off, off + len) of a blob's memory: host memory if it has some,
 * else its guest memory. 0 or -EFAULT. */
static int gfx_blob_read(const struct gfx_resource *res, uint64_t off,
                         void *dst, size_t len)
{
    if (off > res->blob_size || len > res->blob_size - off) {
        return -EFAULT;
    }
    if (res->blob_host) {
        memcpy(dst, res->blob_host + off, len);
        return 0;
    }
    return gfx_backing_read(res, off, dst, len);
}

/* Copy rectangle d (scanout coordinates) of scanout n's blob into its
 * image. The bounds were checked at SET_SCANOUT_BLOB. */
static void gfx_blob_refresh(struct gfx *g, struct gfx_resource *res,
                             uint32_t n, const struct gfx_rect *d)
{
    struct gfx_scanout *s = &g->scanouts[n];
    uint8_t *dst = (uint8_t *)pixman_image_get_data(s->blob_image);
    int dstride = pixman_image_get_stride(s->blob_image);
    for (uint32_t y = d->y; y < d->y + d->height; y++) {
        uint64_t off = s->blob_offset +
                       (uint64_t)(s->r.y + y) * s->blob_stride +
                       (uint64_t)(s->r.x + d->x) * 4;
        gfx_blob_read(res, off, dst + (size_t)y * dstride + d->x * 4,
                      (size_t)d->width * 4);
    }
}

uint32_t gfx_set_scanout_blob(struct gfx *g, uint32_t scanout_id,
                              uint32_t resource_id, const struct gfx_rect *r,
                              uint32_t width, uint32_t height, uint32_t format,
                              uint32_t stride, uint32_t offset)
{
    if (!gfx_check_scanout(g, scanout_id, "set_scanout_blob")) {
        return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
    }
    if (resource_id == 0 || gfx_rect_empty(r)) {
        gfx_scanout_disable(g, scanout_id);
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    struct gfx_resource *res = gfx_lookup(g, resource_id, "set_scanout_blob");
    if (!res) {
        return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
    }
    pixman_format_code_t pf = gfx_format_to_pixman(format);
    if (!res->blob_mem || !pf || width == 0 || height == 0 ||
        width > VIRTIO_GPU_MAX_BLOB_DIM || height > VIRTIO_GPU_MAX_BLOB_DIM ||
        !gfx_rect_inside(r, width, height) || stride < (uint64_t)width * 4) {
        log_guest("virtio-gpu: set_scanout_blob: resource %u: %ux%u format "
                  "%u stride %u, rect %ux%u+%u+%u",
                  resource_id, width, height, format, stride, r->width,
                  r->height, r->x, r->y);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    /* The last byte shown must lie in the blob. */
    uint64_t end = (uint64_t)offset + (uint64_t)(height - 1) * stride +
                   (uint64_t)width * 4;
    if (end > res->blob_size) {
        log_guest("virtio-gpu: set_scanout_blob: resource %u: a %ux%u "
                  "framebuffer (stride %u, offset %u) needs %llu bytes, the "
                  "blob has %llu",
                  resource_id, width, height, stride, offset,
                  (unsigned long long)end, (unsigned long long)res->blob_size);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint64_t bytes = (uint64_t)r->width * r->height * 4;
    struct gfx_resource charged = { .id = resource_id };
    if (gfx_hostmem_charge(g, &charged, bytes) != VIRTIO_GPU_RESP_OK_NODATA) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    pixman_image_t *img =
        pixman_image_create_bits(pf, (int)r->width, (int)r->height, NULL, 0);
    if (!img) {
        gfx_hostmem_release(g, bytes);
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    struct gfx_scanout *s = &g->scanouts[scanout_id];
    if (s->resource_id && s->resource_id != resource_id) {
        struct gfx_resource *old = gfx_resource_find(g, s->resource_id);
        old->scanout_mask &= ~(1u << scanout_id);
    }
    pixman_image_t *old_img = s->blob_image;
    uint64_t old_bytes = s->blob_hostmem;
    s->resource_id = resource_id;
    s->r = *r;
    s->blob_image = img;
    s->blob_hostmem = bytes;
    s->blob_stride = stride;
    s->blob_offset = offset;
    /* Flush rectangles are in framebuffer coordinates. */
    res->width = width;
    res->height = height;
    res->format = format;
    res->scanout_mask |= 1u << scanout_id;
    struct gfx_rect all = { 0, 0, r->width, r->height };
    gfx_blob_refresh(g, res, scanout_id, &all);
    gfx_notify_scanout(g, scanout_id);
    if (old_img) {
        pixman_image_unref(old_img);
        gfx_hostmem_release(g, old_bytes);
    }
    return VIRTIO_GPU_RESP_OK_NODATA;
}

/* ---- fences ---- */

void gfx_fence_signal(struct gfx *g, struct gfx_context *ctx, uint32_t ring_idx,
                      uint64_t fence_id)
{
    if (ring_idx >= GFX_MAX_RINGS) {
        return;
    }
    uint64_t bit = 1ull << ring_idx;
    if ((ctx->rings_signalled & bit) &&
        fence_id <= ctx->last_signalled[ring_idx]) {
        return;
    }
    ctx->rings_signalled |= bit;
    ctx->last_signalled[ring_idx] = fence_id;
    gfx_notify_fence(g, ctx->id, ring_idx, fence_id);
}

int gfx_fence_signal_async(struct gfx *g, uint32_t ctx_id, uint32_t ring_idx,
                           uint64_t fence_id)
{
    pthread_mutex_lock(&g->async_lock);
    if (g->n_async == g->cap_async) {
        uint32_t cap = g->cap_async ? g->cap_async * 2 : 16;
        struct gfx_async_fence *a = realloc(g->async, (size_t)cap * sizeof(*a));
        if (!a) {
            pthread_mutex_unlock(&g->async_lock);
            return -ENOMEM;
        }
        g->async = a;
        g->cap_async = cap;
    }
    g->async[g->n_async++] =
        (struct gfx_async_fence){ ctx_id, ring_idx, fence_id };
    pthread_mutex_unlock(&g->async_lock);
    if (g->cfg.wakeup) {
        g->cfg.wakeup(g->cfg.wakeup_opaque);
    }
    return 0;
}

void gfx_fence_poll(struct gfx *g)
{
    for (;;) {
        struct gfx_async_fence f;
        pthread_mutex_lock(&g->async_lock);
        if (g->n_async == 0) {
            pthread_mutex_unlock(&g->async_lock);
            return;
        }
        /* In the order they were queued: one ring's signals stay ordered. */
        f = g->async[0];
        memmove(g->async, g->async + 1, (g->n_async - 1) * sizeof(f));
        g->n_async--;
        pthread_mutex_unlock(&g->async_lock);
        struct gfx_context *ctx = gfx_ctx_find(g, f.ctx_id);
        if (ctx) {
            gfx_fence_signal(g, ctx, f.ring_idx, f.fence_id);
        }
    }
}

uint32_t gfx_create_fence(struct gfx *g, uint32_t ctx_id, uint32_t ring_idx,
                          uint64_t fence_id)
{
    if (ring_idx == GFX_RING_GLOBAL) {
        gfx_notify_fence(g, 0, GFX_RING_GLOBAL, fence_id);
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    struct gfx_context *ctx = gfx_ctx_lookup(g, ctx_id, "fence");
    if (!ctx) {
        return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
    }
    if (ring_idx >= GFX_MAX_RINGS) {
        log_guest("virtio-gpu: context %u: fence on ring %u (max %u)", ctx_id,
                  ring_idx, GFX_MAX_RINGS - 1);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    ctx->rings_fenced |= 1ull << ring_idx;
    /* An id not above the last one signalled on this ring (a guest that
     * reuses or lowers ids) is done already by the timeline's rule; a
     * component's signal of it would be ignored and it would wait
     * forever. */
    if ((ctx->rings_signalled & (1ull << ring_idx)) &&
        fence_id <= ctx->last_signalled[ring_idx]) {
        gfx_notify_fence(g, ctx->id, ring_idx, fence_id);
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    if (!ctx->comp->context_create_fence) {
        gfx_fence_signal(g, ctx, ring_idx, fence_id);
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    return ctx->comp->context_create_fence(g, ctx, ring_idx, fence_id);
}
