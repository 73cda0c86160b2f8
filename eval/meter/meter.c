// SPDX-License-Identifier: GPL-2.0
/*
 * ukl-meter: a QEMU TCG plugin that counts the guest's instructions exactly, split by region
 * of the image (app, glibc, the seam, kernel subsystems) and with counts of privilege-changing
 * events.  Built by scripts/meter.sh against the plugin header of the pinned QEMU source;
 * loaded by scripts/run.sh --meter, which runs TCG single-threaded (thread=single).
 *
 *   -plugin libukl-meter.so,map=MAP,out=OUT[,ctl=FIFO][,pcs=FILE]
 *
 * MAP (written by eval/meter/regions.py for one image) has lines
 *   region N NAME          an instruction region (N < MAXREG)
 *   event N NAME           an event counter (N < MAXEV): syscall sysret iretq swapgs are
 *                          recognised by their bytes; the others by "entry" lines
 *   range START END N      [START, END) is region N (hex, sorted, not overlapping)
 *   entry ADDR N           each execution of the instruction at ADDR counts event N
 *   default-user N         region of a user-half address outside every range
 *   default-kernel N       region of a kernel-half address outside every range
 *   mark KIND ADDR         KIND begin|end|flush: the guest's bracket (see below)
 *
 * Counting.  Every instruction gets an inline add to the counter of its region at translation
 * time, so a count is the number of instructions executed (an instruction that faults counts
 * once for each attempt).  The counters are shared by all vCPUs: single-threaded TCG runs the
 * vCPUs in turn on one host thread, so no add is lost.
 *
 * Windows.  When any vCPU executes the instruction at the "begin" mark, the window opens; at
 * "end" the instructions all vCPUs executed since are added to the window sum; at "flush" one
 * CSV row with the sum and the number of windows is written and the sum is reset, followed
 * by a row "quiet" that sums only the windows in which no vCPU took an interrupt (an event
 * named "interrupt"): a timer tick inside one call is real work, but not the call's.  Counting
 * every vCPU keeps what a call causes elsewhere (the process a pipe write wakes, a call that
 * blocks and resumes on another vCPU); the guest's idle vCPUs execute nothing while halted.  A line "snap LABEL" written to FIFO writes a row
 * with the totals of all vCPUs so far (eval/bench.sh brackets a load with two).  At exit a
 * row "exit" has the totals.
 *
 * OUT is CSV: kind,label,windows,<regions...>,<events...>
 *
 * pcs=FILE also counts, per instruction address, the executions inside windows (a callback
 * per instruction: slower), and writes "address count" lines to FILE at exit, for
 * eval/meter/pcs.py to fold into functions: where a window's instructions are.
 *
 * branches=FILE records, for the whole run, how often each translated block of kernel-half
 * code ran and how often each jump between two such blocks was taken (a callback per block),
 * and writes them at exit as llvm-profgen's unsymbolized profile (eval/pgo/): the count of
 * "START-LAST:N" lines (a block from START to its last instruction LAST ran N times), then the
 * count of "SOURCE->TARGET:N" lines (a branch at SOURCE went to TARGET N times), addresses in
 * hex.  This is what a sampling profiler reconstructs from LBR records, exact, and for every
 * block rather than a sample.  A block of the user half breaks the chain (no branch is
 * recorded into or out of it).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAXREG 16
#define MAXEV 8
#define NCNT (MAXREG + MAXEV)

enum { EV_SYSCALL, EV_SYSRET, EV_IRETQ, EV_SWAPGS };
static const char *const byte_events[] = { "syscall", "sysret", "iretq", "swapgs" };
enum mark { MARK_BEGIN = 1, MARK_END, MARK_FLUSH };

/* [start, end) is region (or, in entries, event) N */
struct range { uint64_t start, end; int region; };

static char *name[NCNT];
static struct range *ranges;
static size_t nranges;
static struct range *entries;	/* one-byte ranges: the instructions that count an event */
static size_t nentries;
static uint64_t mark_addr[4];
static int byte_event[4] = { -1, -1, -1, -1 };
static int def_user = -1, def_kernel = -1;

/* the inline adds' targets */
static uint64_t cnt[NCNT];
static uint64_t wstart[NCNT], wsum[NCNT], windows, qsum[NCNT], qwindows;
static int inwin;
static int intr = -1;		/* the counter of the event named "interrupt" */
static unsigned long flushes;

/* pcs=: executions per address inside windows (open addressing, linear probing) */
#define PCS_BITS 20
static struct { uint64_t pc, n; } *pcs;
static char *pcs_path;

