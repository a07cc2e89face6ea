/* The part of the connect and SYN probers they share: see prober_common.h. */
#define _GNU_SOURCE
#include "prober_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int buffer_reserve(int_buffer_t *buffer, size_t more) {
  if (buffer->count + more <= buffer->capacity) return 0;
  size_t capacity = buffer->capacity ? buffer->capacity : 1024;
  while (capacity < buffer->count + more) capacity *= 2;
  int32_t *items = realloc(buffer->items, capacity * sizeof(int32_t));
  if (!items) return ENOMEM;
  buffer->items = items;
  buffer->capacity = capacity;
  return 0;
}

void buffer_swap(int_buffer_t *a, int_buffer_t *b) {
  int_buffer_t t = *a;
  *a = *b;
  *b = t;
}

void write_record(int_buffer_t *out, uint32_t slot_index, int32_t code, int64_t rtt_us, int32_t icmp_type, int32_t icmp_code, int32_t ticket) {
  if (buffer_reserve(out, RECORD_INTS) != 0) return; /* out of memory: the probe times out and is retried */
  int32_t *record = out->items + out->count;
  record[0] = (int32_t)slot_index;
  record[1] = code;
  record[2] = (int32_t)(rtt_us < 0 ? 0 : rtt_us > INT32_MAX ? INT32_MAX : rtt_us);
  record[3] = icmp_type;
  record[4] = icmp_code;
  record[5] = ticket;
  out->count += RECORD_INTS;
}

int parse_address(const char *text, int32_t family, struct sockaddr_storage *address, socklen_t *length) {
  memset(address, 0, sizeof *address);
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)address;
    a->sin_family = AF_INET;
    *length = sizeof *a;
    return inet_pton(AF_INET, text, &a->sin_addr) == 1;
  }
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)address;
    a->sin6_family = AF_INET6;
    *length = sizeof *a;
    return inet_pton(AF_INET6, text, &a->sin6_addr) == 1;
  }
  return 0;
}

void set_port(struct sockaddr_storage *address, int32_t family, uint16_t port) {
  if (family == 4) ((struct sockaddr_in *)address)->sin_port = htons(port);
  else ((struct sockaddr_in6 *)address)->sin6_port = htons(port);
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, size_t min_length, void **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want && *length >= min_length;
}

int read_arrays(napi_env env, const napi_value *argv, uint32_t slot_count, prober_arrays_t *arrays) {
  memcpy(arrays->values, argv, sizeof arrays->values);
  size_t sent_length = 0, tickets_length = 0;
  napi_valuetype callback_type;
  return slot_count > 0 &&
         typed_array(env, argv[0], napi_int32_array, RECORD_INTS, (void **)&arrays->results, &arrays->results_length) &&
         typed_array(env, argv[1], napi_int32_array, COMMAND_INTS, (void **)&arrays->commands, &arrays->commands_length) &&
         napi_typeof(env, argv[2], &callback_type) == napi_ok && callback_type == napi_function &&
         typed_array(env, argv[3], napi_float64_array, slot_count, (void **)&arrays->sent_at, &sent_length) &&
         typed_array(env, argv[4], napi_int32_array, slot_count, (void **)&arrays->sent_tickets, &tickets_length) &&
         napi_get_value_double(env, argv[5], &arrays->now_ms) == napi_ok;
}

void base_init(prober_base_t *base, const prober_kind_t *kind, napi_env env, const prober_arrays_t *arrays, uint32_t slot_count) {
  base->kind = kind;
  base->env = env;
  pthread_mutex_init(&base->lock, NULL);
  pthread_cond_init(&base->drained, NULL);
  base->results = arrays->results;
  base->results_capacity = (uint32_t)(arrays->results_length / RECORD_INTS);
  base->command_input = arrays->commands;
  base->command_capacity = (uint32_t)(arrays->commands_length / COMMAND_INTS);
  base->sent_at = arrays->sent_at;
  base->sent_tickets = arrays->sent_tickets;
  base->clock_base_ns = now_ns();
  base->clock_base_ms = arrays->now_ms;
  base->slot_count = slot_count;
}

/* ---- delivery to JavaScript ---- */

