/*
 * portmatrix connect prober: non-blocking TCP connect() + epoll on native worker threads, so the
 * kernel work of a connect scan (a SYN out, the target's answer in, both run in the caller's
 * system calls on a veth or loopback path) spreads over the machine's cores while the JavaScript
 * thread only keeps the books. Only public APIs: Node-API, libuv (uv_async) and pthreads. The
 * scan logic (timeouts, retries, classification) stays in TypeScript; this file only opens
 * sockets and reports how each connect ended.
 *
 * Slot s belongs to worker s % workers; only that worker touches its socket. Each slot keeps
 * one socket for the whole scan: after an outcome, connect(AF_UNSPEC) dissolves the association
 * (an RST for a completed handshake, nothing for a SYN in flight) and the same socket connects
 * to the next port, which saves socket()/close() and the epoll add/remove per probe. Sockets are
 * registered edge-triggered once; the event mask tells a finished connect from a stale wakeup.
 *
 * JavaScript submits a batch of commands (slot, port, ticket; port 0 aborts the slot's probe if
 * its ticket matches) written into its Int32Array, one call per batch. Workers publish outcome
 * records, 6 int32 each, copied into the caller's results Int32Array on the JavaScript thread:
 *   slot, code, rtt (microseconds), icmp type (-1: none), icmp code (-1: none), ticket
 * code: 0 connected, -1 self-connect (local address:port == remote), >0 errno.
 * When a worker sends a slot's SYN it writes the time (the caller's performance.now() clock) and
 * the ticket into two per-slot arrays, so that a timeout runs from the SYN and not from the
 * moment JavaScript queued the command (a busy machine can hold a worker back for a while).
 *
 * Lifetime, and the hand-over to JavaScript: prober_common.h.
 */
#define _GNU_SOURCE
#include "prober_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CODE_CONNECTED 0
#define CODE_SELF_CONNECT (-1)
#define MAX_WORKERS 8
#define EVENTS_PER_WAIT 1024
#define WAKE_TOKEN UINT32_MAX

typedef struct {
  int fd; /* -1 until first used */
  int in_flight;
  uint16_t port;
  int32_t ticket;
  uint64_t started_ns;
} slot_t;

typedef struct prober prober_t;

typedef struct {
  struct prober *prober;
  uint32_t index;
  pthread_t thread;
  int started;
  int epoll_fd;
  int wake_fd;
  /* Guarded by prober->base.lock. */
  int_buffer_t commands;
  int stop;
  uint64_t drain_requested;
  uint64_t drain_served;
} worker_t;

typedef struct prober {
  prober_base_t base;
  struct sockaddr_storage target;
  socklen_t target_length;
  int family;
  slot_t *slots;
  worker_t workers[MAX_WORKERS];
  uint32_t worker_count;
} prober_t;

/* Reads the ICMP type/code that ended a connect, when the kernel queued one (IP_RECVERR). */
static void read_icmp(int fd, int family, int32_t *type, int32_t *code) {
  char control[512];
  char data[64];
  struct iovec iov = {data, sizeof data};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  *type = -1;
  *code = -1;
  if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    int v4 = family == 4 && cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_RECVERR;
    int v6 = family == 6 && cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    struct sock_extended_err *ee = (struct sock_extended_err *)CMSG_DATA(cmsg);
    if (ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
      *type = ee->ee_type;
      *code = ee->ee_code;
    }
    return;
  }
}

static int is_self_connect(prober_t *prober, int fd, uint16_t port) {
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &length) != 0) return 0;
  if (prober->family == 4) {
    struct sockaddr_in *l = (struct sockaddr_in *)&local;
    struct sockaddr_in *r = (struct sockaddr_in *)&prober->target;
    return ntohs(l->sin_port) == port && l->sin_addr.s_addr == r->sin_addr.s_addr;
  }
  struct sockaddr_in6 *l = (struct sockaddr_in6 *)&local;
  struct sockaddr_in6 *r = (struct sockaddr_in6 *)&prober->target;
  return ntohs(l->sin6_port) == port && memcmp(&l->sin6_addr, &r->sin6_addr, sizeof r->sin6_addr) == 0;
}

/* Dissolves the association so the socket can connect again: an RST for a completed
   handshake (the service sees an abort, nothing half-open is left), nothing for a SYN in flight. */