static void pc_exec(unsigned int vcpu, void *udata)
{
	uint64_t pc = (uintptr_t)udata, h;

	(void)vcpu;
	if (!inwin)
		return;
	for (h = (pc * 0x9e3779b97f4a7c15ull) >> (64 - PCS_BITS);; h = (h + 1) & ((1 << PCS_BITS) - 1)) {
		if (pcs[h].pc == pc || !pcs[h].pc) {
			pcs[h].pc = pc;
			pcs[h].n++;
			return;
		}
	}
}

/* branches=: block and branch counts for llvm-profgen (single-threaded TCG: no lost add) */
#define MAXVCPU 64
#define BR_BITS 20
struct block { uint64_t start, last, end, n; struct block *next; };
static struct block *blocks, *prev_block[MAXVCPU];
static struct { uint64_t src, dst, n; } *brs;
static char *br_path;
static uint64_t br_used, br_dropped;

static void block_exec(unsigned int vcpu, void *udata)
{
	struct block *b = udata, *p;
	uint64_t h;

	if (vcpu >= MAXVCPU)
		return;
	if ((int64_t)b->start >= 0) {		/* the user half: no chain through it */
		prev_block[vcpu] = NULL;
		return;
	}
	b->n++;
	p = prev_block[vcpu];
	prev_block[vcpu] = b;
	if (!p || p->end == b->start)		/* a fall-through is no branch */
		return;
	for (h = ((p->last ^ (b->start * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull) >> (64 - BR_BITS);;
	     h = (h + 1) & ((1 << BR_BITS) - 1)) {
		if (brs[h].n && (brs[h].src != p->last || brs[h].dst != b->start))
			continue;
		if (!brs[h].n) {
			/* three quarters full: count what is lost instead of probing forever */
			if (br_used >= (3u << BR_BITS) / 4) {
				br_dropped++;
				return;
			}
			br_used++;
			brs[h].src = p->last;
			brs[h].dst = b->start;
		}
		brs[h].n++;
		return;
	}
}

static int write_branches(void);

static FILE *out;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static char *ctl_path;

static void fail(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "ukl-meter: ");
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), fmt, arg);
	strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
	qemu_plugin_outs(msg);
	fputs(msg, stderr);
}

static void write_row(const char *kind, const char *label, uint64_t nwin, const uint64_t *v)
{
	int i;

	pthread_mutex_lock(&out_lock);
	fprintf(out, "%s,%s,%" PRIu64, kind, label, nwin);
	for (i = 0; i < NCNT; i++)
		if (name[i])
			fprintf(out, ",%" PRIu64, v[i]);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&out_lock);
}

/* the counters, each read whole (the ctl thread reads while the TCG thread adds) */
static void snapshot(uint64_t *v)
{
	int i;

	for (i = 0; i < NCNT; i++)
		v[i] = __atomic_load_n(&cnt[i], __ATOMIC_RELAXED);
}

static void mark_exec(unsigned int vcpu, void *udata)
{
	enum mark kind = (enum mark)(uintptr_t)udata;
	char label[32];
	int i;

	(void)vcpu;
	switch (kind) {
	case MARK_BEGIN:
		memcpy(wstart, cnt, sizeof(wstart));
		inwin = 1;
		break;
	case MARK_END:
		if (!inwin)
			break;
		for (i = 0; i < NCNT; i++)
			wsum[i] += cnt[i] - wstart[i];
		windows++;
		if (intr < 0 || cnt[intr] == wstart[intr]) {
			for (i = 0; i < NCNT; i++)
				qsum[i] += cnt[i] - wstart[i];
			qwindows++;
		}
		inwin = 0;
		break;
	case MARK_FLUSH:
		snprintf(label, sizeof(label), "%lu", flushes++);
		write_row("flush", label, windows, wsum);
		write_row("quiet", label, qwindows, qsum);
		memset(wsum, 0, sizeof(wsum));
		memset(qsum, 0, sizeof(qsum));
		windows = qwindows = 0;
		break;
	}
}

static void *ctl_thread(void *arg)
{
	char line[256], *nl;
	uint64_t v[NCNT];
	FILE *f;
	int fd;

	(void)arg;
	/* read-write: the FIFO then never reports end-of-file between two writers */
	fd = open(ctl_path, O_RDWR);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		fail("cannot open the control FIFO %s", ctl_path);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strncmp(line, "snap ", 5) || strchr(line + 5, ',')) {
			fail("unknown control line '%s' (want: snap LABEL)", line);
			continue;
		}
		snapshot(v);
		write_row("snap", line + 5, 0, v);
	}
	return NULL;
}

/* the value of the range of R[0..N) holding PC, or -1 */
static int lookup(const struct range *r, size_t n, uint64_t pc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pc < r[mid].start)
			hi = mid;
		else if (pc >= r[mid].end)
			lo = mid + 1;
		else
			return r[mid].region;
	}
	return -1;
}

