#ifndef KAIROS_CEVENTPOLL_SHIM_H
#define KAIROS_CEVENTPOLL_SHIM_H
// Linux's epoll and eventfd, which Swift's Glibc module does not export, behind functions whose
// arguments Swift passes as plain integers: `struct epoll_event` is packed and holds a union.
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static const uint32_t kairos_epoll_readable = EPOLLIN | EPOLLRDHUP;
static const uint32_t kairos_epoll_writable = EPOLLOUT;
static const uint32_t kairos_epoll_broken = EPOLLHUP | EPOLLERR;

static inline int kairos_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

/// op is 0 to add, 1 to modify, 2 to delete; `token` comes back with the descriptor's events.
static inline int kairos_epoll_control(int epoll, int op, int fd, uint32_t events, uint64_t token) {
    static const int ops[] = {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL};
    struct epoll_event event = {.events = events, .data = {.u64 = token}};
    return epoll_ctl(epoll, ops[op], fd, &event);
}

/// Waits up to `timeout` ms (-1: no limit) for at most `capacity` (at most 256) events, each
/// written as its token and its event bits. Returns the count, or -1 with errno.
static inline int kairos_epoll_wait(int epoll, uint64_t *tokens, uint32_t *events, int capacity, int timeout) {
    struct epoll_event ready[256];
    int count = epoll_wait(epoll, ready, capacity < 256 ? capacity : 256, timeout);
    for (int i = 0; i < count; i++) {
        tokens[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return count;
}

static inline int kairos_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static inline void kairos_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t written = write(fd, &one, sizeof one);
    (void)written;  // a full counter (EAGAIN) is already signalled
}

static inline void kairos_eventfd_drain(int fd) {
    uint64_t count;
    ssize_t got = read(fd, &count, sizeof count);
    (void)got;
}
#endif