static void disconnect_socket(int fd) {
  struct sockaddr unspec;
  memset(&unspec, 0, sizeof unspec);
  unspec.sa_family = AF_UNSPEC;
  connect(fd, &unspec, sizeof unspec);
}

static void record_outcome(int_buffer_t *out, uint32_t slot_index, slot_t *slot, int32_t code, int32_t icmp_type, int32_t icmp_code) {
  write_record(out, slot_index, code, (int64_t)((now_ns() - slot->started_ns) / 1000ull), icmp_type, icmp_code, slot->ticket);
}

/* Records the outcome when the connect on this slot has finished; nothing for a stale wakeup. */
static void finish_slot(prober_t *prober, uint32_t slot_index, uint32_t events, int_buffer_t *out) {
  slot_t *slot = &prober->slots[slot_index];
  int fd = slot->fd;
  int failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
  if (!failed && !(events & EPOLLOUT)) return;
  int error = 0;
  socklen_t length = sizeof error;
  int32_t icmp_type = -1, icmp_code = -1;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (failed && error == 0) error = ECONNABORTED;
  int32_t code;
  if (error == 0) {
    code = is_self_connect(prober, fd, slot->port) ? CODE_SELF_CONNECT : CODE_CONNECTED;
  } else {
    code = error;
    if (error == EHOSTUNREACH || error == ENETUNREACH || error == EACCES || error == EPERM ||
        error == ENOPROTOOPT || error == EHOSTDOWN || error == ENONET || error == ECONNREFUSED) {
      read_icmp(fd, prober->family, &icmp_type, &icmp_code);
    }
  }
  record_outcome(out, slot_index, slot, code, icmp_type, icmp_code);
  disconnect_socket(fd);
  slot->in_flight = 0;
}

/* Opens the slot's socket on first use and registers it with its worker's epoll (edge-triggered). */
static int open_slot_socket(prober_t *prober, worker_t *worker, uint32_t slot_index) {
  int fd = socket(prober->family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int on = 1;
  /* The kernel queues the ICMP error that ended a connect: its type/code give the exact reason. */
  if (prober->family == 4) setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
  else setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  struct epoll_event event;
  event.events = EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLET;
  event.data.u64 = 0;
  event.data.u32 = slot_index;
  if (epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    int error = errno;
    close(fd);
    return error;
  }
  prober->slots[slot_index].fd = fd;
  return 0;
}

static void start_connect(prober_t *prober, worker_t *worker, uint32_t slot_index, uint16_t port, int32_t ticket, int_buffer_t *out) {
  slot_t *slot = &prober->slots[slot_index];
  slot->port = port;
  slot->ticket = ticket;
  slot->started_ns = now_ns();
  stamp_sent(&prober->base, slot_index, ticket, slot->started_ns);
  int32_t code = slot->fd < 0 ? open_slot_socket(prober, worker, slot_index) : 0;
  if (code == 0) {
    struct sockaddr_storage target = prober->target;
    if (prober->family == 4) ((struct sockaddr_in *)&target)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)&target)->sin6_port = htons(port);
    if (connect(slot->fd, (struct sockaddr *)&target, prober->target_length) == 0) {
      code = is_self_connect(prober, slot->fd, port) ? CODE_SELF_CONNECT : CODE_CONNECTED;
      disconnect_socket(slot->fd);
    } else if (errno == EINPROGRESS) {
      slot->in_flight = 1;
      return;
    } else {
      code = errno;
      disconnect_socket(slot->fd);
    }
  }
  record_outcome(out, slot_index, slot, code, -1, -1);
}

static void run_commands(prober_t *prober, worker_t *worker, const int_buffer_t *commands, int_buffer_t *out) {
  for (size_t at = 0; at + COMMAND_INTS <= commands->count; at += COMMAND_INTS) {
    uint32_t slot_index = (uint32_t)commands->items[at];
    uint32_t port = (uint32_t)commands->items[at + 1];
    int32_t ticket = commands->items[at + 2];
    slot_t *slot = &prober->slots[slot_index];
    if (port == 0) {
      /* A timed-out probe: give it up; the socket stays for the next one. */
      if (slot->in_flight && slot->ticket == ticket) {
        disconnect_socket(slot->fd);
        slot->in_flight = 0;
      }
    } else if (!slot->in_flight) {
      start_connect(prober, worker, slot_index, (uint16_t)port, ticket, out);
    }
  }
}