/* Hands the published records to JavaScript, at most results_capacity per callback. */
static void deliver(prober_base_t *base) {
  if (base->delivering || base->destroyed) return;
  base->delivering = 1;
  pthread_mutex_lock(&base->lock);
  buffer_swap(&base->published, &base->delivering_records);
  base->published.count = 0;
  pthread_mutex_unlock(&base->lock);
  napi_env env = base->env;
  size_t total = base->delivering_records.count / RECORD_INTS;
  for (size_t done = 0; done < total && !base->release_pending;) {
    size_t count = total - done;
    if (count > base->results_capacity) count = base->results_capacity;
    memcpy(base->results, base->delivering_records.items + done * RECORD_INTS, count * RECORD_INTS * sizeof(int32_t));
    done += count;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) break;
    napi_value callback, receiver, argument, ignored;
    napi_get_reference_value(env, base->refs[2], &callback);
    napi_get_global(env, &receiver); /* napi_make_callback needs an object receiver */
    napi_create_uint32(env, (uint32_t)count, &argument);
    napi_status status = napi_make_callback(env, base->async_context, receiver, callback, 1, &argument, &ignored);
    if (status == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
    napi_close_handle_scope(env, scope);
  }
  base->delivering_records.count = 0;
  base->delivering = 0;
}

static void deliver_and_release(prober_base_t *base) {
  deliver(base);
  if (base->release_pending) release(base);
}

static void on_async(uv_async_t *handle) {
  prober_base_t *base = (prober_base_t *)handle->data;
  if (!base->destroyed) deliver_and_release(base);
}

/* ---- lifetime ---- */

static void dispose(prober_base_t *base) {
  free(base->published.items);
  free(base->delivering_records.items);
  base->kind->dispose(base);
}

static void on_async_closed(uv_handle_t *handle) { dispose((prober_base_t *)handle->data); }

void release(prober_base_t *base) {
  if (base->destroyed) return;
  base->destroyed = 1;
  if (base->handle) base->handle->prober = NULL;
  base->handle = NULL;
  base->kind->stop(base);
  pthread_mutex_destroy(&base->lock);
  pthread_cond_destroy(&base->drained);
  for (int i = 0; i < 5; i++) {
    if (base->refs[i]) napi_delete_reference(base->env, base->refs[i]);
    base->refs[i] = NULL;
  }
  if (base->async_context) napi_async_destroy(base->env, base->async_context);
  base->async_context = NULL;
  if (base->async_initialized) uv_close((uv_handle_t *)&base->async, on_async_closed);
  else dispose(base);
}

/* The external was collected: release a prober that was never destroyed. */
static void finalize_handle(napi_env env, void *data, void *hint) {
  prober_handle_t *handle = (prober_handle_t *)data;
  prober_base_t *base = handle->prober;
  if (base) {
    base->handle = NULL;
    if (base->delivering) base->release_pending = 1;
    else release(base);
  }
  free(handle);
}

int base_start(prober_base_t *base, const prober_arrays_t *arrays, const char *resource_name, napi_value *external) {
  napi_env env = base->env;
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, &base->async, on_async) != 0) return EINVAL;
  base->async_initialized = 1;
  base->async.data = base;
  uv_unref((uv_handle_t *)&base->async);
  napi_value name;
  if (napi_create_string_utf8(env, resource_name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &base->async_context) != napi_ok) {
    return EINVAL;
  }
  for (int i = 0; i < 5; i++) {
    if (napi_create_reference(env, arrays->values[i], 1, &base->refs[i]) != napi_ok) return EINVAL;
  }
  prober_handle_t *handle = calloc(1, sizeof *handle);
  if (!handle) return ENOMEM;
  if (napi_create_external(env, handle, finalize_handle, NULL, external) != napi_ok) {
    free(handle);
    return EINVAL;
  }
  /* From here the finalizer owns the handle; it finds the prober released if a later step fails. */
  handle->prober = base;
  base->handle = handle;
  return napi_type_tag_object(env, *external, &base->kind->tag) == napi_ok ? 0 : EINVAL;
}

static const char *errno_code(int error) {
  switch (error) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    default: return "E_NATIVE";
  }
}

napi_value fail_start(prober_base_t *base, int error, const char *step) {
  napi_env env = base->env;
  release(base);
  char message[160];
  snprintf(message, sizeof message, "%s: %s", step, strerror(error));
  napi_throw_error(env, errno_code(error), message);
  return NULL;
}

/* ---- the worker's side ---- */

void signal_eventfd(int fd) {
  uint64_t one = 1;
  if (write(fd, &one, sizeof one) < 0) { /* counter full: the worker is awake anyway */ }
}

void stamp_sent(prober_base_t *base, uint32_t slot_index, int32_t ticket, uint64_t sent_ns) {
  base->sent_at[slot_index] = base->clock_base_ms + (double)(sent_ns - base->clock_base_ns) / 1e6;
  __atomic_store_n(&base->sent_tickets[slot_index], ticket, __ATOMIC_RELEASE);
}

