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
 * Lifetime: JavaScript holds an external that points to a small handle, never to the prober
 * itself. destroy() releases the prober and empties the handle, so a later call is a clean
 * E_DESTROYED error and not a use after free; the handle's finalizer releases a prober that was
 * never destroyed (threads joined, sockets and fds closed) when the object is collected. The
 * uv_async handle is unreferenced: a forgotten prober never keeps the process alive.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

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

#define RECORD_INTS 6
#define COMMAND_INTS 3
#define CODE_CONNECTED 0
#define CODE_SELF_CONNECT (-1)
#define MAX_WORKERS 8
#define EVENTS_PER_WAIT 1024
#define WAKE_TOKEN UINT32_MAX
/* drain() waits at most this long for the workers to look at their sockets once more: long
   enough for a starved worker to be scheduled on a loaded machine, short of a hang. */
#define DRAIN_WAIT_NS 2000000000ll

typedef struct {
  int fd; /* -1 until first used */
  int in_flight;
  uint16_t port;
  int32_t ticket;
  uint64_t started_ns;
} slot_t;

typedef struct {
  int32_t *items;
  size_t count;
  size_t capacity; /* in int32 */
} int_buffer_t;

struct prober;

typedef struct {
  struct prober *prober;
  uint32_t index;
  pthread_t thread;
  int started;
  int epoll_fd;
  int wake_fd;
  /* Guarded by prober->lock. */
  int_buffer_t commands;
  int stop;
  uint64_t drain_requested;
  uint64_t drain_served;
} worker_t;

typedef struct prober prober_t;

/* What the JavaScript external points to; outlives the prober until the external is collected. */
typedef struct {
  prober_t *prober; /* NULL after destroy() */
} handle_t;

typedef struct prober {
  napi_env env;
  handle_t *handle;
  napi_ref sent_at_ref;
  napi_ref sent_tickets_ref;
  double *sent_at;       /* the caller's Float64Array: when each slot's SYN went out (ms) */
  int32_t *sent_tickets; /* the caller's Int32Array: the ticket that sent_at belongs to */
  uint64_t clock_base_ns;
  double clock_base_ms;
  int async_initialized;
  napi_ref callback_ref;
  napi_ref results_ref;
  napi_ref commands_ref;
  napi_async_context async_context;
  int32_t *results;          /* the caller's Int32Array */
  uint32_t results_capacity; /* in records */
  int32_t *command_input;    /* the caller's Int32Array */
  uint32_t command_capacity; /* in commands */
  uv_async_t async;
  int destroyed;
  int delivering;
  int release_pending;
  struct sockaddr_storage target;
  socklen_t target_length;
  int family;
  slot_t *slots;
  uint32_t slot_count;
  worker_t workers[MAX_WORKERS];
  uint32_t worker_count;
  pthread_mutex_t lock;
  pthread_cond_t drained;
  /* Guarded by lock: records published by the workers, not yet delivered. */
  int_buffer_t published;
  int_buffer_t delivering_records; /* JavaScript thread only */
} prober_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "E_NATIVE", "node-api call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static int buffer_reserve(int_buffer_t *buffer, size_t more) {
  if (buffer->count + more <= buffer->capacity) return 0;
  size_t capacity = buffer->capacity ? buffer->capacity : 1024;
  while (capacity < buffer->count + more) capacity *= 2;
  int32_t *items = realloc(buffer->items, capacity * sizeof(int32_t));
  if (!items) return ENOMEM;
  buffer->items = items;
  buffer->capacity = capacity;
  return 0;
}

static void buffer_swap(int_buffer_t *a, int_buffer_t *b) {
  int_buffer_t t = *a;
  *a = *b;
  *b = t;
}

/* The live prober behind an external; NULL with a JavaScript error thrown when there is none. */
static prober_t *get_prober(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || !data) {
    napi_throw_type_error(env, "E_NATIVE", "not a connect prober");
    return NULL;
  }
  prober_t *prober = ((handle_t *)data)->prober;
  if (!prober || prober->destroyed || prober->release_pending) {
    napi_throw_error(env, "E_DESTROYED", "connect prober used after destroy()");
    return NULL;
  }
  return prober;
}

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

