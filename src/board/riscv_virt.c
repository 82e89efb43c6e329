/* SPDX-License-Identifier: MIT */
/*
 * QEMU's RISC-V "virt" board (reference riscv-virt-and-qmp.md §4.3-4.5):
 * the memory map as constants, device creation in a fixed order, the MROM
 * reset vector with OpenSBI's struct fw_dynamic_info (OpenSBI
 * docs/firmware/fw_dynamic.md), firmware/kernel/initrd loading and the
 * device tree Linux expects (written with libfdt's sequential-write API).
 * Every file is read and every placement checked while the board is built,
 * so a bad command line fails before any guest code runs; the loaded images
 * are kept so that a guest reset copies them back, as QEMU does with its
 * ROM images. Not here: PCIe, fw_cfg, flash, AIA, the platform bus (QEMU has
 * them; Linux boots without). The eight virtio-mmio transports are always
 * there; virt_plug_virtio() fills them in QEMU's order.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board/board.h"
#include "bus/bus.h"
#include "bus/irq.h"
#include "core/error.h"
#include "core/log.h"
#include "cpu/riscv/rv.h"
#include "hw/char/uart16550.h"
#include "hw/irqchip/aclint.h"
#include "hw/irqchip/plic.h"
#include "hw/misc/sifive_test.h"
#include "hw/models.h"
#include "hw/rtc/goldfish_rtc.h"
#include "hw/virtio/mmio.h"
#include "mem/mem.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "image headers and ROM words are read and written in host order"
#endif

/* Memory map (QEMU hw/riscv/virt.c virt_memmap[]). */
#define VIRT_MROM_BASE    0x1000ull
#define VIRT_MROM_SIZE    0xf000ull
#define VIRT_TEST_BASE    0x100000ull
#define VIRT_RTC_BASE     0x101000ull
#define VIRT_CLINT_BASE   0x2000000ull
#define VIRT_PLIC_BASE    0xc000000ull
#define VIRT_UART0_BASE   0x10000000ull
#define VIRT_VIRTIO_BASE  0x10001000ull
#define VIRT_VIRTIO_SIZE  0x1000ull
#define VIRT_VIRTIO_COUNT 8
#define VIRT_DRAM_BASE    0x80000000ull
/*
 * The host-visible window of a virtio-gpu-rutabaga-device (hostmem=,
 * virtio shared memory region 1): RAM-like guest physical memory the
 * device maps blobs into. QEMU's virt puts its 64-bit PCI window right
 * above RAM; this board has no PCI, so the window sits at 256 GiB, above
 * any RAM size it accepts next to a window (RAM must end below it) and
 * reachable with Sv39+ (56-bit physical addresses). At most 256 GiB, one
 * device. Linux finds it through the virtio-mmio SHM registers, not the
 * device tree.
 */
#define VIRT_HOSTMEM_BASE 0x4000000000ull
#define VIRT_HOSTMEM_MAX  0x4000000000ull

/* PLIC sources (QEMU include/hw/riscv/virt.h). */
#define VIRT_VIRTIO_IRQ 1 /* 1..8 */
#define VIRT_UART0_IRQ  10
#define VIRT_RTC_IRQ    11

#define VIRT_MIN_RAM (16ull << 20)
#define MiB          (1ull << 20)
#define ALIGN_2M     (2 * MiB)

/* OpenSBI include/sbi/fw_dynamic.h. */
#define FW_DYNAMIC_INFO_MAGIC       0x4942534full
#define FW_DYNAMIC_INFO_VERSION     2
#define FW_DYNAMIC_INFO_NEXT_MODE_S 1

/* Linux arch/riscv/include/asm/image.h. */
#define RISCV_IMAGE_MAGIC2     "RSC\x05"
#define RISCV_IMAGE_HDR_SIZE   64
#define RISCV_IMAGE_MAGIC2_OFF 0x38

/* Where the firmware hands over to the kernel when the kernel gives no
 * better address: OpenSBI's FW_JUMP_OFFSET on RV64. */
#define VIRT_KERNEL_OFFSET 0x200000ull

/* Free room left after the device tree for OpenSBI, which grows the blob
 * in place (fdt_open_into) to add its reserved-memory nodes. */
#define VIRT_FDT_SLACK (64 * 1024ull)

/* The highest address the FDT may end at on RV64: QEMU's
 * riscv_compute_fdt_addr() keeps it below 3 GiB. */
#define VIRT_FDT_LIMIT 0xc0000000ull

static const char *const virt_firmware_paths[] = {
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin",
    "/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin",
};

/*
 * Something loaded into guest memory and loaded again on every reset:
 * either bytes from a file the board keeps open (so a reset needs no copy
 * of a 30 MiB kernel in swede's memory, and sees the file as it was opened
 * even if it is renamed or deleted), or a small blob the board made.
 */
struct virt_image {
    uint64_t gpa;
    uint64_t filesz; /* bytes from the source; zeros follow up to memsz */
    uint64_t memsz;
    int fd;          /* source file, or -1 */
    uint64_t offset; /* in the file */
    uint8_t *data;   /* made blob when fd < 0 */
    const char *path;
};

struct virt_state {
    struct plic *plic;
    struct aclint *aclint;
    struct uart16550 *uart;
    struct goldfish_rtc *rtc;
    struct virtio_mmio *virtio[VIRT_VIRTIO_COUNT];
    struct irq_line *plic_out; /* 2 per hart */
    struct virt_image *images;
    unsigned nimages;
};

/* A file read whole into memory, and its descriptor (images loaded from it
 * keep a duplicate for resets). */
struct virt_file {
    const char *opt; /* "-kernel", for messages */
    const char *path;
    uint8_t *data;
    uint64_t len;
    int fd;
};

