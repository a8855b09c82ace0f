/*
 * noop: the command of Kwarm's pull containers.
 *
 *   noop                 exit 0 at once (any arguments other than "install" too)
 *   noop install DEST    copy this executable to DEST with mode 0755, exit 0
 *
 * A pull pod runs the target image with `command: [/kwarm/noop]`, so the image is
 * pulled and started but none of its own code runs, and images without a shell or
 * libc (distroless, scratch) work. That is why this file uses no libc at all: it is
 * linked with -nostdlib -static, talks to the kernel through raw syscalls, and the
 * resulting ELF has no interpreter and no dynamic section. See README.md.
 *
 * Exit codes: 0 success, 1 the copy failed, 2 usage error. Every failure writes
 * exactly one line to stderr.
 */

typedef unsigned long size_t;
typedef long ssize_t;

#define AT_FDCWD   (-100)
#define O_RDONLY   0
#define O_WRONLY   01
#define O_CREAT    0100
#define O_TRUNC    01000
#define O_CLOEXEC  02000000
#define EINTR      4
#define EXEC_MODE  0755

#if defined(__x86_64__)
#define SYS_read       0
#define SYS_write      1
#define SYS_close      3
#define SYS_fchmod     91
#define SYS_exit_group 231
#define SYS_openat     257

/* The kernel enters with argc at (%rsp); hand that address to entry() with a 16-byte aligned stack. */
__asm__(
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  xor %rbp, %rbp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call entry\n"
    "  hlt\n");

static long syscall4(long n, long a, long b, long c, long d)
{
    register long r10 __asm__("r10") = d;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

#elif defined(__aarch64__)
#define SYS_openat     56
#define SYS_close      57
#define SYS_read       63
#define SYS_write      64
#define SYS_fchmod     52
#define SYS_exit_group 94

/* The kernel enters with argc at [sp], already 16-byte aligned. */
__asm__(
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, sp\n"
    "  bl entry\n"
    "  brk #0\n");

static long syscall4(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3)
                     : "memory");
    return x0;
}

#else
#error "noop supports linux amd64 and arm64 only"
#endif

__attribute__((noreturn)) static void exit_process(int code)
{
    for (;;)
        syscall4(SYS_exit_group, code, 0, 0, 0);
}

static int same(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Writes all of buf; returns 0, or a negative errno. */
static long write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        long w = syscall4(SYS_write, fd, (long)buf, (long)n, 0);
        if (w == -EINTR)
            continue;
        if (w < 0)
            return w;
        if (w == 0)
            return -5; /* EIO: a write that makes no progress would otherwise loop forever. */
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The errors a platform engineer is likely to meet here get their name; the rest their number. */
static const char *error_name(long err)
{
    switch (err) {
    case 1: return "operation not permitted";
    case 2: return "no such file or directory";
    case 5: return "input/output error";
    case 13: return "permission denied";
    case 17: return "file exists";
    case 20: return "not a directory";
    case 21: return "is a directory";
    case 26: return "text file busy";
    case 28: return "no space left on device";
    case 30: return "read-only file system";
    case 122: return "disk quota exceeded";
    default: return 0;
    }
}

__attribute__((noreturn)) static void fail(const char *what, const char *path, long err)
{
    char line[512];
    size_t n = 0;
    const char *parts[4];
    char number[24];
    const char *name = error_name(err);

    if (name == 0) {
        /* "errno N", written right to left. */
        char *p = number + sizeof(number);
        unsigned long v = (unsigned long)err;
        *--p = '\0';
        do {
            *--p = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        *--p = ' ';
        *--p = 'o';
        *--p = 'n';
        *--p = 'r';
        *--p = 'r';
        *--p = 'e';
        name = p;
    }

    parts[0] = what;
    parts[1] = path;
    parts[2] = ": ";
    parts[3] = name;
    /* A newline inside DEST must not split the message into two lines. */
    for (int i = 0; i < 4; i++)
        for (const char *s = parts[i]; *s != '\0' && n < sizeof(line) - 1; s++)
            line[n++] = *s == '\n' ? '?' : *s;
    line[n++] = '\n';
    write_all(2, line, n);
    exit_process(1);
}

static void install(const char *dest)
{
    static char buf[65536];
    const char *self = "/proc/self/exe";
    long src = syscall4(SYS_openat, AT_FDCWD, (long)self, O_RDONLY | O_CLOEXEC, 0);
    if (src < 0)
        fail("noop: install: cannot open ", self, -src);

    long dst = syscall4(SYS_openat, AT_FDCWD, (long)dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, EXEC_MODE);
    if (dst < 0)
        fail("noop: install: cannot create ", dest, -dst);

    /* The creation mode is filtered by the umask and ignored for an existing file. */
    long err = syscall4(SYS_fchmod, dst, EXEC_MODE, 0, 0);
    if (err < 0)
        fail("noop: install: cannot chmod ", dest, -err);

    for (;;) {
        long r = syscall4(SYS_read, src, (long)buf, sizeof(buf), 0);
        if (r == -EINTR)
            continue;
        if (r < 0)
            fail("noop: install: cannot read ", self, -r);
        if (r == 0)
            break;
        err = write_all((int)dst, buf, (size_t)r);
        if (err < 0)
            fail("noop: install: cannot write ", dest, -err);
    }

    /* A failed close can be the first report of a lost write. */
    err = syscall4(SYS_close, dst, 0, 0, 0);
    if (err < 0)
        fail("noop: install: cannot write ", dest, -err);
}

__attribute__((noreturn, used)) void entry(long *stack)
{
    long argc = stack[0];
    char **argv = (char **)(stack + 1);

    if (argc < 2 || !same(argv[1], "install"))
        exit_process(0);

    if (argc != 3 || argv[2][0] == '\0') {
        static const char usage[] = "usage: noop [install DEST]\n";
        write_all(2, usage, sizeof(usage) - 1);
        exit_process(2);
    }

    install(argv[2]);
    exit_process(0);
}
