/*
 * nfq-delayer: holds every packet of one NFQUEUE for delay +- jitter, then accepts it.
 *
 * Why: the kernels portmatrix is tested on have no sch_netem and no nftables `queue`, but
 * iptables(-legacy) NFQUEUE works. This is the userspace half: it speaks nfnetlink_queue over a
 * raw netlink socket (no libnetfilter_queue needed, only the kernel's UAPI headers), asks for
 * packet metadata only (the payload is never copied), keeps (release time, packet id) in a
 * binary min-heap and gives each verdict when a CLOCK_MONOTONIC timerfd fires. One thread,
 * epoll, verdicts batched into one sendmsg: it sustains well over 100k packets/s.
 *
 * Jitter is uniform in [-jitter, +jitter] (netem's default distribution); a packet is never
 * released before it arrived. Packets are released in release-time order, so jitter reorders
 * packets as netem does.
 *
 * Usage: nfq-delayer --queue N --delay-us D [--jitter-us J] [--seed S]
 * Prints "ready" on stdout once bound; on SIGTERM/SIGINT prints counters on stderr and exits
 * (the kernel drops what is still held when the queue is unbound).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

#define RECV_BUFFER_BYTES (1 << 20)
#define SEND_BUFFER_BYTES (1 << 16)
#define SOCKET_BUFFER_BYTES (64 << 20)
#define QUEUE_MAXLEN 262144u

struct held {
  uint64_t release_ns;
  uint32_t id;
};

static struct held *heap;
static size_t heap_len, heap_cap;
static uint16_t queue_num;
static uint64_t delay_ns, jitter_ns;
static uint64_t rng_state;
static uint64_t count_in, count_out, count_send_errors, max_held;
static int nl_fd;
static uint32_t nl_seq;
static char send_buffer[SEND_BUFFER_BYTES];
static size_t send_len;

static void die(const char *what) {
  fprintf(stderr, "nfq-delayer: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast, good enough for jitter. */
static uint64_t next_random(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

static void heap_push(uint64_t release_ns, uint32_t id) {
  if (heap_len == heap_cap) {
    heap_cap = heap_cap ? heap_cap * 2 : 65536;
    heap = realloc(heap, heap_cap * sizeof *heap);
    if (!heap) die("realloc");
  }
  size_t i = heap_len++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap[parent].release_ns <= release_ns) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i].release_ns = release_ns;
  heap[i].id = id;
  if (heap_len > max_held) max_held = heap_len;
}

static struct held heap_pop(void) {
  struct held top = heap[0];
  struct held last = heap[--heap_len];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= heap_len) break;
    if (child + 1 < heap_len && heap[child + 1].release_ns < heap[child].release_ns) child++;
    if (heap[child].release_ns >= last.release_ns) break;
    heap[i] = heap[child];
    i = child;
  }
  if (heap_len > 0) heap[i] = last;
  return top;
}

/* Appends one nfnetlink message (header + nfgenmsg) to buf; returns its start for attributes. */
static struct nlmsghdr *put_header(char *buf, size_t *len, uint16_t type, uint16_t flags) {
  struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + *len);
  memset(nlh, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
  nlh->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
  nlh->nlmsg_type = (uint16_t)((NFNL_SUBSYS_QUEUE << 8) | type);
  nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = ++nl_seq;
  struct nfgenmsg *nfg = (struct nfgenmsg *)NLMSG_DATA(nlh);
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(queue_num);
  return nlh;
}

static void put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t size) {
  struct nlattr *attr = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
  attr->nla_type = type;
  attr->nla_len = (uint16_t)(NLA_HDRLEN + size);
  memcpy((char *)attr + NLA_HDRLEN, data, size);
  nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(attr->nla_len);
}