static void virt_file_release(struct virt_file *f)
{
    free(f->data);
    f->data = NULL;
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

/* One loadable piece of an image: len bytes from data, then zeros up to
 * memsz (an ELF segment's bss). */
struct virt_seg {
    uint64_t gpa;
    const uint8_t *data;
    uint64_t filesz;
    uint64_t memsz;
};

struct virt_layout {
    uint64_t fw_start, fw_end, fw_entry; /* fw_end == fw_start: none */
    uint64_t kernel_start, kernel_end, kernel_entry;
    uint64_t initrd_start, initrd_end;
    uint64_t fdt_addr;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
    return v & ~(a - 1);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t virt_ram_end(const struct vm *vm)
{
    return VIRT_DRAM_BASE + vm->cfg->ram_size;
}

/* -m suggestion for needing `need` bytes of RAM: the next power of two in
 * MiB, at least twice the current size's next step. */
static uint64_t virt_suggest_mib(uint64_t need)
{
    uint64_t mib = 16;
    while ((mib << 20) < need + 16 * MiB && mib < (1ull << 20)) {
        mib <<= 1;
    }
    return mib;
}

static int virt_too_small(const struct vm *vm, const char *opt,
                          const char *path, uint64_t need, struct error *err)
{
    return err_set(err, -ENOSPC,
                   "%s %s: needs %llu MiB of RAM, -m %s is too small; try "
                   "-m %lluM",
                   opt, path, (unsigned long long)((need + MiB - 1) >> 20),
                   vm->cfg->ram_arg,
                   (unsigned long long)virt_suggest_mib(need));
}

static int virt_read_file(struct virt_file *f, const char *opt,
                          const char *path, uint64_t max, struct error *err)
{
    f->opt = opt;
    f->path = path;
    f->data = NULL;
    f->len = 0;
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return err_set(err, -errno, "%s %s: %s", opt, path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return err_set(err, -e, "%s %s: %s", opt, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, -EINVAL, "%s %s: not a regular file", opt, path);
    }
    if (st.st_size == 0) {
        close(fd);
        return err_set(err, -EINVAL, "%s %s: file is empty", opt, path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        /* Reported by the caller's fit check with a -m suggestion. */
        f->len = (uint64_t)st.st_size;
        return -EFBIG;
    }
    f->len = (uint64_t)st.st_size;
    f->data = malloc(f->len);
    if (!f->data) {
        close(fd);
        return err_set(err, -ENOMEM, "%s %s: out of memory", opt, path);
    }
    uint64_t done = 0;
    while (done < f->len) {
        ssize_t n = read(fd, f->data + done, f->len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            free(f->data);
            f->data = NULL;
            return err_set(err, -e, "%s %s: %s", opt, path,
                           n < 0 ? strerror(e) : "file shrank while reading");
        }
        done += (uint64_t)n;
    }
    f->fd = fd;
    return 0;
}

/* Copy an image into guest memory: filesz bytes, then zeros to memsz. */
static int virt_image_load(struct vm *vm, const struct virt_image *im)
{
    uint8_t *dst = mem_ptr(&vm->mem, im->gpa, im->memsz ? im->memsz : 1, false);
    uint64_t done = 0;

    if (!dst) {
        return -EFAULT;
    }
    if (im->fd < 0) {
        memcpy(dst, im->data, im->filesz);
        done = im->filesz;
    }
    while (done < im->filesz) {
        ssize_t n = pread(im->fd, dst + done, im->filesz - done,
                          (off_t)(im->offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* the file shrank since start: the rest reads as zero */
        }
        done += (uint64_t)n;
    }
    memset(dst + done, 0, im->memsz - done);
    return done == im->filesz ? 0 : -EIO;
}

/*
 * Record an image to load now and on every reset: filesz bytes at data,
 * which points into src's contents when src is given (the file is then
 * read again on reset) or is a blob that is copied here.
 */
static int virt_add_image(struct vm *vm, uint64_t gpa,
                          const struct virt_file *src, const uint8_t *data,
                          uint64_t filesz, uint64_t memsz, struct error *err)
{
    struct virt_state *st = vm->board_state;
    struct virt_image im = {
        .gpa = gpa, .filesz = filesz, .memsz = memsz, .fd = -1
    };
    struct virt_image *n =
        realloc(st->images, (st->nimages + 1) * sizeof(*st->images));
    if (!n) {
        return err_set(err, -ENOMEM, "out of memory");
    }
    st->images = n;
    if (!mem_ptr(&vm->mem, gpa, memsz ? memsz : 1, false)) {
        return err_set(err, -EFAULT,
                       "image at 0x%llx (+0x%llx) is outside "
                       "guest memory",
                       (unsigned long long)gpa, (unsigned long long)memsz);
    }
    if (src) {
        im.fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 0);
        if (im.fd < 0) {
            return err_set(err, -errno, "%s %s: %s", src->opt, src->path,
                           strerror(errno));
        }
        im.offset = (uint64_t)(data - src->data);
        im.path = src->path;
        /* Load from the bytes already read, not the file a second time. */
        uint8_t *dst = mem_ptr(&vm->mem, gpa, memsz ? memsz : 1, false);
        memcpy(dst, data, filesz);
        memset(dst + filesz, 0, memsz - filesz);
    } else {
        im.data = malloc(filesz ? filesz : 1);
        if (!im.data) {
            return err_set(err, -ENOMEM, "out of memory");
        }
        memcpy(im.data, data, filesz);
        virt_image_load(vm, &im);
    }
    st->images[st->nimages++] = im;
    return 0;
}

static bool virt_is_elf(const struct virt_file *f)
{
    return f->len >= SELFMAG && memcmp(f->data, ELFMAG, SELFMAG) == 0;
}

/*
 * Parse a 64-bit RISC-V ELF's PT_LOAD segments (by physical address) into
 * segs (malloc'd). Every offset and size is checked against the file.
 */
static int virt_parse_elf(const struct virt_file *f, struct virt_seg **segs,
                          unsigned *nsegs, uint64_t *entry, struct error *err)
{
    Elf64_Ehdr eh;
    if (f->len < sizeof(eh)) {
        return err_set(err, -ENOEXEC, "%s %s: truncated ELF header", f->opt,
                       f->path);
    }
    memcpy(&eh, f->data, sizeof(eh));
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_RISCV) {
        return err_set(err, -ENOEXEC,
                       "%s %s: not a 64-bit little-endian "
                       "RISC-V ELF file",
                       f->opt, f->path);
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        eh.e_phoff > f->len ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > f->len - eh.e_phoff) {
        return err_set(err, -ENOEXEC, "%s %s: bad ELF program headers", f->opt,
                       f->path);
    }
    *segs = calloc(eh.e_phnum, sizeof(**segs));
    if (!*segs) {
        return err_set(err, -ENOMEM, "out of memory");
    }
    *nsegs = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, f->data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) {
            continue;
        }
        if (ph.p_offset > f->len || ph.p_filesz > f->len - ph.p_offset ||
            ph.p_filesz > ph.p_memsz || ph.p_paddr + ph.p_memsz < ph.p_paddr) {
            return err_set(err, -ENOEXEC, "%s %s: bad ELF segment %u", f->opt,
                           f->path, i);
        }
        (*segs)[(*nsegs)++] = (struct virt_seg){
            .gpa = ph.p_paddr,
            .data = f->data + ph.p_offset,
            .filesz = ph.p_filesz,
            .memsz = ph.p_memsz,
        };
    }
    if (*nsegs == 0) {
        return err_set(err, -ENOEXEC, "%s %s: ELF file has nothing to load",
                       f->opt, f->path);
    }
    *entry = eh.e_entry;
    return 0;
}

