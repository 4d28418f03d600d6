/*
 * udpload: a UDP echo load generator for the datagram benchmark.
 *
 *   udpload HOST PORT [SECONDS=3] [SIZE=1024] [WINDOW=128] [WARMUP=1]
 *
 * Keeps WINDOW datagrams of SIZE bytes in flight to an echo server over one connected socket, replying to every
 * echo with a new datagram, and prints the echoes received per second over SECONDS (after WARMUP seconds):
 *
 *   udpload datagrams/s=123456 received=370368 seconds=3.000 size=1024 window=128 lost_windows=0
 *
 * It batches with recvmmsg/sendmmsg so that it costs much less per datagram than a server doing one system call per
 * datagram: the server, not the load generator, is what the number measures. A window lost to drops (no echo for
 * 200 ms) is refilled and counted in lost_windows.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int send_n(int fd, char *payload, int size, int n) {
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int sent = 0;
    while (sent < n) {
        int k = n - sent < BATCH ? n - sent : BATCH;
        memset(msgs, 0, sizeof(msgs[0]) * k);
        for (int i = 0; i < k; i++) {
            iov[i].iov_base = payload;
            iov[i].iov_len = size;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, msgs, k, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED) continue;
            perror("sendmmsg");
            exit(1);
        }
        sent += r;
    }
    return sent;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: udpload HOST PORT [SECONDS=3] [SIZE=1024] [WINDOW=128] [WARMUP=1]\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    double seconds = argc > 3 ? atof(argv[3]) : 3;
    int size = argc > 4 ? atoi(argv[4]) : 1024;
    int window = argc > 5 ? atoi(argv[5]) : 128;
    double warmup = argc > 6 ? atof(argv[6]) : 1;
    if (port <= 0 || port > 65535 || seconds <= 0 || size < 0 || size > 65507 || window < 1 || warmup < 0) {
        fprintf(stderr, "udpload: bad arguments (port 1-65535, seconds > 0, size 0-65507, window >= 1)\n");
        return 2;
    }

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int buf = 4 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    struct timeval tv = {0, 200 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "bad IPv4 address %s\n", host); return 2; }
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) { perror("connect"); return 1; }

    char *payload = calloc(1, size > 0 ? size : 1);
    static char rbuf[BATCH][65536];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];

    send_n(fd, payload, size, window);
    double start = now(), measure_from = start + warmup, end = measure_from + seconds;
    long received = 0, lost_windows = 0;
    int measuring = 0;
    for (;;) {
        double t = now();
        if (!measuring && t >= measure_from) { measuring = 1; received = 0; measure_from = t; end = t + seconds; }
        if (measuring && t >= end) break;
        memset(msgs, 0, sizeof msgs);
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = rbuf[i];
            iov[i].iov_len = sizeof rbuf[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) { /* the window was lost: refill it */
                lost_windows++;
                send_n(fd, payload, size, window);
                continue;
            }
            if (errno == EINTR || errno == ECONNREFUSED) continue;
            perror("recvmmsg");
            return 1;
        }
        received += r;
        send_n(fd, payload, size, r);
    }
    double took = now() - measure_from;
    printf("udpload datagrams/s=%.0f received=%ld seconds=%.3f size=%d window=%d lost_windows=%ld\n",
           received / took, received, took, size, window, lost_windows);
    fflush(stdout);
    return 0;
}