static void *run_worker(void *argument) {
  worker_t *worker = (worker_t *)argument;
  prober_t *prober = worker->prober;
  struct epoll_event events[EVENTS_PER_WAIT];
  int_buffer_t commands = {0}, out = {0};
  for (;;) {
    int ready = epoll_wait(worker->epoll_fd, events, EVENTS_PER_WAIT, -1);
    if (ready < 0 && errno != EINTR) break;
    pthread_mutex_lock(&prober->base.lock);
    int stop = worker->stop;
    uint64_t drain_request = worker->drain_requested;
    buffer_swap(&commands, &worker->commands);
    worker->commands.count = 0;
    pthread_mutex_unlock(&prober->base.lock);
    if (stop) break;
    for (int i = 0; i < ready; i++) {
      uint32_t slot_index = events[i].data.u32;
      if (slot_index == WAKE_TOKEN) {
        uint64_t count;
        if (read(worker->wake_fd, &count, sizeof count) < 0) { /* nothing to read: fine */ }
      } else if (slot_index < prober->base.slot_count && prober->slots[slot_index].in_flight) {
        finish_slot(prober, slot_index, events[i].events, &out);
      }
    }
    run_commands(prober, worker, &commands, &out);
    publish(&prober->base, &out, drain_request, &worker->drain_served);
  }
  free(commands.items);
  free(out.items);
  return NULL;
}

static void wake(worker_t *worker) { signal_eventfd(worker->wake_fd); }

/* Joins the workers and closes every fd: the connect prober's part of release(), at any stage. */
static void stop_prober(prober_base_t *base) {
  prober_t *prober = (prober_t *)base;
  pthread_mutex_lock(&base->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) prober->workers[i].stop = 1;
  pthread_mutex_unlock(&base->lock);
  for (uint32_t i = 0; i < MAX_WORKERS; i++) {
    worker_t *worker = &prober->workers[i];
    if (worker->started) {
      wake(worker);
      pthread_join(worker->thread, NULL);
      worker->started = 0;
    }
    if (worker->epoll_fd >= 0) close(worker->epoll_fd);
    if (worker->wake_fd >= 0) close(worker->wake_fd);
    worker->epoll_fd = worker->wake_fd = -1;
    free(worker->commands.items);
    worker->commands.items = NULL;
  }
  for (uint32_t i = 0; prober->slots && i < base->slot_count; i++) {
    if (prober->slots[i].fd >= 0) {
      if (prober->slots[i].in_flight) disconnect_socket(prober->slots[i].fd);
      close(prober->slots[i].fd);
    }
    prober->slots[i].fd = -1;
  }
}

static void dispose_prober(prober_base_t *base) {
  prober_t *prober = (prober_t *)base;
  free(prober->slots);
  free(prober);
}

static const prober_kind_t CONNECT_PROBER = {
    "connect prober", {0x706f72746d617472ull, 0x636f6e6e65637401ull}, stop_prober, dispose_prober};

/* One epoll and one eventfd per worker, the eventfd registered with the epoll. 0 or an errno. */
static int open_workers(prober_t *prober) {
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    worker_t *worker = &prober->workers[i];
    worker->prober = prober;
    worker->index = i;
    worker->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (worker->epoll_fd < 0) return errno;
    worker->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (worker->wake_fd < 0) return errno;
    struct epoll_event event;
    event.events = EPOLLIN;
    event.data.u64 = 0;
    event.data.u32 = WAKE_TOKEN;
    if (epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, worker->wake_fd, &event) != 0) return errno;
  }
  return 0;
}

/* createProber(address, family, slotCount, workerCount, results: Int32Array, commands: Int32Array,
   onResults(count), sentAt: Float64Array, sentTickets: Int32Array, nowMs) */