/* Check that segs fit in [lo, RAM end) and load them; *start and *end
 * get the extent. */
static int virt_load_segs(struct vm *vm, const struct virt_file *f,
                          const struct virt_seg *segs, unsigned nsegs,
                          uint64_t lo, uint64_t *start, uint64_t *end,
                          struct error *err)
{
    uint64_t s = UINT64_MAX, e = 0;
    for (unsigned i = 0; i < nsegs; i++) {
        if (segs[i].gpa < s) {
            s = segs[i].gpa;
        }
        if (segs[i].gpa + segs[i].memsz > e) {
            e = segs[i].gpa + segs[i].memsz;
        }
    }
    if (s < VIRT_DRAM_BASE) {
        return err_set(err, -ERANGE,
                       "%s %s: loads at 0x%llx, below RAM "
                       "(0x%llx)",
                       f->opt, f->path, (unsigned long long)s,
                       (unsigned long long)VIRT_DRAM_BASE);
    }
    if (s < lo) {
        return err_set(err, -ERANGE,
                       "%s %s: loads at 0x%llx, overlapping "
                       "the firmware (which ends at 0x%llx)",
                       f->opt, f->path, (unsigned long long)s,
                       (unsigned long long)lo);
    }
    if (e > virt_ram_end(vm)) {
        return virt_too_small(vm, f->opt, f->path, e - VIRT_DRAM_BASE, err);
    }
    for (unsigned i = 0; i < nsegs; i++) {
        int r = virt_add_image(vm, segs[i].gpa, f, segs[i].data, segs[i].filesz,
                               segs[i].memsz, err);
        if (r < 0) {
            return r;
        }
    }
    *start = s;
    *end = e;
    return 0;
}

/* -bios: default (Debian's OpenSBI fw_dynamic), none, or a file. */
static int virt_load_firmware(struct vm *vm, struct virt_layout *lay,
                              struct error *err)
{
    const char *bios = vm->cfg->bios ? vm->cfg->bios : "default";
    lay->fw_start = lay->fw_end = lay->fw_entry = VIRT_DRAM_BASE;
    if (strcmp(bios, "none") == 0) {
        return 0;
    }
    const char *path = bios;
    if (strcmp(bios, "default") == 0) {
        path = NULL;
        for (size_t i = 0;
             i < sizeof(virt_firmware_paths) / sizeof(virt_firmware_paths[0]);
             i++) {
            if (access(virt_firmware_paths[i], R_OK) == 0) {
                path = virt_firmware_paths[i];
                break;
            }
        }
        if (!path) {
            return err_set(err, -ENOENT,
                           "-bios default: OpenSBI firmware not found (%s); "
                           "install the opensbi package (scripts/install-deps)"
                           " or give -bios FILE or -bios none",
                           virt_firmware_paths[0]);
        }
    }
    struct virt_file f;
    int r = virt_read_file(&f, "-bios", path, vm->cfg->ram_size, err);
    if (r == -EFBIG) {
        return virt_too_small(vm, "-bios", path, f.len, err);
    }
    if (r < 0) {
        return r;
    }
    if (virt_is_elf(&f)) {
        struct virt_seg *segs = NULL;
        unsigned n = 0;
        uint64_t entry = 0;
        r = virt_parse_elf(&f, &segs, &n, &entry, err);
        if (r == 0) {
            r = virt_load_segs(vm, &f, segs, n, VIRT_DRAM_BASE, &lay->fw_start,
                               &lay->fw_end, err);
        }
        free(segs);
        lay->fw_entry = entry;
    } else {
        if (f.len > vm->cfg->ram_size) {
            r = virt_too_small(vm, "-bios", path, f.len, err);
        } else {
            r = virt_add_image(vm, VIRT_DRAM_BASE, &f, f.data, f.len, f.len,
                               err);
            lay->fw_end = VIRT_DRAM_BASE + f.len;
        }
    }
    virt_file_release(&f);
    return r;
}

/* QEMU's translate_kernel_address(): a vmlinux linked for the top 2 GiB
 * of the address space loads at the same offset in RAM. */
static uint64_t virt_kernel_paddr(uint64_t a)
{
    if (a >= 0xffffffff80000000ull) {
        return (a & 0x7fffffffull) | VIRT_DRAM_BASE;
    }
    return a;
}

/*
 * -kernel: an ELF file (PT_LOAD by physical address), a Linux Image (header
 * text_offset and image_size honoured, never below the firmware's end
 * rounded up to 2 MiB, which Linux needs) or a raw binary (at the 2 MiB
 * boundary after the firmware, or at the start of RAM with -bios none).
 */
static int virt_load_kernel(struct vm *vm, struct virt_layout *lay,
                            struct error *err)
{
    bool have_fw = lay->fw_end > lay->fw_start;
    uint64_t lo = have_fw ? align_up(lay->fw_end, ALIGN_2M) : VIRT_DRAM_BASE;
    lay->kernel_start = lay->kernel_end = lo;
    lay->kernel_entry =
        have_fw ? VIRT_DRAM_BASE + VIRT_KERNEL_OFFSET : VIRT_DRAM_BASE;
    if (!vm->cfg->kernel) {
        return 0;
    }
    const char *path = vm->cfg->kernel;
    struct virt_file f;
    int r = virt_read_file(&f, "-kernel", path, vm->cfg->ram_size, err);
    if (r == -EFBIG) {
        return virt_too_small(vm, "-kernel", path,
                              (lo - VIRT_DRAM_BASE) + f.len, err);
    }
    if (r < 0) {
        return r;
    }
    if (virt_is_elf(&f)) {
        struct virt_seg *segs = NULL;
        unsigned n = 0;
        uint64_t entry = 0;
        r = virt_parse_elf(&f, &segs, &n, &entry, err);
        for (unsigned i = 0; r == 0 && i < n; i++) {
            segs[i].gpa = virt_kernel_paddr(segs[i].gpa);
        }
        if (r == 0) {
            r = virt_load_segs(vm, &f, segs, n,
                               have_fw ? lay->fw_end : VIRT_DRAM_BASE,
                               &lay->kernel_start, &lay->kernel_end, err);
        }
        free(segs);
        lay->kernel_entry = virt_kernel_paddr(entry);
        virt_file_release(&f);
        return r;
    }
    uint64_t addr = lo, extent = f.len;
    if (f.len >= RISCV_IMAGE_HDR_SIZE &&
        memcmp(f.data + RISCV_IMAGE_MAGIC2_OFF, RISCV_IMAGE_MAGIC2, 4) == 0) {
        uint64_t text_offset = rd64(f.data + 0x08);
        uint64_t image_size = rd64(f.data + 0x10);
        if (text_offset >= vm->cfg->ram_size) {
            virt_file_release(&f);
            return virt_too_small(vm, "-kernel", path, text_offset + f.len,
                                  err);
        }
        addr = VIRT_DRAM_BASE + text_offset;
        if (addr < lo) {
            addr = lo;
        }
        if (image_size > extent) {
            extent = image_size;
        }
    }
    if (extent > virt_ram_end(vm) - addr) {
        virt_file_release(&f);
        return virt_too_small(vm, "-kernel", path,
                              addr - VIRT_DRAM_BASE + extent, err);
    }
    r = virt_add_image(vm, addr, &f, f.data, f.len, f.len, err);
    virt_file_release(&f);
    lay->kernel_start = addr;
    lay->kernel_end = addr + extent;
    lay->kernel_entry = addr;
    return r;
}