static void write_record(int_buffer_t *out, uint32_t slot_index, slot_t *slot, int32_t code, int32_t icmp_type, int32_t icmp_code) {
  if (buffer_reserve(out, RECORD_INTS) != 0) return; /* out of memory: the probe times out and is retried */
  uint64_t elapsed_us = (now_ns() - slot->started_ns) / 1000ull;
  int32_t *record = out->items + out->count;
  record[0] = (int32_t)slot_index;
  record[1] = code;
  record[2] = (int32_t)(elapsed_us > INT32_MAX ? INT32_MAX : elapsed_us);
  record[3] = icmp_type;
  record[4] = icmp_code;
  record[5] = slot->ticket;
  out->count += RECORD_INTS;
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
  write_record(out, slot_index, slot, code, icmp_type, icmp_code);
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
  prober->sent_at[slot_index] = prober->clock_base_ms + (double)(slot->started_ns - prober->clock_base_ns) / 1e6;
  __atomic_store_n(&prober->sent_tickets[slot_index], ticket, __ATOMIC_RELEASE);
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
  write_record(out, slot_index, slot, code, -1, -1);
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
    pthread_mutex_lock(&prober->lock);
    int stop = worker->stop;
    uint64_t drain_request = worker->drain_requested;
    buffer_swap(&commands, &worker->commands);
    worker->commands.count = 0;
    pthread_mutex_unlock(&prober->lock);
    if (stop) break;
    for (int i = 0; i < ready; i++) {
      uint32_t slot_index = events[i].data.u32;
      if (slot_index == WAKE_TOKEN) {
        uint64_t count;
        if (read(worker->wake_fd, &count, sizeof count) < 0) { /* nothing to read: fine */ }
      } else if (slot_index < prober->slot_count && prober->slots[slot_index].in_flight) {
        finish_slot(prober, slot_index, events[i].events, &out);
      }
    }
    run_commands(prober, worker, &commands, &out);
    pthread_mutex_lock(&prober->lock);
    int publish = out.count > 0;
    if (publish && buffer_reserve(&prober->published, out.count) == 0) {
      memcpy(prober->published.items + prober->published.count, out.items, out.count * sizeof(int32_t));
      prober->published.count += out.count;
    }
    out.count = 0;
    if (drain_request > worker->drain_served) {
      worker->drain_served = drain_request;
      pthread_cond_broadcast(&prober->drained);
    }
    pthread_mutex_unlock(&prober->lock);
    if (publish) uv_async_send(&prober->async);
  }
  free(commands.items);
  free(out.items);
  return NULL;
}

static void wake(worker_t *worker) {
  uint64_t one = 1;
  if (write(worker->wake_fd, &one, sizeof one) < 0) { /* counter full: the worker is awake anyway */ }
}

/* Hands the published records to JavaScript, at most results_capacity per callback. */
static void deliver(prober_t *prober) {
  if (prober->delivering || prober->destroyed) return;
  prober->delivering = 1;
  pthread_mutex_lock(&prober->lock);
  buffer_swap(&prober->published, &prober->delivering_records);
  prober->published.count = 0;
  pthread_mutex_unlock(&prober->lock);
  napi_env env = prober->env;
  size_t total = prober->delivering_records.count / RECORD_INTS;
  for (size_t done = 0; done < total && !prober->release_pending;) {
    size_t count = total - done;
    if (count > prober->results_capacity) count = prober->results_capacity;
    memcpy(prober->results, prober->delivering_records.items + done * RECORD_INTS, count * RECORD_INTS * sizeof(int32_t));
    done += count;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) break;
    napi_value callback, receiver, argument, ignored;
    napi_get_reference_value(env, prober->callback_ref, &callback);
    napi_get_global(env, &receiver); /* napi_make_callback needs an object receiver */
    napi_create_uint32(env, (uint32_t)count, &argument);
    napi_status status = napi_make_callback(env, prober->async_context, receiver, callback, 1, &argument, &ignored);
    if (status == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
    napi_close_handle_scope(env, scope);
  }
  prober->delivering_records.count = 0;
  prober->delivering = 0;
}

static void release(prober_t *prober);

static void deliver_and_release(prober_t *prober) {
  deliver(prober);
  if (prober->release_pending) release(prober);
}

