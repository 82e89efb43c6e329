/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: a TCP server and client over loopback in two threads,
 * socketpair with sendmsg/recvmsg, and a UDP datagram. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;
static int lfd;

static void *server(void *arg)
{
    (void)arg;
    int c = accept(lfd, NULL, NULL);
    char buf[64] = { 0 };
    int n = (int)recv(c, buf, sizeof(buf) - 1, 0);
    for (int i = 0; i < n; i++) {
        buf[i] = (char)(buf[i] - 32);
    }
    send(c, buf, (size_t)n, 0);
    close(c);
    return NULL;
}

int main(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    pthread_t th;
    char buf[64] = { 0 };
    int one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bind(lfd, (struct sockaddr *)&a, sizeof(a));
    listen(lfd, 1);
    getsockname(lfd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    pthread_create(&th, NULL, server, NULL);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    printf("connect=%d\n", connect(c, (struct sockaddr *)&a, sizeof(a)));
    send(c, "hello", 5, 0);
    recv(c, buf, sizeof(buf) - 1, MSG_WAITALL);
    printf("tcp reply=%s\n", buf);
    close(c);
    pthread_join(th, NULL);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
    printf("sendmsg=%zd\n", sendmsg(sv[0], &mh, 0));
    memset(buf, 0, sizeof(buf));
    struct iovec in = { buf, sizeof(buf) };
    struct msghdr mi = { .msg_iov = &in, .msg_iovlen = 1 };
    printf("recvmsg=%zd %s\n", recvmsg(sv[1], &mi, 0), buf);

    int u1 = socket(AF_INET, SOCK_DGRAM, 0),
        u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = { .sin_family = AF_INET };
    ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(u2, (struct sockaddr *)&ua, sizeof(ua));
    len = sizeof(ua);
    getsockname(u2, (struct sockaddr *)&ua, &len);
    sendto(u1, "dgram", 5, 0, (struct sockaddr *)&ua, sizeof(ua));
    memset(buf, 0, sizeof(buf));
    printf("udp=%zd %s\n", recvfrom(u2, buf, sizeof(buf), 0, NULL, NULL), buf);
    return 0;
}