/* Property helpers for the sequential-write API. */
static void fdt_reg2(void *fdt, uint64_t base, uint64_t size)
{
    fdt64_t v[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
    fdt_property(fdt, "reg", v, sizeof(v));
}

static bool virt_has_ext(const char *name)
{
    for (const char *const *e = rv_isa_extensions(); e && *e; e++) {
        if (strcmp(*e, name) == 0) {
            return true;
        }
    }
    return false;
}

static int virt_fdt_cpus(void *fdt, unsigned n)
{
    char name[32];
    /* NUL-separated extension list. */
    size_t extlen = 0;
    for (const char *const *e = rv_isa_extensions(); e && *e; e++) {
        extlen += strlen(*e) + 1;
    }
    char *ext = malloc(extlen ? extlen : 1);
    if (!ext) {
        return -ENOMEM;
    }
    size_t pos = 0;
    for (const char *const *e = rv_isa_extensions(); e && *e; e++) {
        memcpy(ext + pos, *e, strlen(*e) + 1);
        pos += strlen(*e) + 1;
    }

    fdt_begin_node(fdt, "cpus");
    fdt_property_u32(fdt, "#address-cells", 1);
    fdt_property_u32(fdt, "#size-cells", 0);
    fdt_property_u32(fdt, "timebase-frequency", (uint32_t)RV_TIMEBASE_HZ);
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "cpu@%u", i);
        fdt_begin_node(fdt, name);
        fdt_property_u32(fdt, "phandle", 1 + 2 * i);
        fdt_property_string(fdt, "device_type", "cpu");
        fdt_property_u32(fdt, "reg", i);
        fdt_property_string(fdt, "status", "okay");
        fdt_property_string(fdt, "compatible", "riscv");
        if (virt_has_ext("zicbom")) {
            fdt_property_u32(fdt, "riscv,cbom-block-size", 64);
        }
        if (virt_has_ext("zicboz")) {
            fdt_property_u32(fdt, "riscv,cboz-block-size", 64);
        }
        if (extlen) {
            fdt_property(fdt, "riscv,isa-extensions", ext, (int)extlen);
        }
        fdt_property_string(fdt, "riscv,isa-base", "rv64i");
        fdt_property_string(fdt, "riscv,isa", rv_isa_string());
        fdt_property_string(fdt, "mmu-type", "riscv,sv57");
        fdt_begin_node(fdt, "interrupt-controller");
        fdt_property_u32(fdt, "#interrupt-cells", 1);
        fdt_property(fdt, "interrupt-controller", NULL, 0);
        fdt_property_string(fdt, "compatible", "riscv,cpu-intc");
        fdt_property_u32(fdt, "phandle", 2 + 2 * i);
        fdt_end_node(fdt);
        fdt_end_node(fdt);
    }
    fdt_begin_node(fdt, "cpu-map");
    fdt_begin_node(fdt, "cluster0");
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "core%u", i);
        fdt_begin_node(fdt, name);
        fdt_property_u32(fdt, "cpu", 1 + 2 * i);
        fdt_end_node(fdt);
    }
    fdt_end_node(fdt);
    fdt_end_node(fdt);
    fdt_end_node(fdt);
    free(ext);
    return 0;
}

/* interrupts-extended: for each hart, <&intc a &intc b>. */
static int virt_fdt_irqs_ext(void *fdt, unsigned n, uint32_t a, uint32_t b)
{
    fdt32_t *v = calloc(4 * n, sizeof(*v));
    if (!v) {
        return -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++) {
        v[4 * i + 0] = cpu_to_fdt32(2 + 2 * i);
        v[4 * i + 1] = cpu_to_fdt32(a);
        v[4 * i + 2] = cpu_to_fdt32(2 + 2 * i);
        v[4 * i + 3] = cpu_to_fdt32(b);
    }
    int r = fdt_property(fdt, "interrupts-extended", v, 4 * n * sizeof(*v));
    free(v);
    return r;
}

