/*
 * md_xdp_prog.c - the XDP program of the feed's AF_XDP transport, assembled here from eBPF
 * instructions (no clang on the machines this builds on), loaded with bpf(BPF_PROG_LOAD) and
 * attached with a BPF link (Linux >= 5.9), whose fd detaches it when closed (or when the process
 * dies): nothing is left on the interface.
 *
 * What it does, per packet (offsets into an untagged Ethernet frame):
 *   a frame of at least 14 + 20 + 8 bytes, EtherType IPv4 (12), version 4 with a 20-byte header
 *   (14), not a fragment (20: MF flag and offset zero), protocol UDP (23), destination port the
 *   feed's (36): bpf_redirect_map(xskmap, rx_queue_index, XDP_PASS), i.e. to the AF_XDP socket
 *   bound to that queue, or to the kernel if none is;
 *   anything else (ARP, TCP, other ports, IP options, fragments, VLAN tags): XDP_PASS, the kernel
 *   stack gets it as if no program were there.
 * Packet loads are in network byte order as stored; the constants are compared as a load of those
 * bytes would read them (htons), so the program is right on either byte order.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "md_xdp.h"

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/bpf.h>) && __has_include(<linux/if_link.h>)
#include <linux/bpf.h>
#include <linux/if_link.h>
#endif
#endif
/* BPF links for XDP came with Linux 5.9; BPF_F_SLEEPABLE marks a 5.10 header. Older: stubs. */
#if defined(BPF_F_SLEEPABLE) && defined(XDP_FLAGS_DRV_MODE) && defined(BPF_PSEUDO_MAP_FD)
#define MD_HAVE_BPF 1
#endif

#ifdef MD_HAVE_BPF

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), \
                                               .off = (o), .imm = (i)})
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADD64_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define AND64_IMM(d, i) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define LDX(size, d, s, o) INSN(BPF_LDX | BPF_MEM | (size), d, s, o, 0)
#define JGT_REG(d, s, o) INSN(BPF_JMP | BPF_JGT | BPF_X, d, s, o, 0)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_MAP_FD(d, fd) INSN(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), \
                         INSN(0, 0, 0, 0, 0)

enum { MD_XDP_PROG_LEN = 25, MD_XDP_PASS_AT = 23 };

/* A jump at `at` to the PASS tail: the offset counts from the next instruction. */
#define TO_PASS(at) ((int16_t)(MD_XDP_PASS_AT - (at) - 1))

static void md_xdp_program(struct bpf_insn *p, int map_fd, uint16_t port)
{
    const struct bpf_insn prog[MD_XDP_PROG_LEN] = {
        /* 0 */ MOV64_REG(BPF_REG_6, BPF_REG_1),                    /* ctx */
        /* 1 */ LDX(BPF_W, BPF_REG_2, BPF_REG_1, 0),                 /* data */
        /* 2 */ LDX(BPF_W, BPF_REG_3, BPF_REG_1, 4),                 /* data_end */
        /* 3 */ MOV64_REG(BPF_REG_4, BPF_REG_2),
        /* 4 */ ADD64_IMM(BPF_REG_4, 14 + 20 + 8),
        /* 5 */ JGT_REG(BPF_REG_4, BPF_REG_3, TO_PASS(5)),           /* too short */
        /* 6 */ LDX(BPF_H, BPF_REG_5, BPF_REG_2, 12),
        /* 7 */ JNE_IMM(BPF_REG_5, htons(0x0800), TO_PASS(7)),       /* not IPv4 */
        /* 8 */ LDX(BPF_B, BPF_REG_5, BPF_REG_2, 14),
        /* 9 */ JNE_IMM(BPF_REG_5, 0x45, TO_PASS(9)),                /* options, or not v4 */
        /* 10 */ LDX(BPF_H, BPF_REG_5, BPF_REG_2, 20),
        /* 11 */ AND64_IMM(BPF_REG_5, htons(0x3fff)),
        /* 12 */ JNE_IMM(BPF_REG_5, 0, TO_PASS(12)),                 /* a fragment */
        /* 13 */ LDX(BPF_B, BPF_REG_5, BPF_REG_2, 23),
        /* 14 */ JNE_IMM(BPF_REG_5, 17, TO_PASS(14)),                /* not UDP */
        /* 15 */ LDX(BPF_H, BPF_REG_5, BPF_REG_2, 36),
        /* 16 */ JNE_IMM(BPF_REG_5, htons(port), TO_PASS(16)),       /* not the feed */
        /* 17 */ LDX(BPF_W, BPF_REG_2, BPF_REG_6, 16),               /* rx_queue_index */
        /* 18, 19 */ LD_MAP_FD(BPF_REG_1, map_fd),
        /* 20 */ MOV64_IMM(BPF_REG_3, XDP_PASS),                     /* no socket: the kernel */
        /* 21 */ CALL(BPF_FUNC_redirect_map),
        /* 22 */ EXIT(),
        /* 23 */ MOV64_IMM(BPF_REG_0, XDP_PASS),
        /* 24 */ EXIT(),
    };
    memcpy(p, prog, sizeof prog);
}