static napi_value create_prober(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 10) {
    napi_throw_type_error(env, NULL, "createProber(address, family, slotCount, workerCount, results, commands, onResults, sentAt, sentTickets, nowMs)");
    return NULL;
  }
  char address[64];
  size_t address_length = 0;
  int32_t family = 0;
  uint32_t slot_count = 0, worker_count = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length));
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_uint32(env, argv[2], &slot_count));
  CHECK(napi_get_value_uint32(env, argv[3], &worker_count));
  prober_arrays_t arrays;
  if (!read_arrays(env, argv + 4, slot_count, &arrays) || worker_count == 0 || worker_count > MAX_WORKERS) {
    napi_throw_type_error(env, NULL, "results and commands must be Int32Arrays of at least one record, sentAt and sentTickets one entry per slot; slotCount > 0; 1 <= workerCount <= 8");
    return NULL;
  }
  prober_t *prober = calloc(1, sizeof *prober);
  if (!prober) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  /* From here on every failure goes through release(), which gives back what exists so far. */
  base_init(&prober->base, &CONNECT_PROBER, env, &arrays, slot_count);
  for (uint32_t i = 0; i < MAX_WORKERS; i++) prober->workers[i].epoll_fd = prober->workers[i].wake_fd = -1;
  prober->family = family;
  if (!parse_address(address, family, &prober->target, &prober->target_length)) {
    release(&prober->base);
    napi_throw_type_error(env, NULL, "not an IPv4/IPv6 address literal");
    return NULL;
  }
  prober->worker_count = worker_count < slot_count ? worker_count : slot_count;
  prober->slots = calloc(slot_count, sizeof(slot_t));
  if (!prober->slots) return fail_start(&prober->base, ENOMEM, "allocate");
  for (uint32_t i = 0; i < slot_count; i++) prober->slots[i].fd = -1;
  int error = open_workers(prober);
  if (error) return fail_start(&prober->base, error, "open a worker");
  napi_value external;
  if ((error = base_start(&prober->base, &arrays, "portmatrix:connect-prober", &external))) return fail_start(&prober->base, error, "start");
  /* Threads last: nothing can fail after them but their own start. */
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    worker_t *worker = &prober->workers[i];
    if ((error = pthread_create(&worker->thread, NULL, run_worker, worker))) return fail_start(&prober->base, error, "pthread_create");
    worker->started = 1;
  }
  return external;
}

/* submit(prober, count): hands `count` commands (slot, port, ticket) from the commands array to
   the slots' workers; port 0 aborts the probe with that ticket. Outcomes arrive through onResults. */
static napi_value submit(napi_env env, napi_callback_info info) {
  uint32_t count = 0;
  prober_t *prober = (prober_t *)submit_call(env, info, &CONNECT_PROBER, &count);
  if (!prober) return NULL;
  uint32_t touched = 0;
  pthread_mutex_lock(&prober->base.lock);
  for (uint32_t i = 0; i < count; i++) {
    const int32_t *command = prober->base.command_input + (size_t)i * COMMAND_INTS;
    uint32_t owner = (uint32_t)command[0] % prober->worker_count;
    worker_t *worker = &prober->workers[owner];
    if (buffer_reserve(&worker->commands, COMMAND_INTS) != 0) continue; /* lost: the probe times out and is retried */
    memcpy(worker->commands.items + worker->commands.count, command, COMMAND_INTS * sizeof(int32_t));
    worker->commands.count += COMMAND_INTS;
    touched |= 1u << owner;
  }
  pthread_mutex_unlock(&prober->base.lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    if (touched & (1u << i)) wake(&prober->workers[i]);
  }
  return NULL;
}

/* drain(prober): every worker looks at its sockets once more, then finished connects are
   delivered now (before timeouts are judged). Waits at most DRAIN_WAIT_NS. */
static napi_value drain_now(napi_env env, napi_callback_info info) {
  prober_t *prober = (prober_t *)drain_call(env, info, &CONNECT_PROBER);
  if (!prober) return NULL; /* destroyed (an error is thrown), or called from its own onResults */
  uint64_t wanted[MAX_WORKERS];
  uint64_t *served[MAX_WORKERS];
  pthread_mutex_lock(&prober->base.lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    wanted[i] = ++prober->workers[i].drain_requested;
    served[i] = &prober->workers[i].drain_served;
  }
  pthread_mutex_unlock(&prober->base.lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) wake(&prober->workers[i]);
  wait_drained_and_deliver(&prober->base, served, wanted, prober->worker_count);
  return NULL;
}

static napi_value destroy(napi_env env, napi_callback_info info) { return destroy_call(env, info, &CONNECT_PROBER); }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"createProber", NULL, create_prober, NULL, NULL, NULL, napi_default, NULL},
      {"submit", NULL, submit, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, drain_now, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