static void virt_fdt_soc(void *fdt, unsigned n, uint32_t plic_ph,
                         uint32_t test_ph)
{
    char name[64];
    static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    static const char clint_compat[] = "sifive,clint0\0riscv,clint0";
    static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";

    fdt_begin_node(fdt, "soc");
    fdt_property_u32(fdt, "#address-cells", 2);
    fdt_property_u32(fdt, "#size-cells", 2);
    fdt_property_string(fdt, "compatible", "simple-bus");
    fdt_property(fdt, "ranges", NULL, 0);

    snprintf(name, sizeof(name), "rtc@%llx", VIRT_RTC_BASE);
    fdt_begin_node(fdt, name);
    fdt_property_u32(fdt, "interrupts", VIRT_RTC_IRQ);
    fdt_property_u32(fdt, "interrupt-parent", plic_ph);
    fdt_reg2(fdt, VIRT_RTC_BASE, GOLDFISH_RTC_SIZE);
    fdt_property_string(fdt, "compatible", "google,goldfish-rtc");
    fdt_end_node(fdt);

    snprintf(name, sizeof(name), "serial@%llx", VIRT_UART0_BASE);
    fdt_begin_node(fdt, name);
    fdt_property_u32(fdt, "interrupts", VIRT_UART0_IRQ);
    fdt_property_u32(fdt, "interrupt-parent", plic_ph);
    fdt_property_u32(fdt, "clock-frequency", UART16550_CLOCK_HZ);
    fdt_reg2(fdt, VIRT_UART0_BASE, UART16550_SIZE);
    fdt_property_string(fdt, "compatible", "ns16550a");
    fdt_end_node(fdt);

    snprintf(name, sizeof(name), "test@%llx", VIRT_TEST_BASE);
    fdt_begin_node(fdt, name);
    fdt_property_u32(fdt, "phandle", test_ph);
    fdt_reg2(fdt, VIRT_TEST_BASE, SIFIVE_TEST_SIZE);
    fdt_property(fdt, "compatible", test_compat, sizeof(test_compat));
    fdt_end_node(fdt);

    /* QEMU lists the slots top-down; Linux probes them in DT order, so the
     * same order gives the same /dev/vda naming as under QEMU. */
    for (int i = VIRT_VIRTIO_COUNT - 1; i >= 0; i--) {
        uint64_t base = VIRT_VIRTIO_BASE + (uint64_t)i * VIRT_VIRTIO_SIZE;
        snprintf(name, sizeof(name), "virtio_mmio@%llx",
                 (unsigned long long)base);
        fdt_begin_node(fdt, name);
        fdt_property_u32(fdt, "interrupts", VIRT_VIRTIO_IRQ + i);
        fdt_property_u32(fdt, "interrupt-parent", plic_ph);
        fdt_reg2(fdt, base, VIRT_VIRTIO_SIZE);
        fdt_property_string(fdt, "compatible", "virtio,mmio");
        fdt_end_node(fdt);
    }

    snprintf(name, sizeof(name), "plic@%llx", VIRT_PLIC_BASE);
    fdt_begin_node(fdt, name);
    fdt_property_u32(fdt, "phandle", plic_ph);
    fdt_property_u32(fdt, "riscv,ndev", PLIC_NUM_SOURCES - 1);
    fdt_reg2(fdt, VIRT_PLIC_BASE, PLIC_SIZE(2 * n));
    virt_fdt_irqs_ext(fdt, n, RV_IRQ_M_EXT, RV_IRQ_S_EXT);
    fdt_property(fdt, "interrupt-controller", NULL, 0);
    fdt_property(fdt, "compatible", plic_compat, sizeof(plic_compat));
    fdt_property_u32(fdt, "#address-cells", 0);
    fdt_property_u32(fdt, "#interrupt-cells", 1);
    fdt_end_node(fdt);

    snprintf(name, sizeof(name), "clint@%llx", VIRT_CLINT_BASE);
    fdt_begin_node(fdt, name);
    virt_fdt_irqs_ext(fdt, n, RV_IRQ_M_SOFT, RV_IRQ_M_TIMER);
    fdt_reg2(fdt, VIRT_CLINT_BASE, ACLINT_SIZE);
    fdt_property(fdt, "compatible", clint_compat, sizeof(clint_compat));
    fdt_end_node(fdt);

    fdt_end_node(fdt);
}

static void virt_fdt_syscon(void *fdt, const char *name, const char *compat,
                            uint32_t test_ph, uint32_t value)
{
    fdt_begin_node(fdt, name);
    fdt_property_u32(fdt, "value", value);
    fdt_property_u32(fdt, "offset", 0);
    fdt_property_u32(fdt, "regmap", test_ph);
    fdt_property_string(fdt, "compatible", compat);
    fdt_end_node(fdt);
}

/* The device tree as QEMU's virt writes it (reference §4.5), without
 * /chosen's per-boot properties (virt_fdt_chosen adds those). */
static int virt_fdt_build(const struct vm *vm, void *buf, int size)
{
    unsigned n = vm->cfg->smp;
    uint32_t plic_ph = 2 * n + 1, test_ph = 2 * n + 2;
    char name[64];
    static const char root_compat[] = "riscv-virtio";

    fdt_create(buf, size);
    fdt_finish_reservemap(buf);
    fdt_begin_node(buf, "");
    fdt_property_u32(buf, "#address-cells", 2);
    fdt_property_u32(buf, "#size-cells", 2);
    fdt_property(buf, "compatible", root_compat, sizeof(root_compat));
    fdt_property_string(buf, "model", "riscv-virtio,qemu");

    fdt_begin_node(buf, "chosen");
    fdt_end_node(buf);

    /* QEMU puts these at the root, not under the syscon. */
    virt_fdt_syscon(buf, "poweroff", "syscon-poweroff", test_ph, 0x5555);
    virt_fdt_syscon(buf, "reboot", "syscon-reboot", test_ph, 0x7777);

    snprintf(name, sizeof(name), "memory@%llx", VIRT_DRAM_BASE);
    fdt_begin_node(buf, name);
    fdt_property_string(buf, "device_type", "memory");
    fdt_reg2(buf, VIRT_DRAM_BASE, vm->cfg->ram_size);
    fdt_end_node(buf);

    if (virt_fdt_cpus(buf, n) < 0) {
        return -FDT_ERR_NOSPACE;
    }
    virt_fdt_soc(buf, n, plic_ph, test_ph);
    fdt_end_node(buf);
    return fdt_finish(buf);
}

/*
 * /chosen: bootargs, stdout-path, rng-seed and, when there is an initrd,
 * 64-bit linux,initrd-start/end placeholders that are filled in in place
 * once the FDT's own size (and so the initrd's address) is known.
 */
static int virt_fdt_chosen(const struct vm *vm, void *fdt, bool generated)
{
    int off = fdt_path_offset(fdt, "/chosen");
    if (off < 0) {
        off = fdt_add_subnode(fdt, 0, "chosen");
    }
    if (off < 0) {
        return off;
    }
    int r = 0;
    if (vm->cfg->append) {
        r = fdt_setprop_string(fdt, off, "bootargs", vm->cfg->append);
    }
    if (r == 0 && generated) {
        r = fdt_setprop_string(fdt, off, "stdout-path", "/soc/serial@10000000");
        uint8_t seed[32];
        if (r == 0 && getrandom(seed, sizeof(seed), 0) == sizeof(seed)) {
            r = fdt_setprop(fdt, off, "rng-seed", seed, sizeof(seed));
        }
    }
    if (r == 0 && vm->cfg->initrd) {
        r = fdt_setprop_u64(fdt, off, "linux,initrd-start", 0);
        if (r == 0) {
            r = fdt_setprop_u64(fdt, off, "linux,initrd-end", 0);
        }
    }
    return r;
}