static void on_async(uv_async_t *handle) {
  prober_t *prober = (prober_t *)handle->data;
  if (!prober->destroyed) deliver_and_release(prober);
}

static void free_prober(prober_t *prober) {
  free(prober->published.items);
  free(prober->delivering_records.items);
  free(prober->slots);
  free(prober);
}

static void on_async_closed(uv_handle_t *handle) {
  free_prober((prober_t *)handle->data);
}

static void stop_workers(prober_t *prober) {
  pthread_mutex_lock(&prober->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) prober->workers[i].stop = 1;
  pthread_mutex_unlock(&prober->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    worker_t *worker = &prober->workers[i];
    if (worker->started) {
      wake(worker);
      pthread_join(worker->thread, NULL);
      worker->started = 0;
    }
  }
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    worker_t *worker = &prober->workers[i];
    if (worker->epoll_fd >= 0) close(worker->epoll_fd);
    if (worker->wake_fd >= 0) close(worker->wake_fd);
    worker->epoll_fd = worker->wake_fd = -1;
    free(worker->commands.items);
    worker->commands.items = NULL;
  }
}

static void close_slots(prober_t *prober) {
  for (uint32_t i = 0; prober->slots && i < prober->slot_count; i++) {
    if (prober->slots[i].fd >= 0) {
      if (prober->slots[i].in_flight) disconnect_socket(prober->slots[i].fd);
      close(prober->slots[i].fd);
    }
    prober->slots[i].fd = -1;
  }
}

static void delete_reference(napi_env env, napi_ref *ref) {
  if (*ref) napi_delete_reference(env, *ref);
  *ref = NULL;
}

/* Releases everything the prober holds, at any stage of its construction: threads joined,
   sockets and fds closed, references dropped, the async handle closed (it frees the memory). */
static void release(prober_t *prober) {
  if (prober->destroyed) return;
  prober->destroyed = 1;
  if (prober->handle) prober->handle->prober = NULL;
  prober->handle = NULL;
  stop_workers(prober);
  close_slots(prober);
  pthread_mutex_destroy(&prober->lock);
  pthread_cond_destroy(&prober->drained);
  napi_env env = prober->env;
  delete_reference(env, &prober->callback_ref);
  delete_reference(env, &prober->results_ref);
  delete_reference(env, &prober->commands_ref);
  delete_reference(env, &prober->sent_at_ref);
  delete_reference(env, &prober->sent_tickets_ref);
  if (prober->async_context) napi_async_destroy(env, prober->async_context);
  prober->async_context = NULL;
  if (prober->async_initialized) uv_close((uv_handle_t *)&prober->async, on_async_closed);
  else free_prober(prober);
}

/* The external was collected: release a prober that was never destroyed. */
static void finalize_handle(napi_env env, void *data, void *hint) {
  handle_t *handle = (handle_t *)data;
  prober_t *prober = handle->prober;
  if (prober) {
    prober->handle = NULL;
    if (prober->delivering) prober->release_pending = 1;
    else release(prober);
  }
  free(handle);
}

static int int32_array(napi_env env, napi_value value, size_t min_length, int32_t **data, size_t *length) {
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok) return 0;
  *data = (int32_t *)raw;
  return type == napi_int32_array && *length >= min_length;
}

static int float64_array(napi_env env, napi_value value, size_t min_length, double **data) {
  napi_typedarray_type type;
  size_t length = 0;
  void *raw = NULL;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, NULL, NULL) != napi_ok) return 0;
  *data = (double *)raw;
  return type == napi_float64_array && length >= min_length;
}

