/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: pthreads, mutexes, condition variables, atomics and
 * thread-local storage; prints the same totals under any emulator. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define N 8
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long total;
static atomic_long counter;
static int ready;
static __thread int tls_val;

static void *worker(void *arg)
{
    long id = (long)arg;
    tls_val = (int)id * 10;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        total += 1;
        pthread_mutex_unlock(&lock);
        atomic_fetch_add(&counter, 2);
    }
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return (void *)(long)(tls_val + 1);
}

int main(void)
{
    pthread_t th[N];
    long sum = 0;
    for (long i = 0; i < N; i++) {
        pthread_create(&th[i], NULL, worker, (void *)i);
    }
    pthread_mutex_lock(&lock);
    while (ready < N) {
        pthread_cond_wait(&cond, &lock);
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(th[i], &r);
        sum += (long)r;
    }
    printf("total=%ld counter=%ld sum=%ld\n", total, (long)counter, sum);
    return 0;
}