/* Build or load the FDT into a malloc'd, packed blob. */
static int virt_fdt_make(const struct vm *vm, void **out, struct error *err)
{
    size_t extra = 4096 + (vm->cfg->append ? strlen(vm->cfg->append) : 0);
    void *fdt = NULL;
    int r;
    if (vm->cfg->dtb) {
        struct virt_file f;
        r = virt_read_file(&f, "-dtb", vm->cfg->dtb, 64 * MiB, err);
        if (r == -EFBIG) {
            return err_set(err, r, "-dtb %s: larger than 64 MiB", vm->cfg->dtb);
        }
        if (r < 0) {
            return r;
        }
        if (f.len < sizeof(struct fdt_header) || fdt_check_header(f.data) ||
            fdt_totalsize(f.data) > f.len) {
            virt_file_release(&f);
            return err_set(err, -EINVAL, "-dtb %s: not a device tree blob",
                           vm->cfg->dtb);
        }
        size_t size = fdt_totalsize(f.data) + extra;
        fdt = malloc(size);
        r = fdt ? fdt_open_into(f.data, fdt, (int)size) : -FDT_ERR_NOSPACE;
        virt_file_release(&f);
        if (r == 0) {
            r = virt_fdt_chosen(vm, fdt, false);
        }
        if (r < 0) {
            free(fdt);
            return err_set(err, -EINVAL, "-dtb %s: %s", vm->cfg->dtb,
                           fdt_strerror(r));
        }
    } else {
        size_t size = 64 * 1024 + 512 * vm->cfg->smp + extra;
        fdt = malloc(size);
        if (!fdt) {
            return err_set(err, -ENOMEM, "out of memory");
        }
        r = virt_fdt_build(vm, fdt, (int)size);
        if (r == 0) {
            r = fdt_open_into(fdt, fdt, (int)size);
        }
        if (r == 0) {
            r = virt_fdt_chosen(vm, fdt, true);
        }
        if (r < 0) {
            free(fdt);
            return err_set(err, -EINVAL, "building the device tree: %s",
                           fdt_strerror(r));
        }
    }
    fdt_pack(fdt);
    *out = fdt;
    return 0;
}

/*
 * Place the FDT and the initrd. The FDT goes where QEMU's
 * riscv_compute_fdt_addr() puts it: the highest 2 MiB boundary that leaves
 * room for it below min(RAM end, 3 GiB) (plus VIRT_FDT_SLACK for OpenSBI).
 * The initrd goes right below the FDT, page-aligned: as high as possible,
 * so the kernel's own memory (image_size, early allocations above it) never
 * runs into it, whatever the kernel size. Linux maps all of RAM on RV64,
 * so a high initrd is reachable.
 */
static int virt_place(struct vm *vm, struct virt_layout *lay, uint64_t fdt_size,
                      uint64_t initrd_size, struct error *err)
{
    uint64_t top = virt_ram_end(vm);
    if (top > VIRT_FDT_LIMIT) {
        top = VIRT_FDT_LIMIT;
    }
    uint64_t low =
        lay->kernel_end > lay->fw_end ? lay->kernel_end : lay->fw_end;
    uint64_t need_fdt = fdt_size + VIRT_FDT_SLACK;
    uint64_t need_initrd = align_up(initrd_size, 4096);
    uint64_t need = (low - VIRT_DRAM_BASE) + need_initrd + ALIGN_2M +
                    align_up(need_fdt, ALIGN_2M);
    bool fits = top - VIRT_DRAM_BASE >= need_fdt;
    if (fits) {
        lay->fdt_addr = align_down(top - need_fdt, ALIGN_2M);
        fits = lay->fdt_addr >= low && lay->fdt_addr - low >= need_initrd;
    }
    if (!fits) {
        const char *opt = vm->cfg->initrd   ? "-initrd"
                          : vm->cfg->kernel ? "-kernel"
                                            : "-bios";
        const char *path = vm->cfg->initrd   ? vm->cfg->initrd
                           : vm->cfg->kernel ? vm->cfg->kernel
                                             : vm->cfg->bios;
        return virt_too_small(vm, opt, path, need, err);
    }
    lay->initrd_end = lay->fdt_addr;
    lay->initrd_start = align_down(lay->fdt_addr - initrd_size, 4096);
    if (initrd_size) {
        lay->initrd_end = lay->initrd_start + initrd_size;
    }
    return 0;
}

static uint32_t rv_enc_i(uint32_t imm, unsigned rs1, unsigned f3, unsigned rd,
                         uint32_t op)
{
    return (imm & 0xfffu) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

/*
 * The MROM: a reset vector every hart runs, then its data words and
 * struct fw_dynamic_info (the layout of QEMU's riscv_setup_rom_reset_vec):
 *   auipc t0, 0             t0 = MROM base
 *   addi  a2, t0, info      a2 = &fw_dynamic_info
 *   csrr  a0, mhartid
 *   ld    a1, fdt(t0)
 *   ld    t0, start(t0)
 *   jr    t0
 *   .dword start, fdt
 *   fw_dynamic_info { magic, version, next_addr, next_mode, options,
 *                     boot_hart }
 */
static int virt_write_rom(struct vm *vm, const struct virt_layout *lay,
                          uint64_t start, struct error *err)
{
    enum {
        T0 = 5,
        A0 = 10,
        A1 = 11,
        A2 = 12
    };
    enum {
        OFF_START = 24,
        OFF_FDT = 32,
        OFF_INFO = 40
    };
    uint8_t rom[OFF_INFO + 6 * 8];
    uint32_t code[6] = {
        0x00000017u | T0 << 7,                /* auipc t0, 0 */
        rv_enc_i(OFF_INFO, T0, 0, A2, 0x13),  /* addi a2, t0, info */
        rv_enc_i(0xf14, 0, 2, A0, 0x73),      /* csrr a0, mhartid */
        rv_enc_i(OFF_FDT, T0, 3, A1, 0x03),   /* ld a1, fdt(t0) */
        rv_enc_i(OFF_START, T0, 3, T0, 0x03), /* ld t0, start(t0) */
        rv_enc_i(0, T0, 0, 0, 0x67),          /* jalr x0, 0(t0) */
    };
    uint64_t data[2 + 6] = {
        start,
        lay->fdt_addr,
        FW_DYNAMIC_INFO_MAGIC,
        FW_DYNAMIC_INFO_VERSION,
        lay->kernel_entry,
        FW_DYNAMIC_INFO_NEXT_MODE_S,
        0,     /* options */
        ~0ull, /* boot_hart: any (OpenSBI's lottery) */
    };
    memcpy(rom, code, sizeof(code));
    memcpy(rom + OFF_START, data, sizeof(data));
    return virt_add_image(vm, VIRT_MROM_BASE, NULL, rom, sizeof(rom),
                          sizeof(rom), err);
}

/* PLIC context n -> hart n/2's MEIP (even) or SEIP (odd). */
static void virt_plic_ctx_set(void *opaque, unsigned n, int level)
{
    struct vm *vm = opaque;
    rv_hart_set_irq(rv_cpu_hart(vm->cpu, n / 2),
                    n & 1 ? RV_IRQ_S_EXT : RV_IRQ_M_EXT, level);
}

static int virt_write_dumpdtb(const char *path, const void *fdt,
                              struct error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return err_set(err, -errno, "-machine dumpdtb=%s: %s", path,
                       strerror(errno));
    }
    size_t n = fdt_totalsize(fdt);
    bool ok = fwrite(fdt, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        return err_set(err, -EIO, "-machine dumpdtb=%s: write failed", path);
    }
    return 0;
}

