/* A foreign registry writer forced into vmbar's write-back window.
 *
 * LD_PRELOAD shim for crates/vmbar-cli/tests/registry_race.rs (case 11 of
 * issue #9). vmbar's write-back re-reads registry.json, then swaps its new
 * version in with renameat2(RENAME_EXCHANGE) (nix -> glibc's renameat2, a
 * dynamic symbol, so this definition wins). The window is between the two:
 * this shim writes the other tool's version at the start of that call, before
 * the real exchange, exactly as the user's `vm` tool would if it saved the
 * file at that moment.
 *
 * Environment:
 *   SHIM_REGISTRY  the registry path vmbar exchanges onto (fires only for
 *                  RENAME_EXCHANGE calls whose new path is exactly this)
 *   SHIM_FOREIGN   the other tool's complete version; "FIRING" in it is
 *                  replaced by the firing's number (1, 2, ...)
 *   SHIM_MODE      inplace        open(O_WRONLY|O_TRUNC), write all, close
 *                  split-next     open(O_TRUNC), write the first 40 bytes;
 *                                 the rest at the next renameat2 call
 *                  split-exit     as split-next, the rest at process exit
 *                  truncate-exit  open(O_TRUNC) only; all bytes at exit
 *                  rename         write <registry>.shim-tmp, rename() it onto
 *                                 the registry (what `jq ... > t && mv t r` does)
 *   SHIM_TIMES     how many exchanges to fire on (default 1)
 *   SHIM_LOG       each firing appends one line "fired <mode> <n>" here
 *
 * A pending write stays on the descriptor the writer opened: it follows the
 * inode wherever vmbar's exchange moves it, as a real in-place writer does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int pending_fd = -1;
static char *pending_buf;
static size_t pending_off, pending_len;
static int firings;

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void complete_pending(void) {
    if (pending_fd < 0) return;
    write_all(pending_fd, pending_buf + pending_off, pending_len - pending_off);
    close(pending_fd);
    free(pending_buf);
    pending_fd = -1;
    pending_buf = NULL;
}

__attribute__((destructor)) static void at_exit(void) { complete_pending(); }

/* SHIM_FOREIGN with "FIRING" replaced by n. */
static char *foreign_version(int n, size_t *len) {
    const char *t = getenv("SHIM_FOREIGN");
    if (!t) t = "{}";
    const char *at = strstr(t, "FIRING");
    char num[16];
    snprintf(num, sizeof num, "%d", n);
    size_t tl = strlen(t), nl = strlen(num);
    char *out = malloc(tl + nl + 1);
    if (!out) abort();
    if (at) {
        size_t pre = (size_t)(at - t);
        memcpy(out, t, pre);
        memcpy(out + pre, num, nl);
        strcpy(out + pre + nl, at + 6);
    } else {
        strcpy(out, t);
    }
    *len = strlen(out);
    return out;
}

static void log_firing(const char *mode, int n) {
    const char *log = getenv("SHIM_LOG");
    if (!log) return;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    char line[128];
    int l = snprintf(line, sizeof line, "fired %s %d\n", mode, n);
    write_all(fd, line, (size_t)l);
    close(fd);
}

static void fire(const char *reg, const char *mode, int n) {
    size_t len;
    char *text = foreign_version(n, &len);
    if (strcmp(mode, "rename") == 0) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.shim-tmp", reg);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) abort();
        write_all(fd, text, len);
        close(fd);
        if (rename(tmp, reg) != 0) abort();
        free(text);
        return;
    }
    int fd = open(reg, O_WRONLY | O_TRUNC);
    if (fd < 0) abort();
    size_t now = 0;
    if (strcmp(mode, "inplace") == 0) now = len;
    else if (strcmp(mode, "split-next") == 0 || strcmp(mode, "split-exit") == 0) now = len < 40 ? len : 40;
    else if (strcmp(mode, "truncate-exit") == 0) now = 0;
    else abort();
    write_all(fd, text, now);
    if (now == len) {
        close(fd);
        free(text);
        return;
    }
    pending_fd = fd;
    pending_buf = text;
    pending_off = now;
    pending_len = len;
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    static int (*real)(int, const char *, int, const char *, unsigned int);
    if (!real) real = (int (*)(int, const char *, int, const char *, unsigned int))dlsym(RTLD_NEXT, "renameat2");
    const char *reg = getenv("SHIM_REGISTRY");
    const char *mode = getenv("SHIM_MODE");
    const char *times = getenv("SHIM_TIMES");
    int max = times ? atoi(times) : 1;
    if (pending_fd >= 0 && mode && strcmp(mode, "split-next") == 0) complete_pending();
    if (reg && mode && (flags & RENAME_EXCHANGE) && strcmp(newpath, reg) == 0 && firings < max && pending_fd < 0) {
        firings++;
        fire(reg, mode, firings);
        log_firing(mode, firings);
    }
    return real(olddirfd, oldpath, newdirfd, newpath, flags);
}