/* Sends one configuration message and waits for the kernel's acknowledgement. */
static void configure(void (*fill)(struct nlmsghdr *), uint16_t type, const char *what) {
  char buf[256], reply[4096];
  size_t len = 0;
  struct nlmsghdr *nlh = put_header(buf, &len, type, NLM_F_ACK);
  fill(nlh);
  if (send(nl_fd, buf, nlh->nlmsg_len, 0) < 0) die(what);
  for (;;) {
    ssize_t got = recv(nl_fd, reply, sizeof reply, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      die(what);
    }
    for (struct nlmsghdr *r = (struct nlmsghdr *)reply; NLMSG_OK(r, (size_t)got); r = NLMSG_NEXT(r, got)) {
      if (r->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *err = (struct nlmsgerr *)NLMSG_DATA(r);
        if (err->error != 0) {
          errno = -err->error;
          die(what);
        }
        return;
      }
    }
  }
}

static void fill_bind(struct nlmsghdr *nlh) {
  struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
  put_attr(nlh, NFQA_CFG_CMD, &cmd, sizeof cmd);
}

static void fill_params(struct nlmsghdr *nlh) {
  struct nfqnl_msg_config_params params = {.copy_range = htonl(0), .copy_mode = NFQNL_COPY_META};
  put_attr(nlh, NFQA_CFG_PARAMS, &params, sizeof params);
  uint32_t maxlen = htonl(QUEUE_MAXLEN);
  put_attr(nlh, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
}

static void flush_verdicts(void) {
  if (send_len == 0) return;
  for (;;) {
    if (send(nl_fd, send_buffer, send_len, 0) >= 0) break;
    if (errno == EINTR) continue;
    count_send_errors++;
    break;
  }
  send_len = 0;
}

static void queue_verdict(uint32_t id) {
  size_t needed = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) + NLA_ALIGN(NLA_HDRLEN + sizeof(struct nfqnl_msg_verdict_hdr));
  if (send_len + needed > sizeof send_buffer) flush_verdicts();
  struct nlmsghdr *nlh = put_header(send_buffer, &send_len, NFQNL_MSG_VERDICT, 0);
  struct nfqnl_msg_verdict_hdr verdict = {.verdict = htonl(NF_ACCEPT), .id = htonl(id)};
  put_attr(nlh, NFQA_VERDICT_HDR, &verdict, sizeof verdict);
  send_len += nlh->nlmsg_len;
  count_out++;
}

static void release_due(int timer_fd) {
  uint64_t now = now_ns();
  while (heap_len > 0 && heap[0].release_ns <= now) queue_verdict(heap_pop().id);
  flush_verdicts();
  struct itimerspec spec;
  memset(&spec, 0, sizeof spec);
  if (heap_len > 0) {
    spec.it_value.tv_sec = (time_t)(heap[0].release_ns / 1000000000ull);
    spec.it_value.tv_nsec = (long)(heap[0].release_ns % 1000000000ull);
  }
  /* Zero disarms the timer when nothing is held. */
  if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL) < 0) die("timerfd_settime");
}

static uint64_t draw_delay(void) {
  if (jitter_ns == 0) return delay_ns;
  int64_t offset = (int64_t)(next_random() % (2 * jitter_ns + 1)) - (int64_t)jitter_ns;
  int64_t value = (int64_t)delay_ns + offset;
  return value > 0 ? (uint64_t)value : 0;
}