static int md_bpf(int cmd, union bpf_attr *attr)
{
    long rc = syscall(__NR_bpf, cmd, attr, sizeof *attr);
    return rc < 0 ? -errno : (int)rc;
}

static int md_xdp_map_create(uint32_t entries)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_XSKMAP;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = entries;
    return md_bpf(BPF_MAP_CREATE, &a);
}

static int md_xdp_prog_load(int map_fd, uint16_t port, char *log, uint32_t log_cap)
{
    struct bpf_insn insns[MD_XDP_PROG_LEN];
    md_xdp_program(insns, map_fd, port);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_XDP;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = MD_XDP_PROG_LEN;
    a.license = (uint64_t)(uintptr_t)"Dual BSD/GPL";
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = log_cap;
    a.log_level = log_cap ? 1 : 0;
    int fd = md_bpf(BPF_PROG_LOAD, &a);
    if (fd == -ENOSPC && log_cap) {  /* the log did not fit: load again without it */
        a.log_buf = 0;
        a.log_size = 0;
        a.log_level = 0;
        fd = md_bpf(BPF_PROG_LOAD, &a);
    }
    return fd;
}

static int md_xdp_link(int prog_fd, uint32_t ifindex, uint32_t flags)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.link_create.prog_fd = (uint32_t)prog_fd;
    a.link_create.target_ifindex = ifindex;
    a.link_create.attach_type = BPF_XDP;
    a.link_create.flags = flags;
    return md_bpf(BPF_LINK_CREATE, &a);
}

int md_xdp_map_set(int map_fd, uint32_t queue_id, int xsk_fd)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    uint32_t value = (uint32_t)xsk_fd;
    a.map_fd = (uint32_t)map_fd;
    a.key = (uint64_t)(uintptr_t)&queue_id;
    a.value = (uint64_t)(uintptr_t)&value;
    a.flags = BPF_ANY;
    return md_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

int md_xdp_prog_setup(uint32_t ifindex, uint32_t queue_id, uint16_t udp_port, int skb_only,
                      int *map_fd, int *prog_fd, int *link_fd, uint32_t *attach, char *why,
                      uint32_t why_cap)
{
    *map_fd = *prog_fd = *link_fd = -1;
    int rc = md_xdp_map_create(queue_id + 1);
    if (rc < 0) {
        snprintf(why, why_cap, "bpf(BPF_MAP_CREATE, XSKMAP): %s%s", strerror(-rc),
                 rc == -EPERM ? " (needs CAP_BPF / root)" : "");
        return rc;
    }
    *map_fd = rc;
    char log[2048] = "";
    rc = md_xdp_prog_load(*map_fd, udp_port, log, sizeof log);
    if (rc < 0) {
        snprintf(why, why_cap, "bpf(BPF_PROG_LOAD, XDP): %s; verifier: %.300s", strerror(-rc),
                 log);
        return rc;
    }
    *prog_fd = rc;
    rc = skb_only ? -EOPNOTSUPP : md_xdp_link(*prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
    *attach = MD_XDP_ATTACH_DRV;
    if (rc < 0) {
        int drv = rc;
        rc = md_xdp_link(*prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
        *attach = MD_XDP_ATTACH_SKB;
        if (rc < 0) {
            snprintf(why, why_cap, "attaching the XDP program to ifindex %u: driver mode %s, "
                     "generic mode %s", ifindex, strerror(-drv), strerror(-rc));
            return rc;
        }
    }
    *link_fd = rc;
    return 0;
}

#else /* !MD_HAVE_BPF */

int md_xdp_prog_setup(uint32_t ifindex, uint32_t queue_id, uint16_t udp_port, int skb_only,
                      int *map_fd, int *prog_fd, int *link_fd, uint32_t *attach, char *why,
                      uint32_t why_cap)
{
    (void)ifindex; (void)queue_id; (void)udp_port; (void)skb_only; (void)attach;
    *map_fd = *prog_fd = *link_fd = -1;
    snprintf(why, why_cap, "built without <linux/bpf.h>");
    return -ENOSYS;
}

int md_xdp_map_set(int map_fd, uint32_t queue_id, int xsk_fd)
{
    (void)map_fd; (void)queue_id; (void)xsk_fd;
    return -ENOSYS;
}

#endif /* MD_HAVE_BPF */
