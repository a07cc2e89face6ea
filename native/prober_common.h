/*
 * What the connect and SYN probers share: the batch interface to JavaScript (commands in, outcome
 * records out through caller-owned typed arrays, one callback per batch), the lifetime of the
 * object JavaScript holds, and the worker-to-JavaScript hand-over.
 *
 * Lifetime: JavaScript holds an external (type-tagged per kind) that points to a small handle,
 * never to the prober itself. destroy() releases the prober and empties the handle, so a later
 * call is a clean E_DESTROYED error and not a use after free; the handle's finalizer releases a
 * prober that was never destroyed (threads joined, sockets and fds closed) when the external is
 * collected. The uv_async handle is unreferenced: a forgotten prober never keeps the process alive.
 * A failed start goes through the same release, at whatever stage it failed.
 */
#ifndef PORTMATRIX_PROBER_COMMON_H
#define PORTMATRIX_PROBER_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

/* Outcome records: slot, code, rtt (microseconds), icmp type (-1: none), icmp code (-1: none), ticket. */
#define RECORD_INTS 6
/* Commands: slot, port (0: abort the slot's probe with this ticket), ticket. */
#define COMMAND_INTS 3
/* drain() waits at most this long for the workers to look at their sockets once more: long
   enough for a starved worker to be scheduled on a loaded machine, short of a hang. */
#define DRAIN_WAIT_NS 2000000000ll

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, "E_NATIVE", "node-api call failed: " #call); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

typedef struct {
  int32_t *items;
  size_t count;
  size_t capacity; /* in int32 */
} int_buffer_t;

typedef struct prober_base prober_base_t;

/* What a kind of prober names itself and adds to the common lifetime. */
typedef struct {
  const char *name;           /* "connect prober", "SYN prober": in error messages */
  napi_type_tag tag;          /* tells this kind's externals from any other */
  void (*stop)(prober_base_t *);    /* joins its threads, closes its sockets and fds; any construction stage */
  void (*dispose)(prober_base_t *); /* frees its own memory, the prober included */
} prober_kind_t;

/* What the JavaScript external points to; outlives the prober until the external is collected. */
typedef struct {
  prober_base_t *prober; /* NULL after destroy() */
} prober_handle_t;

/* The caller's typed arrays and callback: createProber's last six arguments. */
typedef struct {
  napi_value values[6]; /* results, commands, onResults, sentAt, sentTickets, nowMs */
  int32_t *results;
  size_t results_length;
  int32_t *commands;
  size_t commands_length;
  double *sent_at;
  int32_t *sent_tickets;
  double now_ms;
} prober_arrays_t;

/* The first member of every prober. */
struct prober_base {
  const prober_kind_t *kind;
  napi_env env;
  prober_handle_t *handle;
  napi_ref refs[5]; /* keep the caller's arrays and callback alive while the prober uses them */
  napi_async_context async_context;
  double *sent_at;       /* the caller's Float64Array: when each slot's probe went out (performance.now() ms) */
  int32_t *sent_tickets; /* the caller's Int32Array: the ticket that sent_at belongs to */
  uint64_t clock_base_ns;
  double clock_base_ms;
  int32_t *results;          /* the caller's Int32Array */
  uint32_t results_capacity; /* in records */
  int32_t *command_input;    /* the caller's Int32Array */
  uint32_t command_capacity; /* in commands */
  uint32_t slot_count;
  uv_async_t async;
  int async_initialized;
  int destroyed;
  int delivering;
  int release_pending;
  pthread_mutex_t lock;
  pthread_cond_t drained;
  int_buffer_t published;          /* guarded by lock: records from the workers, not yet delivered */
  int_buffer_t delivering_records; /* JavaScript thread only */
};

uint64_t now_ns(void);
int buffer_reserve(int_buffer_t *buffer, size_t more);
void buffer_swap(int_buffer_t *a, int_buffer_t *b);
void write_record(int_buffer_t *out, uint32_t slot_index, int32_t code, int64_t rtt_us, int32_t icmp_type, int32_t icmp_code, int32_t ticket);

/* An IPv4 (family 4) or IPv6 (family 6) literal into a socket address; 0 when it is neither. */
int parse_address(const char *text, int32_t family, struct sockaddr_storage *address, socklen_t *length);
/* Port `port` of `address` (family 4 or 6). */
void set_port(struct sockaddr_storage *address, int32_t family, uint16_t port);

/* Reads createProber's six trailing arguments; 0 (nothing thrown) when one is not what it must be. */
int read_arrays(napi_env env, const napi_value *argv, uint32_t slot_count, prober_arrays_t *arrays);
/* Sets up the common part of a prober that calloc zeroed; release() works from here on. */
void base_init(prober_base_t *base, const prober_kind_t *kind, napi_env env, const prober_arrays_t *arrays, uint32_t slot_count);
/* The JavaScript side: async handle, references, the tagged external. 0 or an errno. */
int base_start(prober_base_t *base, const prober_arrays_t *arrays, const char *resource_name, napi_value *external);
/* Releases a prober at any stage (threads, fds, references, the async handle, then its memory) and throws. */
napi_value fail_start(prober_base_t *base, int error, const char *step);
void release(prober_base_t *base);

/* The worker's side: when slot's probe went out, for the engine's timeout. */
void stamp_sent(prober_base_t *base, uint32_t slot_index, int32_t ticket, uint64_t sent_ns);
/* The worker's side: hands `out` to JavaScript, marks a drain request served, empties `out`. */
void publish(prober_base_t *base, int_buffer_t *out, uint64_t drain_request, uint64_t *drain_served);
/* Waits (at most DRAIN_WAIT_NS) until every served[i] reaches wanted[i], then delivers what was published. */
void wait_drained_and_deliver(prober_base_t *base, uint64_t *const *served, const uint64_t *wanted, uint32_t count);

/* Wakes a worker blocked on its eventfd. */
void signal_eventfd(int fd);

/* The live prober a call names in its first argument; NULL with an error thrown when there is none. */
prober_base_t *prober_call(napi_env env, napi_callback_info info, const prober_kind_t *kind);
/* submit(prober, count): the prober, once `count` commands are checked (slots and ports in range). */
prober_base_t *submit_call(napi_env env, napi_callback_info info, const prober_kind_t *kind, uint32_t *count);
/* drain(prober): the prober, or NULL when there is nothing to do (called from its own onResults). */
prober_base_t *drain_call(napi_env env, napi_callback_info info, const prober_kind_t *kind);
/* destroy(prober): releases the prober; calling it again does nothing. */
napi_value destroy_call(napi_env env, napi_callback_info info, const prober_kind_t *kind);

#endif