/* Throws a JavaScript error for a failed start; the prober (any stage) is released first. */
static napi_value fail_start(napi_env env, prober_t *prober, int error) {
  release(prober);
  napi_throw_error(env, error == EMFILE || error == ENFILE ? "EMFILE" : error == ENOMEM ? "ENOMEM" : "E_NATIVE", strerror(error));
  return NULL;
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
  double now_ms = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length));
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_uint32(env, argv[2], &slot_count));
  CHECK(napi_get_value_uint32(env, argv[3], &worker_count));
  CHECK(napi_get_value_double(env, argv[9], &now_ms));
  int32_t *results = NULL, *commands = NULL, *sent_tickets = NULL;
  double *sent_at = NULL;
  size_t results_length = 0, commands_length = 0, tickets_length = 0;
  if (!int32_array(env, argv[4], RECORD_INTS, &results, &results_length) ||
      !int32_array(env, argv[5], COMMAND_INTS, &commands, &commands_length) || slot_count == 0 ||
      !float64_array(env, argv[7], slot_count, &sent_at) || !int32_array(env, argv[8], slot_count, &sent_tickets, &tickets_length) ||
      worker_count == 0 || worker_count > MAX_WORKERS) {
    napi_throw_type_error(env, NULL, "results and commands must be Int32Arrays of at least one record, sentAt and sentTickets one entry per slot; slotCount > 0; 1 <= workerCount <= 8");
    return NULL;
  }

  prober_t *prober = calloc(1, sizeof *prober);
  if (!prober) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  /* From here on every failure goes through fail_start(), which releases what exists so far. */
  prober->env = env;
  pthread_mutex_init(&prober->lock, NULL);
  pthread_cond_init(&prober->drained, NULL);
  for (uint32_t i = 0; i < MAX_WORKERS; i++) prober->workers[i].epoll_fd = prober->workers[i].wake_fd = -1;
  prober->family = family;
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&prober->target;
    a->sin_family = AF_INET;
    prober->target_length = sizeof *a;
    if (inet_pton(AF_INET, address, &a->sin_addr) != 1) family = 0;
  } else if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&prober->target;
    a->sin6_family = AF_INET6;
    prober->target_length = sizeof *a;
    if (inet_pton(AF_INET6, address, &a->sin6_addr) != 1) family = 0;
  }
  if (family != 4 && family != 6) {
    release(prober);
    napi_throw_type_error(env, NULL, "not an IPv4/IPv6 address literal");
    return NULL;
  }
  prober->results = results;
  prober->results_capacity = (uint32_t)(results_length / RECORD_INTS);
  prober->command_input = commands;
  prober->command_capacity = (uint32_t)(commands_length / COMMAND_INTS);
  prober->sent_at = sent_at;
  prober->sent_tickets = sent_tickets;
  prober->clock_base_ns = now_ns();
  prober->clock_base_ms = now_ms;
  prober->slot_count = slot_count;
  prober->worker_count = worker_count < slot_count ? worker_count : slot_count;
  prober->slots = calloc(slot_count, sizeof(slot_t));
  if (!prober->slots) return fail_start(env, prober, ENOMEM);
  for (uint32_t i = 0; i < slot_count; i++) prober->slots[i].fd = -1;
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    worker_t *worker = &prober->workers[i];
    worker->prober = prober;
    worker->index = i;
    worker->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (worker->epoll_fd < 0) return fail_start(env, prober, errno);
    worker->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (worker->wake_fd < 0) return fail_start(env, prober, errno);
    struct epoll_event event;
    event.events = EPOLLIN;
    event.data.u64 = 0;
    event.data.u32 = WAKE_TOKEN;
    if (epoll_ctl(worker->epoll_fd, EPOLL_CTL_ADD, worker->wake_fd, &event) != 0) return fail_start(env, prober, errno);
  }
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, &prober->async, on_async) != 0) {
    return fail_start(env, prober, EINVAL);
  }
  prober->async_initialized = 1;
  prober->async.data = prober;
  uv_unref((uv_handle_t *)&prober->async);
  napi_value resource_name;
  if (napi_create_string_utf8(env, "portmatrix:connect-prober", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &prober->async_context) != napi_ok ||
      napi_create_reference(env, argv[6], 1, &prober->callback_ref) != napi_ok ||
      napi_create_reference(env, argv[4], 1, &prober->results_ref) != napi_ok ||
      napi_create_reference(env, argv[5], 1, &prober->commands_ref) != napi_ok ||
      napi_create_reference(env, argv[7], 1, &prober->sent_at_ref) != napi_ok ||
      napi_create_reference(env, argv[8], 1, &prober->sent_tickets_ref) != napi_ok) {
    return fail_start(env, prober, EINVAL);
  }
  handle_t *handle = calloc(1, sizeof *handle);
  if (!handle) return fail_start(env, prober, ENOMEM);
  handle->prober = prober;
  prober->handle = handle;
  napi_value external;
  if (napi_create_external(env, handle, finalize_handle, NULL, &external) != napi_ok) {
    free(handle);
    prober->handle = NULL;
    return fail_start(env, prober, EINVAL);
  }
  /* Threads last: nothing can fail after them but their own start. */
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    worker_t *worker = &prober->workers[i];
    int error = pthread_create(&worker->thread, NULL, run_worker, worker);
    if (error) return fail_start(env, prober, error); /* the handle's finalizer finds it released */
    worker->started = 1;
  }
  return external;
}

