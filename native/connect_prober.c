/*
 * portmatrix connect prober: non-blocking TCP connect() + epoll, watched by Node's own
 * libuv loop (uv_poll on the epoll fd), so a probe costs a handful of syscalls and no
 * JavaScript object. Only public APIs: Node-API and libuv. The scan logic (timeouts,
 * retries, classification) stays in TypeScript; this file only opens sockets and reports
 * how each connect ended.
 *
 * Each slot keeps one socket for the whole scan: after an outcome, connect(AF_UNSPEC)
 * dissolves the association (an RST for a completed handshake, nothing for a SYN in flight)
 * and the same socket connects to the next port. That saves socket()/close() and the epoll
 * add/remove per probe, which is most of the kernel's cost of a connect scan. The sockets are
 * registered edge-triggered once; the event mask (computed when epoll_wait reports) tells
 * a finished connect from a stale wakeup.
 *
 * Outcome records written to the caller's Int32Array, 5 int32 each:
 *   slot, code, rtt (microseconds), icmp type (-1: none), icmp code (-1: none)
 * code: 0 connected, -1 self-connect (local address:port == remote), >0 errno.
 * connect() returns 0 when the probe is in flight, -2 when it connected at once, or one of
 * the codes above (-1, errno) for an immediate outcome; immediate outcomes write no record.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECORD_INTS 5
#define CODE_CONNECTED 0
#define CODE_SELF_CONNECT (-1)

typedef struct {
  int fd; /* -1 until first used */
  int in_flight;
  uint16_t port;
  uint64_t started_ns;
} slot_t;

typedef struct {
  napi_env env;
  napi_ref callback_ref;
  napi_ref results_ref;
  napi_async_context async_context;
  int32_t *results;
  uint32_t results_capacity; /* in records */
  int epoll_fd;
  uv_poll_t poll;
  int poll_active;
  int destroyed;
  int delivering;
  int release_pending;
  struct sockaddr_storage target;
  socklen_t target_length;
  int family;
  slot_t *slots;
  uint32_t slot_count;
  struct epoll_event *events;
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

static prober_t *get_prober(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  prober_t *prober = (prober_t *)data;
  return prober && !prober->destroyed && !prober->release_pending ? prober : NULL;
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

/* Fills a record when the connect on this slot has finished; returns 0 for a stale wakeup. */
static int finish_slot(prober_t *prober, uint32_t slot_index, uint32_t events, int32_t *record) {
  slot_t *slot = &prober->slots[slot_index];
  int fd = slot->fd;
  int failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
  if (!failed && !(events & EPOLLOUT)) return 0;
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
  uint64_t elapsed_ns = now_ns() - slot->started_ns;
  record[0] = (int32_t)slot_index;
  record[1] = code;
  record[2] = (int32_t)(elapsed_ns / 1000ull > INT32_MAX ? INT32_MAX : elapsed_ns / 1000ull);
  record[3] = icmp_type;
  record[4] = icmp_code;
  disconnect_socket(fd);
  slot->in_flight = 0;
  return 1;
}

static void deliver(prober_t *prober, uint32_t count) {
  napi_env env = prober->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, receiver, argument, ignored;
  napi_get_reference_value(env, prober->callback_ref, &callback);
  napi_get_global(env, &receiver); /* napi_make_callback needs an object receiver */
  napi_create_uint32(env, count, &argument);
  napi_status status = napi_make_callback(env, prober->async_context, receiver, callback, 1, &argument, &ignored);
  if (status == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
}

/* Collects every finished connect and hands them to JavaScript, one batch per epoll_wait. */
static void drain(prober_t *prober) {
  if (prober->delivering) return;
  prober->delivering = 1;
  for (int round = 0; round < 64 && !prober->destroyed && !prober->release_pending; round++) {
    int ready = epoll_wait(prober->epoll_fd, prober->events, (int)prober->results_capacity, 0);
    if (ready <= 0) break;
    uint32_t count = 0;
    for (int i = 0; i < ready; i++) {
      uint32_t slot_index = prober->events[i].data.u32;
      if (slot_index >= prober->slot_count || !prober->slots[slot_index].in_flight) continue;
      count += (uint32_t)finish_slot(prober, slot_index, prober->events[i].events,
                                     prober->results + (size_t)count * RECORD_INTS);
    }
    if (count > 0) deliver(prober, count);
    if ((uint32_t)ready < prober->results_capacity) break;
  }
  prober->delivering = 0;
}

static void release(prober_t *prober);

static void drain_and_release(prober_t *prober) {
  drain(prober);
  if (prober->release_pending) release(prober);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  prober_t *prober = (prober_t *)handle->data;
  if (!prober->destroyed) drain_and_release(prober);
}

static void on_poll_closed(uv_handle_t *handle) {
  prober_t *prober = (prober_t *)handle->data;
  free(prober->slots);
  free(prober->events);
  free(prober);
}

static void release(prober_t *prober) {
  if (prober->destroyed) return;
  prober->destroyed = 1;
  for (uint32_t i = 0; i < prober->slot_count; i++) {
    if (prober->slots[i].fd >= 0) {
      if (prober->slots[i].in_flight) disconnect_socket(prober->slots[i].fd);
      close(prober->slots[i].fd);
    }
    prober->slots[i].fd = -1;
  }
  napi_env env = prober->env;
  napi_delete_reference(env, prober->callback_ref);
  napi_delete_reference(env, prober->results_ref);
  napi_async_destroy(env, prober->async_context);
  if (prober->poll_active) uv_poll_stop(&prober->poll);
  close(prober->epoll_fd);
  uv_close((uv_handle_t *)&prober->poll, on_poll_closed);
}

/* createProber(address, family, slotCount, results: Int32Array, onResults(count)) */
static napi_value create_prober(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "createProber(address, family, slotCount, results, onResults)");
    return NULL;
  }
  char address[64];
  size_t address_length = 0;
  int32_t family = 0;
  uint32_t slot_count = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length));
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_uint32(env, argv[2], &slot_count));
  napi_typedarray_type array_type;
  size_t array_length = 0;
  void *array_data = NULL;
  CHECK(napi_get_typedarray_info(env, argv[3], &array_type, &array_length, &array_data, NULL, NULL));
  if (array_type != napi_int32_array || array_length < RECORD_INTS || slot_count == 0) {
    napi_throw_type_error(env, NULL, "results must be an Int32Array of at least 5 elements; slotCount > 0");
    return NULL;
  }

  prober_t *prober = calloc(1, sizeof *prober);
  if (!prober) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  prober->env = env;
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
    free(prober);
    napi_throw_type_error(env, NULL, "not an IPv4/IPv6 address literal");
    return NULL;
  }
  prober->results = (int32_t *)array_data;
  prober->results_capacity = (uint32_t)(array_length / RECORD_INTS);
  prober->slot_count = slot_count;
  prober->slots = calloc(slot_count, sizeof(slot_t));
  prober->events = calloc(prober->results_capacity, sizeof(struct epoll_event));
  prober->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (!prober->slots || !prober->events || prober->epoll_fd < 0) {
    int error = errno;
    free(prober->slots);
    free(prober->events);
    if (prober->epoll_fd >= 0) close(prober->epoll_fd);
    free(prober);
    napi_throw_error(env, error == EMFILE ? "EMFILE" : "E_NATIVE", strerror(error));
    return NULL;
  }
  for (uint32_t i = 0; i < slot_count; i++) prober->slots[i].fd = -1;

  napi_value resource_name;
  CHECK(napi_create_string_utf8(env, "portmatrix:connect-prober", NAPI_AUTO_LENGTH, &resource_name));
  CHECK(napi_async_init(env, NULL, resource_name, &prober->async_context));
  CHECK(napi_create_reference(env, argv[4], 1, &prober->callback_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &prober->results_ref));

  uv_loop_t *loop = NULL;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &prober->poll, prober->epoll_fd);
  prober->poll.data = prober;
  uv_poll_start(&prober->poll, UV_READABLE, on_poll);
  prober->poll_active = 1;

  napi_value external;
  CHECK(napi_create_external(env, prober, NULL, NULL, &external));
  return external;
}