static int region_of(uint64_t pc)
{
	int r = lookup(ranges, nranges, pc);

	if (r >= 0)
		return r;
	return (int64_t)pc < 0 ? def_kernel : def_user;
}

/* syscall, sysret, iretq and swapgs by their bytes, after legacy and REX prefixes */
static int byte_event_of(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xf0 || p[i] == 0xf2 ||
			 p[i] == 0xf3 || p[i] == 0x2e || p[i] == 0x3e || p[i] == 0x26 ||
			 p[i] == 0x64 || p[i] == 0x65 || p[i] == 0x36 || (p[i] & 0xf0) == 0x40))
		i++;
	if (i < n && p[i] == 0xcf)
		return byte_event[EV_IRETQ];
	if (i + 1 < n && p[i] == 0x0f && p[i + 1] == 0x05)
		return byte_event[EV_SYSCALL];
	if (i + 1 < n && p[i] == 0x0f && p[i + 1] == 0x07)
		return byte_event[EV_SYSRET];
	if (i + 2 < n && p[i] == 0x0f && p[i + 1] == 0x01 && p[i + 2] == 0xf8)
		return byte_event[EV_SWAPGS];
	return -1;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	int k;

	(void)id;
	if (brs && n) {
		struct qemu_plugin_insn *last = qemu_plugin_tb_get_insn(tb, n - 1);
		struct block *b = calloc(1, sizeof(*b));

		if (b) {
			b->start = qemu_plugin_tb_vaddr(tb);
			b->last = qemu_plugin_insn_vaddr(last);
			b->end = b->last + qemu_plugin_insn_size(last);
			b->next = blocks;
			blocks = b;
			qemu_plugin_register_vcpu_tb_exec_cb(tb, block_exec, QEMU_PLUGIN_CB_NO_REGS, b);
		}
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t pc = qemu_plugin_insn_vaddr(insn);
		int r = region_of(pc), e;

		for (k = MARK_BEGIN; k <= MARK_FLUSH; k++)
			if (mark_addr[k] && pc == mark_addr[k])
				qemu_plugin_register_vcpu_insn_exec_cb(insn, mark_exec,
					QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)k);
		if (pcs)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, pc_exec, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)pc);
		if (r >= 0)
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
								   &cnt[r], 1);
		e = byte_event_of(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn));
		if (e < 0)
			e = lookup(entries, nentries, pc);
		if (e >= 0)
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
								   &cnt[MAXREG + e], 1);
	}
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	uint64_t v[NCNT];

	(void)id; (void)p;
	snapshot(v);
	write_row("exit", "total", 0, v);
	fclose(out);
	if (brs && write_branches())
		fail("cannot write %s", br_path);
	if (br_dropped) {
		char n[32];

		snprintf(n, sizeof(n), "%" PRIu64, br_dropped);
		fail("branches=: the branch table was full, %s branch executions not recorded", n);
	}
	if (pcs) {
		FILE *f = fopen(pcs_path, "w");
		size_t i;

		if (!f) {
			fail("cannot write %s", pcs_path);
			return;
		}
		for (i = 0; i < (1u << PCS_BITS); i++)
			if (pcs[i].pc)
				fprintf(f, "%" PRIx64 " %" PRIu64 "\n", pcs[i].pc, pcs[i].n);
		fclose(f);
	}
}