static int virt_build_devices(struct vm *vm, struct error *err)
{
    struct virt_state *st = vm->board_state;
    unsigned n = vm->cfg->smp;

    struct rv_cpu_config cc = {
        .nharts = n,
        .reset_pc = VIRT_MROM_BASE,
        .mem = &vm->mem,
        .bus = vm->bus,
        .satp_modes = (1u << 8) | (1u << 9) | (1u << 10),
    };
    vm->cpu = rv_cpu_new(&cc, err);
    if (!vm->cpu) {
        return err_is_set(err) ? err->code : -ENOMEM;
    }
    st->aclint = aclint_new(vm->bus, VIRT_CLINT_BASE, vm->cpu, err);
    if (!st->aclint) {
        return -ENODEV;
    }
    st->plic_out = calloc(2 * n, sizeof(*st->plic_out));
    if (!st->plic_out) {
        return err_set(err, -ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < 2 * n; i++) {
        st->plic_out[i] =
            (struct irq_line){ .set = virt_plic_ctx_set, .opaque = vm, .n = i };
    }
    st->plic = plic_new(vm->bus, VIRT_PLIC_BASE, PLIC_NUM_SOURCES, 2 * n,
                        st->plic_out, err);
    if (!st->plic) {
        return -ENODEV;
    }
    if (sifive_test_new(vm->bus, VIRT_TEST_BASE, err) < 0) {
        return -ENODEV;
    }
    st->rtc = goldfish_rtc_new(vm->bus, VIRT_RTC_BASE,
                               plic_source(st->plic, VIRT_RTC_IRQ), err);
    if (!st->rtc) {
        return -ENODEV;
    }
    st->uart = uart16550_new(vm->bus, VIRT_UART0_BASE, vm->serial,
                             plic_source(st->plic, VIRT_UART0_IRQ), err);
    if (!st->uart) {
        return -ENODEV;
    }
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        st->virtio[i] =
            virtio_mmio_new(vm->bus, VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE,
                            plic_source(st->plic, VIRT_VIRTIO_IRQ + i), err);
        if (!st->virtio[i]) {
            return -ENODEV;
        }
    }
    return 0;
}

/*
 * QEMU creates the transports upwards but hands them to -device options
 * from the top down (qbus_find_recursive finds the last-created bus
 * first): the first virtio -device gets 0x10008000 (PLIC source 8), the
 * next 0x10007000, and so on; `info qtree` on qemu-system-riscv64 -M virt
 * shows it. Keeping the order keeps guests' device naming the same.
 */
static struct virtio_mmio *virt_plug(struct vm *vm, struct virtio_dev *dev)
{
    struct virt_state *st = vm->board_state;

    for (int i = VIRT_VIRTIO_COUNT - 1; i >= 0; i--) {
        if (st->virtio[i] && !virtio_mmio_dev(st->virtio[i])) {
            virtio_mmio_plug(st->virtio[i], dev);
            return st->virtio[i];
        }
    }
    return NULL;
}

int virt_plug_virtio(struct vm *vm, struct virtio_dev *dev, struct error *err)
{
    if (virt_plug(vm, dev)) {
        return 0;
    }
    return err_set(err, -ENOSPC,
                   "no free virtio-mmio slot (the virt machine has %u)",
                   VIRT_VIRTIO_COUNT);
}

/* A device's shared memory region into the hostmem window (see
 * VIRT_HOSTMEM_BASE), as a RAM-like block, and into its transport. */
static int virt_place_shm(struct vm *vm, const struct device_instance *d,
                          struct virtio_mmio *mmio, struct error *err)
{
    if (mem_find(&vm->mem, VIRT_HOSTMEM_BASE, 1)) {
        return err_set(err, -EBUSY,
                       "-device %s: only one device with hostmem= fits the "
                       "virt machine",
                       d->model->name);
    }
    if (d->shm.size > VIRT_HOSTMEM_MAX) {
        return err_set(err, -EINVAL,
                       "-device %s: hostmem=%llu: the virt machine has room "
                       "for %llu bytes",
                       d->model->name, (unsigned long long)d->shm.size,
                       (unsigned long long)VIRT_HOSTMEM_MAX);
    }
    if (VIRT_DRAM_BASE + vm->cfg->ram_size > VIRT_HOSTMEM_BASE) {
        return err_set(err, -EINVAL,
                       "-device %s: hostmem= needs RAM to end below %#llx "
                       "(use a smaller -m)",
                       d->model->name, VIRT_HOSTMEM_BASE);
    }
    int r = mem_add_block_host(&vm->mem, VIRT_HOSTMEM_BASE, d->shm.size,
                               d->shm.host, d->shm.ro_pages,
                               "virtio-gpu.hostmem", err);
    if (r < 0) {
        err_prefix(err, "-device %s", d->model->name);
        return r;
    }
    virtio_mmio_set_shm(mmio, d->shm.id, VIRT_HOSTMEM_BASE, d->shm.size);
    return 0;
}

/*
 * The -device list, in command-line order, through the model registry;
 * virtio devices go into the next free virtio-mmio slot. The models take
 * their -drive and -chardev backends themselves (vm_take_drive/chardev).
 */