/* Opens the slot's socket on first use and registers it with epoll (edge-triggered). */
static int open_slot_socket(prober_t *prober, uint32_t slot_index) {
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
  if (epoll_ctl(prober->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    int error = errno;
    close(fd);
    return error;
  }
  prober->slots[slot_index].fd = fd;
  return 0;
}

/* connect(prober, slot, port) -> 0: in flight (outcome comes later); otherwise an immediate
   outcome code (see top); the record is not written for immediate outcomes. */
static napi_value connect_port(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  prober_t *prober = get_prober(env, argv[0]);
  uint32_t slot_index = 0, port = 0;
  CHECK(napi_get_value_uint32(env, argv[1], &slot_index));
  CHECK(napi_get_value_uint32(env, argv[2], &port));
  if (!prober || slot_index >= prober->slot_count || port == 0 || port > 65535 ||
      prober->slots[slot_index].in_flight) {
    napi_throw_error(env, "E_NATIVE", "connect: bad prober, slot or port");
    return NULL;
  }
  slot_t *slot = &prober->slots[slot_index];
  int32_t code = slot->fd < 0 ? open_slot_socket(prober, slot_index) : 0;
  if (code == 0) {
    struct sockaddr_storage target = prober->target;
    if (prober->family == 4) ((struct sockaddr_in *)&target)->sin_port = htons((uint16_t)port);
    else ((struct sockaddr_in6 *)&target)->sin6_port = htons((uint16_t)port);
    slot->port = (uint16_t)port;
    slot->started_ns = now_ns();
    if (connect(slot->fd, (struct sockaddr *)&target, prober->target_length) == 0) {
      code = is_self_connect(prober, slot->fd, (uint16_t)port) ? CODE_SELF_CONNECT : -2;
      disconnect_socket(slot->fd);
    } else if (errno == EINPROGRESS) {
      slot->in_flight = 1;
    } else {
      code = errno;
      disconnect_socket(slot->fd);
    }
  }
  napi_value result;
  CHECK(napi_create_int32(env, code, &result));
  return result;
}

/* abort(prober, slot): gives up on a connect that timed out; the socket stays for the next probe. */
static napi_value abort_slot(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  prober_t *prober = get_prober(env, argv[0]);
  uint32_t slot_index = 0;
  CHECK(napi_get_value_uint32(env, argv[1], &slot_index));
  if (prober && slot_index < prober->slot_count && prober->slots[slot_index].in_flight) {
    disconnect_socket(prober->slots[slot_index].fd);
    prober->slots[slot_index].in_flight = 0;
  }
  return NULL;
}

/* drain(prober): delivers finished connects now (before timeouts are judged). */
static napi_value drain_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  prober_t *prober = get_prober(env, argv[0]);
  if (prober && !prober->delivering) drain_and_release(prober);
  return NULL;
}

static napi_value destroy_prober(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  prober_t *prober = get_prober(env, argv[0]);
  /* Inside a delivery the batch being read still belongs to the prober: release afterwards. */
  if (prober && !prober->delivering) release(prober);
  else if (prober) prober->release_pending = 1;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"createProber", NULL, create_prober, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, connect_port, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, abort_slot, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, drain_now, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy_prober, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