/* llvm-profgen's unsymbolized profile: blocks, then branches (see the top of this file) */
static int write_branches(void)
{
	FILE *f = fopen(br_path, "w");
	struct block *b;
	uint64_t nb = 0, nbr = 0;
	size_t i;

	if (!f)
		return -1;
	for (b = blocks; b; b = b->next)
		nb += b->n != 0;
	for (i = 0; i < (1u << BR_BITS); i++)
		nbr += brs[i].n != 0;
	fprintf(f, "%" PRIu64 "\n", nb);
	for (b = blocks; b; b = b->next)
		if (b->n)
			fprintf(f, "%" PRIx64 "-%" PRIx64 ":%" PRIu64 "\n", b->start, b->last, b->n);
	fprintf(f, "%" PRIu64 "\n", nbr);
	for (i = 0; i < (1u << BR_BITS); i++)
		if (brs[i].n)
			fprintf(f, "%" PRIx64 "->%" PRIx64 ":%" PRIu64 "\n", brs[i].src, brs[i].dst, brs[i].n);
	return fclose(f);
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int load_map(const char *path)
{
	char line[512], w1[64], w2[256];
	unsigned long long a, b;
	size_t cap_r = 0, cap_e = 0, i;
	int n, lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fail("cannot read the region map %s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "region %d %63s", &n, w1) == 2 && n >= 0 && n < MAXREG) {
			name[n] = strdup(w1);
		} else if (sscanf(line, "event %d %63s", &n, w1) == 2 && n >= 0 && n < MAXEV) {
			name[MAXREG + n] = strdup(w1);
			if (!strcmp(w1, "interrupt"))
				intr = MAXREG + n;
			for (i = 0; i < 4; i++)
				if (!strcmp(w1, byte_events[i]))
					byte_event[i] = n;
		} else if (sscanf(line, "range %llx %llx %d", &a, &b, &n) == 3 && n >= 0 && n < MAXREG) {
			if (nranges == cap_r)
				ranges = realloc(ranges, (cap_r = cap_r * 2 + 1024) * sizeof(*ranges));
			ranges[nranges++] = (struct range){ a, b, n };
		} else if (sscanf(line, "entry %llx %d", &a, &n) == 2 && n >= 0 && n < MAXEV) {
			if (nentries == cap_e)
				entries = realloc(entries, (cap_e = cap_e * 2 + 256) * sizeof(*entries));
			entries[nentries++] = (struct range){ a, a + 1, n };
		} else if (sscanf(line, "default-user %d", &n) == 1 && n >= 0 && n < MAXREG) {
			def_user = n;
		} else if (sscanf(line, "default-kernel %d", &n) == 1 && n >= 0 && n < MAXREG) {
			def_kernel = n;
		} else if (sscanf(line, "mark %63s %llx", w2, &a) == 2) {
			if (!strcmp(w2, "begin"))
				mark_addr[MARK_BEGIN] = a;
			else if (!strcmp(w2, "end"))
				mark_addr[MARK_END] = a;
			else if (!strcmp(w2, "flush"))
				mark_addr[MARK_FLUSH] = a;
			else
				goto bad;
		} else {
			goto bad;
		}
	}
	fclose(f);
	qsort(ranges, nranges, sizeof(*ranges), cmp_range);
	qsort(entries, nentries, sizeof(*entries), cmp_range);
	for (i = 1; i < nranges; i++)
		if (ranges[i].start < ranges[i - 1].end) {
			fail("overlapping ranges in %s", path);
			return -1;
		}
	for (i = 0; i < NCNT; i++)
		if (name[i] && strchr(name[i], ','))
			goto bad;
	if (def_user < 0 || def_kernel < 0 || !name[def_user] || !name[def_kernel]) {
		fail("%s lacks default-user/default-kernel regions", path);
		return -1;
	}
	for (i = 0; i < nranges; i++)
		if (!name[ranges[i].region]) {
			fail("%s: a range names an undeclared region", path);
			return -1;
		}
	return 0;
bad:
	snprintf(w2, sizeof(w2), "%s line %d", path, lineno);
	fail("cannot parse %s", w2);
	fclose(f);
	return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *map = NULL, *outp = NULL;
	pthread_t t;
	int i;

	if (strcmp(info->target_name, "x86_64")) {
		fail("built for x86_64 guests, not %s", info->target_name);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "map=", 4))
			map = argv[i] + 4;
		else if (!strncmp(argv[i], "out=", 4))
			outp = argv[i] + 4;
		else if (!strncmp(argv[i], "ctl=", 4))
			ctl_path = strdup(argv[i] + 4);
		else if (!strncmp(argv[i], "pcs=", 4))
			pcs_path = strdup(argv[i] + 4);
		else if (!strncmp(argv[i], "branches=", 9))
			br_path = strdup(argv[i] + 9);
		else {
			fail("unknown argument '%s' (want map=, out=, ctl=, pcs=, branches=)", argv[i]);
			return -1;
		}
	}
	if (!map || !outp) {
		fail("%s", "needs map=FILE and out=FILE");
		return -1;
	}
	if (load_map(map))
		return -1;
	if (pcs_path && !(pcs = calloc(1u << PCS_BITS, sizeof(*pcs)))) {
		fail("%s", "no memory for pcs=");
		return -1;
	}
	if (br_path && !(brs = calloc(1u << BR_BITS, sizeof(*brs)))) {
		fail("%s", "no memory for branches=");
		return -1;
	}
	out = fopen(outp, "w");
	if (!out) {
		fail("cannot write %s", outp);
		return -1;
	}
	fprintf(out, "kind,label,windows");
	for (i = 0; i < NCNT; i++)
		if (name[i])
			fprintf(out, ",%s", name[i]);
	fputc('\n', out);
	fflush(out);
	if (ctl_path && pthread_create(&t, NULL, ctl_thread, NULL) == 0)
		pthread_detach(t);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