static void receive_packets(char *buf) {
  for (;;) {
    ssize_t got = recv(nl_fd, buf, RECV_BUFFER_BYTES, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR || errno == ENOBUFS) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      die("recv");
    }
    uint64_t arrived = now_ns();
    for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)got); nlh = NLMSG_NEXT(nlh, got)) {
      if ((nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET || (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE) continue;
      char *attrs = (char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
      int remaining = (int)nlh->nlmsg_len - (int)(attrs - (char *)nlh);
      for (struct nlattr *attr = (struct nlattr *)attrs; remaining >= (int)NLA_HDRLEN && attr->nla_len >= NLA_HDRLEN && attr->nla_len <= remaining;
           remaining -= NLA_ALIGN(attr->nla_len), attr = (struct nlattr *)((char *)attr + NLA_ALIGN(attr->nla_len))) {
        if ((attr->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR) continue;
        struct nfqnl_msg_packet_hdr *hdr = (struct nfqnl_msg_packet_hdr *)((char *)attr + NLA_HDRLEN);
        heap_push(arrived + draw_delay(), ntohl(hdr->packet_id));
        count_in++;
        break;
      }
    }
  }
}

int main(int argc, char **argv) {
  long queue = -1;
  double delay_us = -1, jitter_us = 0;
  rng_state = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--queue")) queue = strtol(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--delay-us")) delay_us = strtod(argv[i + 1], NULL);
    else if (!strcmp(argv[i], "--jitter-us")) jitter_us = strtod(argv[i + 1], NULL);
    else if (!strcmp(argv[i], "--seed")) rng_state = strtoull(argv[i + 1], NULL, 10) | 1;
    else {
      fprintf(stderr, "nfq-delayer: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (queue < 0 || queue > 65535 || delay_us < 0 || jitter_us < 0) {
    fprintf(stderr, "usage: nfq-delayer --queue N --delay-us D [--jitter-us J] [--seed S]\n");
    return 2;
  }
  if (rng_state == 0) rng_state = 88172645463325252ull;
  queue_num = (uint16_t)queue;
  delay_ns = (uint64_t)(delay_us * 1000.0);
  jitter_ns = (uint64_t)(jitter_us * 1000.0);

  /* A link delays packets on time whatever else runs. At normal priority, on a machine with CPU
   * hogs, the timerfd wakeups come late and add delay nobody asked for; SCHED_FIFO puts these
   * short wakeups first (the kernel's RT throttling still caps it at 95 % of a CPU). Without
   * CAP_SYS_NICE it stays at normal priority. */
  struct sched_param priority = {.sched_priority = 10};
  if (sched_setscheduler(0, SCHED_FIFO, &priority) < 0) fprintf(stderr, "nfq-delayer: normal priority (%s)\n", strerror(errno));

  nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (nl_fd < 0) die("socket(NETLINK_NETFILTER)");
  int size = SOCKET_BUFFER_BYTES, one = 1;
  /* FORCE needs CAP_NET_ADMIN, which binding a queue needs anyway; fall back quietly. */
  if (setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(nl_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  setsockopt(nl_fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(nl_fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind");

  configure(fill_bind, NFQNL_MSG_CONFIG, "bind queue");
  configure(fill_params, NFQNL_MSG_CONFIG, "set copy mode");

  int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd < 0) die("timerfd_create");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  sigprocmask(SIG_BLOCK, &signals, NULL);
  int signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) die("signalfd");

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event event = {.events = EPOLLIN};
  event.data.fd = nl_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, nl_fd, &event);
  event.data.fd = timer_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &event);
  event.data.fd = signal_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &event);

  char *buf = malloc(RECV_BUFFER_BYTES);
  if (!buf) die("malloc");
  printf("ready\n");
  fflush(stdout);

  for (;;) {
    struct epoll_event events[4];
    int ready = epoll_wait(epoll_fd, events, 4, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    int stop = 0;
    for (int i = 0; i < ready; i++) {
      int fd = events[i].data.fd;
      if (fd == nl_fd) receive_packets(buf);
      else if (fd == timer_fd) {
        uint64_t expirations;
        if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("read timerfd");
      } else if (fd == signal_fd) {
        struct signalfd_siginfo info;
        if (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info && info.ssi_signo != SIGUSR1) stop = 1;
        fprintf(stderr, "nfq-delayer: queued %llu released %llu held %zu max-held %llu send-errors %llu\n",
                (unsigned long long)count_in, (unsigned long long)count_out, heap_len,
                (unsigned long long)max_held, (unsigned long long)count_send_errors);
      }
    }
    if (stop) return 0;
    release_due(timer_fd);
  }
}