void publish(prober_base_t *base, int_buffer_t *out, uint64_t drain_request, uint64_t *drain_served) {
  pthread_mutex_lock(&base->lock);
  int any = out->count > 0;
  if (any && buffer_reserve(&base->published, out->count) == 0) {
    memcpy(base->published.items + base->published.count, out->items, out->count * sizeof(int32_t));
    base->published.count += out->count;
  }
  out->count = 0;
  if (drain_request > *drain_served) {
    *drain_served = drain_request;
    pthread_cond_broadcast(&base->drained);
  }
  pthread_mutex_unlock(&base->lock);
  if (any) uv_async_send(&base->async);
}

void wait_drained_and_deliver(prober_base_t *base, uint64_t *const *served, const uint64_t *wanted, uint32_t count) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += DRAIN_WAIT_NS;
  deadline.tv_sec += deadline.tv_nsec / 1000000000l;
  deadline.tv_nsec %= 1000000000l;
  pthread_mutex_lock(&base->lock);
  int timed_out = 0;
  for (uint32_t i = 0; i < count && !timed_out; i++) {
    while (*served[i] < wanted[i] && !timed_out) {
      timed_out = pthread_cond_timedwait(&base->drained, &base->lock, &deadline) == ETIMEDOUT;
    }
  }
  pthread_mutex_unlock(&base->lock);
  deliver_and_release(base);
}

/* ---- calls from JavaScript ---- */

static prober_handle_t *get_handle(napi_env env, napi_value value, const prober_kind_t *kind) {
  void *data = NULL;
  bool tagged = false;
  if (!value || napi_check_object_type_tag(env, value, &kind->tag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok || !data) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    char message[64];
    snprintf(message, sizeof message, "not a %s", kind->name);
    napi_throw_type_error(env, "E_NATIVE", message);
    return NULL;
  }
  return (prober_handle_t *)data;
}

static prober_base_t *get_prober(napi_env env, napi_value value, const prober_kind_t *kind) {
  prober_handle_t *handle = get_handle(env, value, kind);
  if (!handle) return NULL;
  prober_base_t *base = handle->prober;
  if (!base || base->destroyed || base->release_pending) {
    char message[64];
    snprintf(message, sizeof message, "%s used after destroy()", kind->name);
    napi_throw_error(env, "E_DESTROYED", message);
    return NULL;
  }
  return base;
}

static napi_value first_argument(napi_env env, napi_callback_info info, napi_value *second) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_undefined(env, &argv[0]);
  argv[1] = argv[0];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (second) *second = argv[1];
  return argv[0];
}

prober_base_t *prober_call(napi_env env, napi_callback_info info, const prober_kind_t *kind) {
  return get_prober(env, first_argument(env, info, NULL), kind);
}

prober_base_t *submit_call(napi_env env, napi_callback_info info, const prober_kind_t *kind, uint32_t *count) {
  napi_value count_value;
  prober_base_t *base = get_prober(env, first_argument(env, info, &count_value), kind);
  if (!base) return NULL;
  if (napi_get_value_uint32(env, count_value, count) != napi_ok || *count > base->command_capacity) {
    napi_throw_error(env, "E_NATIVE", "submit: command count beyond the commands array");
    return NULL;
  }
  for (uint32_t i = 0; i < *count; i++) {
    const int32_t *command = base->command_input + (size_t)i * COMMAND_INTS;
    if ((uint32_t)command[0] >= base->slot_count || command[1] < 0 || command[1] > 65535) {
      napi_throw_error(env, "E_NATIVE", "submit: bad slot or port");
      return NULL;
    }
  }
  return base;
}

prober_base_t *drain_call(napi_env env, napi_callback_info info, const prober_kind_t *kind) {
  prober_base_t *base = prober_call(env, info, kind);
  return base && !base->delivering ? base : NULL;
}

napi_value destroy_call(napi_env env, napi_callback_info info, const prober_kind_t *kind) {
  prober_handle_t *handle = get_handle(env, first_argument(env, info, NULL), kind);
  if (!handle || !handle->prober) return NULL;
  prober_base_t *base = handle->prober;
  handle->prober = NULL;
  base->handle = NULL;
  /* Inside a delivery the batch being read still belongs to the prober: release afterwards. */
  if (!base->delivering) release(base);
  else base->release_pending = 1;
  return NULL;
}
