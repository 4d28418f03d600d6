/*
 * tls_echo_load.c - closed-loop TLS echo load client (OpenSSL, epoll, one thread).
 * Each of CONNS connections sends SIZE bytes, waits for all SIZE bytes to come back, repeats.
 * 1 s warm-up, then SECONDS measured. No certificate verification (benchmark only).
 *
 *   usage: tls_echo_load PORT CONNS SIZE SECONDS
 *   output: tls_echo conns=C size=S reqs_per_s=... MiB_per_s=... errors=...
 *   build:  gcc -O2 -o tls_echo_load tls_echo_load.c -lssl -lcrypto
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct { int fd; SSL *ssl; size_t sent, got; int dead; } conn_t;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s PORT CONNS SIZE SECONDS\n", argv[0]); return 2; }
    int port = atoi(argv[1]), n = atoi(argv[2]); size_t size = (size_t) atol(argv[3]); int secs = atoi(argv[4]);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    char *msg = malloc(size), *buf = malloc(size > 65536 ? size : 65536);
    memset(msg, 'x', size);
    conn_t *c = calloc(n, sizeof *c);
    int ep = epoll_create1(0), errors = 0;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    for (int i = 0; i < n; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1; setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c[i].fd, (struct sockaddr *) &a, sizeof a) < 0) { perror("connect"); return 1; }
        c[i].ssl = SSL_new(ctx); SSL_set_fd(c[i].ssl, c[i].fd);
        if (SSL_connect(c[i].ssl) != 1) { ERR_print_errors_fp(stderr); return 1; }
        fcntl(c[i].fd, F_SETFL, fcntl(c[i].fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = i };
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    long reqs = 0; int counting = 0;
    double start = now(), t0 = 0;
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        if (!counting && t - start >= 1.0) { counting = 1; reqs = 0; t0 = t; }
        if (counting && t - t0 >= secs) break;
        int k = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < k; e++) {
            conn_t *x = &c[evs[e].data.u32];
            if (x->dead) continue;
            for (;;) {
                if (x->sent < size) {
                    int w = SSL_write(x->ssl, msg + x->sent, (int) (size - x->sent));
                    if (w > 0) { x->sent += w; continue; }
                    int err = SSL_get_error(x->ssl, w);
                    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) break;
                    x->dead = 1; errors++; break;
                }
                int r = SSL_read(x->ssl, buf, 65536);
                if (r > 0) {
                    x->got += r;
                    if (x->got >= size) { if (x->got > size) { x->dead = 1; errors++; break; } x->got = 0; x->sent = 0; reqs++; }
                    continue;
                }
                int err = SSL_get_error(x->ssl, r);
                if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
                x->dead = 1; errors++; break;
            }
            struct epoll_event ev = { .events = x->sent < size ? EPOLLOUT | EPOLLIN : EPOLLIN, .data.u32 = evs[e].data.u32 };
            if (!x->dead) epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
        }
    }
    double took = now() - t0;
    printf("tls_echo conns=%d size=%zu reqs_per_s=%.0f MiB_per_s=%.1f errors=%d\n", n, size, reqs / took,
           reqs * (double) size / took / 1048576.0, errors);
    return 0;
}