static int virt_build_user_devices(struct vm *vm, struct error *err)
{
    const struct vm_config *cfg = vm->cfg;
    unsigned nvirtio = 0;

    if (cfg->ndevices == 0) {
        return 0;
    }
    vm->devices = calloc(cfg->ndevices, sizeof(*vm->devices));
    if (!vm->devices) {
        return err_set(err, -ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < cfg->ndevices; i++) {
        const struct opts *o = &cfg->devices[i];
        const char *name = opts_get(o, "driver");
        const struct device_model *m = name ? model_find(name) : NULL;
        if (!m) {
            return err_set(err, -EINVAL,
                           "-device %s: unknown device (use -device help "
                           "to list them)",
                           name ? name : "");
        }
        int r = model_check_opts(m, o, err);
        if (r < 0) {
            return r;
        }
        struct device_instance *d = &vm->devices[vm->ndevices];
        d->model = m;
        r = m->create(vm, o, d, err);
        if (r < 0) {
            if (!err_is_set(err)) {
                err_set(err, r, "-device %s: cannot create the device",
                        m->name);
            }
            return r;
        }
        vm->ndevices++;
        if (!d->vdev) {
            continue;
        }
        if (nvirtio == VIRT_VIRTIO_COUNT) {
            return err_set(err, -ENOSPC,
                           "-device %s: no free virtio-mmio slot (the virt "
                           "machine has %u; use fewer virtio devices)",
                           m->name, VIRT_VIRTIO_COUNT);
        }
        struct virtio_mmio *mmio = virt_plug(vm, d->vdev);
        if (!mmio) {
            return err_set(err, -ENOSPC, "-device %s: no free virtio-mmio slot",
                           m->name);
        }
        nvirtio++;
        if (d->shm.size) {
            r = virt_place_shm(vm, d, mmio, err);
            if (r < 0) {
                return r;
            }
        }
    }
    return 0;
}

static int virt_build(struct vm *vm, struct error *err)
{
    const struct vm_config *cfg = vm->cfg;
    struct virt_state *st = calloc(1, sizeof(*st));
    if (!st) {
        return err_set(err, -ENOMEM, "out of memory");
    }
    vm->board_state = st;
    if (cfg->ram_size < VIRT_MIN_RAM) {
        return err_set(err, -EINVAL,
                       "-m %s: the virt machine needs at least "
                       "16 MiB of RAM (use -m 16M or more)",
                       cfg->ram_arg);
    }
    if (cfg->smp < 1 || cfg->smp > RV_MAX_HARTS) {
        return err_set(err, -EINVAL,
                       "-smp %u: the virt machine supports 1 to "
                       "%u CPUs (use -smp 1..%u)",
                       cfg->smp, RV_MAX_HARTS, RV_MAX_HARTS);
    }

    vm->bus = bus_new();
    if (!vm->bus) {
        return err_set(err, -ENOMEM, "out of memory");
    }
    int r = mem_add_block(&vm->mem, VIRT_MROM_BASE, VIRT_MROM_SIZE, true,
                          "riscv_virt_board.mrom", err);
    if (r == 0) {
        r = mem_add_block(&vm->mem, VIRT_DRAM_BASE, cfg->ram_size, false,
                          "riscv_virt_board.ram", err);
        if (r < 0) {
            err_prefix(err, "-m %s", cfg->ram_arg);
        }
    }
    if (r == 0) {
        r = virt_build_devices(vm, err);
    }
    if (r == 0) {
        r = virt_build_user_devices(vm, err);
    }
    if (r < 0) {
        return r;
    }

    /* Images: firmware, kernel, then the FDT and initrd from the top. */
    struct virt_layout lay = { 0 };
    r = virt_load_firmware(vm, &lay, err);
    if (r == 0) {
        r = virt_load_kernel(vm, &lay, err);
    }
    if (r < 0) {
        return r;
    }
    struct virt_file initrd = { .fd = -1 };
    if (cfg->initrd) {
        r = virt_read_file(&initrd, "-initrd", cfg->initrd, cfg->ram_size, err);
        if (r == -EFBIG) {
            return virt_too_small(
                vm, "-initrd", cfg->initrd,
                (lay.kernel_end - VIRT_DRAM_BASE) + initrd.len + ALIGN_2M, err);
        }
        if (r < 0) {
            return r;
        }
    }
    void *fdt = NULL;
    r = virt_fdt_make(vm, &fdt, err);
    if (r == 0) {
        r = virt_place(vm, &lay, fdt_totalsize(fdt), initrd.len, err);
    }
    if (r == 0 && cfg->initrd) {
        int off = fdt_path_offset(fdt, "/chosen");
        if (fdt_setprop_inplace_u64(fdt, off, "linux,initrd-start",
                                    lay.initrd_start) ||
            fdt_setprop_inplace_u64(fdt, off, "linux,initrd-end",
                                    lay.initrd_end)) {
            r = err_set(err, -EINVAL,
                        "device tree: cannot set /chosen "
                        "initrd properties");
        }
        if (r == 0) {
            r = virt_add_image(vm, lay.initrd_start, &initrd, initrd.data,
                               initrd.len, initrd.len, err);
        }
    }
    virt_file_release(&initrd);
    if (r == 0) {
        r = virt_add_image(vm, lay.fdt_addr, NULL, fdt, fdt_totalsize(fdt),
                           fdt_totalsize(fdt), err);
    }
    if (r == 0 && cfg->dumpdtb) {
        r = virt_write_dumpdtb(cfg->dumpdtb, fdt, err);
    }
    free(fdt);
    if (r < 0) {
        return r;
    }

    bool have_fw = lay.fw_end > lay.fw_start;
    uint64_t start = have_fw ? lay.fw_entry : lay.kernel_entry;
    return virt_write_rom(vm, &lay, start, err);
}

static void virt_reset(struct vm *vm)
{
    struct virt_state *st = vm->board_state;
    dev_lock();
    plic_reset(st->plic);
    aclint_reset(st->aclint);
    uart16550_reset(st->uart);
    goldfish_rtc_reset(st->rtc);
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        virtio_mmio_reset(st->virtio[i]);
    }
    for (unsigned i = 0; i < vm->ndevices; i++) {
        if (vm->devices[i].model->reset) {
            vm->devices[i].model->reset(vm->devices[i].state);
        }
    }
    dev_unlock();
    for (unsigned i = 0; i < st->nimages; i++) {
        if (virt_image_load(vm, &st->images[i]) < 0) {
            log_msg("reset: %s shrank since swede started; the missing "
                    "part reads as zeros",
                    st->images[i].path ? st->images[i].path : "an image");
        }
    }
    rv_cpu_reset(vm->cpu);
}

const struct board_ops riscv_virt_board = {
    .name = "virt",
    .desc = "RISC-V VirtIO board",
    .default_ram = 128 * MiB,
    .max_cpus = RV_MAX_HARTS,
    .build = virt_build,
    .reset = virt_reset,
};
