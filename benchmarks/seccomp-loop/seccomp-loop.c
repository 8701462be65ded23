/*
 * seccomp-loop: how long one raw system call takes, with or without a seccomp filter loaded.
 *
 *   seccomp-loop [--filter FILE] [--call getppid|getrandom|personality] [--calls N] [--reps R]
 *
 * FILE is a BPF program as the kernel takes it (struct sock_filter[], 8 bytes each), as
 * SeccompPolicy.CompileToBytes() or libseccomp's seccomp_export_bpf() write it. no_new_privs is set in
 * every case (with or without a filter), then the filter, if any, is loaded with
 * seccomp(SECCOMP_SET_MODE_FILTER), then the call is made N times per repetition, R timed repetitions after
 * one untimed. Prints one line, "median_ns M min_ns A max_ns B", the nanoseconds per call of the
 * repetitions, then "reps_ns" and every repetition's figure.
 *
 * The calls: getppid(); getrandom(NULL, 0, 0), which returns 0 without touching anything; and
 * personality(0xffffffff), which only reads the persona. Each is checked once before the timing: a call the
 * filter refuses exits with status 3, so a refused call is never timed as if it ran.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum call { CALL_GETPPID, CALL_GETRANDOM, CALL_PERSONALITY };

static long make_call(enum call call)
{
	switch (call) {
	case CALL_GETRANDOM:
		return syscall(SYS_getrandom, NULL, 0, 0);
	case CALL_PERSONALITY:
		return syscall(SYS_personality, 0xffffffffUL);
	default:
		return syscall(SYS_getppid);
	}
}

static void load_filter(const char *path)
{
	FILE *file = fopen(path, "rb");
	if (!file) {
		fprintf(stderr, "seccomp-loop: cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	static struct sock_filter instructions[BPF_MAXINSNS + 1];
	size_t count = fread(instructions, sizeof instructions[0], BPF_MAXINSNS + 1, file);
	fclose(file);
	if (count == 0 || count > BPF_MAXINSNS) {
		fprintf(stderr, "seccomp-loop: %s holds %zu instructions; a filter has 1 to %d\n", path, count, BPF_MAXINSNS);
		exit(2);
	}
	struct sock_fprog program = { .len = (unsigned short)count, .filter = instructions };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
		fprintf(stderr, "seccomp-loop: seccomp(SECCOMP_SET_MODE_FILTER) of %s (%zu instructions) failed: %s\n",
			path, count, strerror(errno));
		exit(2);
	}
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	enum call call = CALL_GETPPID;
	long calls = 200000, reps = 7;
	for (int i = 1; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--filter") && value)
			filter = argv[++i];
		else if (!strcmp(argv[i], "--calls") && value)
			calls = atol(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && value)
			reps = atol(argv[++i]);
		else if (!strcmp(argv[i], "--call") && value) {
			i++;
			if (!strcmp(value, "getppid"))
				call = CALL_GETPPID;
			else if (!strcmp(value, "getrandom"))
				call = CALL_GETRANDOM;
			else if (!strcmp(value, "personality"))
				call = CALL_PERSONALITY;
			else {
				fprintf(stderr, "seccomp-loop: unknown call '%s' (getppid, getrandom, personality)\n", value);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: seccomp-loop [--filter FILE] [--call getppid|getrandom|personality] [--calls N] [--reps R]\n");
			return 2;
		}
	}
	if (calls < 1 || reps < 1 || reps > 1000) {
		fprintf(stderr, "seccomp-loop: --calls must be at least 1 and --reps 1 to 1000\n");
		return 2;
	}

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "seccomp-loop: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(errno));
		return 2;
	}
	if (filter)
		load_filter(filter);

	if (make_call(call) < 0) {
		fprintf(stderr, "seccomp-loop: the call failed under %s: %s\n", filter ? filter : "no filter", strerror(errno));
		return 3;
	}

	double per_call[1001];
	for (long r = 0; r <= reps; r++) {
		double start = now_ns();
		for (long i = 0; i < calls; i++)
			make_call(call);
		per_call[r] = (now_ns() - start) / (double)calls;
	}
	/* per_call[0] was the untimed warm-up. */
	double sorted[1000];
	memcpy(sorted, per_call + 1, (size_t)reps * sizeof sorted[0]);
	qsort(sorted, (size_t)reps, sizeof sorted[0], compare_doubles);
	double median = reps % 2 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
	printf("median_ns %.2f min_ns %.2f max_ns %.2f\nreps_ns", median, sorted[0], sorted[reps - 1]);
	for (long r = 1; r <= reps; r++)
		printf(" %.2f", per_call[r]);
	printf("\n");
	return 0;
}