/* submit(prober, count): hands `count` commands (slot, port, ticket) from the commands array to
   the slots' workers; port 0 aborts the probe with that ticket. Outcomes arrive through onResults. */
static napi_value submit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  prober_t *prober = get_prober(env, argv[0]);
  if (!prober) return NULL;
  uint32_t count = 0;
  CHECK(napi_get_value_uint32(env, argv[1], &count));
  if (count > prober->command_capacity) {
    napi_throw_error(env, "E_NATIVE", "submit: command count beyond the commands array");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    const int32_t *command = prober->command_input + (size_t)i * COMMAND_INTS;
    if ((uint32_t)command[0] >= prober->slot_count || command[1] < 0 || command[1] > 65535) {
      napi_throw_error(env, "E_NATIVE", "submit: bad slot or port");
      return NULL;
    }
  }
  uint32_t touched = 0;
  pthread_mutex_lock(&prober->lock);
  for (uint32_t i = 0; i < count; i++) {
    const int32_t *command = prober->command_input + (size_t)i * COMMAND_INTS;
    uint32_t owner = (uint32_t)command[0] % prober->worker_count;
    worker_t *worker = &prober->workers[owner];
    if (buffer_reserve(&worker->commands, COMMAND_INTS) != 0) continue; /* lost: the probe times out and is retried */
    memcpy(worker->commands.items + worker->commands.count, command, COMMAND_INTS * sizeof(int32_t));
    worker->commands.count += COMMAND_INTS;
    touched |= 1u << owner;
  }
  pthread_mutex_unlock(&prober->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    if (touched & (1u << i)) wake(&prober->workers[i]);
  }
  return NULL;
}

/* drain(prober): every worker looks at its sockets once more, then finished connects are
   delivered now (before timeouts are judged). Waits at most DRAIN_WAIT_NS. */
static napi_value drain_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  prober_t *prober = get_prober(env, argv[0]);
  if (!prober) return NULL;
  if (prober->delivering) return NULL; /* called from its own onResults: the batch is being delivered */
  uint64_t wanted[MAX_WORKERS];
  pthread_mutex_lock(&prober->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) wanted[i] = ++prober->workers[i].drain_requested;
  pthread_mutex_unlock(&prober->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) wake(&prober->workers[i]);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += DRAIN_WAIT_NS;
  deadline.tv_sec += deadline.tv_nsec / 1000000000l;
  deadline.tv_nsec %= 1000000000l;
  pthread_mutex_lock(&prober->lock);
  for (uint32_t i = 0; i < prober->worker_count; i++) {
    while (prober->workers[i].drain_served < wanted[i]) {
      if (pthread_cond_timedwait(&prober->drained, &prober->lock, &deadline) == ETIMEDOUT) break;
    }
  }
  pthread_mutex_unlock(&prober->lock);
  deliver_and_release(prober);
  return NULL;
}

/* destroy(prober): releases the prober; calling it again does nothing. */
static napi_value destroy_prober(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, "E_NATIVE", "not a connect prober");
    return NULL;
  }
  handle_t *handle = (handle_t *)data;
  prober_t *prober = handle->prober;
  if (!prober) return NULL;
  handle->prober = NULL;
  prober->handle = NULL;
  /* Inside a delivery the batch being read still belongs to the prober: release afterwards. */
  if (!prober->delivering) release(prober);
  else prober->release_pending = 1;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"createProber", NULL, create_prober, NULL, NULL, NULL, napi_default, NULL},
      {"submit", NULL, submit, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, drain_now, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy_prober, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
