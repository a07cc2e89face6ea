/*
 * portmatrix SYN prober: half-open TCP probes over raw sockets (IPv4 and IPv6), for a scan that
 * never completes a handshake. It sends a SYN and reads what comes back: a SYN-ACK (open), an RST
 * (closed) or an ICMP destination unreachable (closed or filtered). The SYN-ACK is answered by our
 * own kernel with an RST, because no socket of ours is listening or connecting on the source
 * port: the port is reserved by a TCP socket that is only bound (so nothing else on this host
 * uses it), and a bound socket is in neither the listening nor the established table.
 *
 * Answers are validated statelessly, after masscan: the sequence number of every SYN is a keyed
 * hash (SipHash-2-4, a per-prober secret from getrandom) of the 4-tuple, so an answer counts only
 * when it comes from the target address and port, goes to our source port, and acknowledges our
 * sequence number + 1 (an ICMP error quotes the sequence number itself). A retransmission carries
 * the same sequence number, as a TCP stack's does: a SYN with another one would meet the target's
 * half-open entry of the first and be answered with an RST (RFC 793 in SYN-RECEIVED), which
 * through a path that reorders made an open port look closed. So which SYN of a port was answered
 * is unknown, and the round-trip time runs from the first one: never shorter than the truth.
 *
 * Same interface as the connect prober (slots, tickets, batches of commands and outcome records),
 * so the TypeScript engine keeps its timing, retries and classification for both scan types:
 * JavaScript submits (slot, port, ticket) commands (port 0 aborts the slot's probe); one worker
 * thread sends the SYNs with sendmmsg and reads the raw sockets; records of 6 int32:
 *   slot, code, rtt (microseconds), icmp type (-1: none), icmp code (-1: none), ticket
 * code: 1 SYN-ACK, 2 RST, 3 ICMP unreachable, < 0 -errno of a failed send (a local resource).
 * Answers that fail validation are counted, never delivered (stats()).
 * Lifetime, and the hand-over to JavaScript: prober_common.h.
 */
#define _GNU_SOURCE
#include "prober_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CODE_SYN_ACK 1
#define CODE_RESET 2
#define CODE_ICMP 3
#define SEND_BATCH 256
#define RECV_BATCH 256
#define PACKET_BYTES 128
#define SYN_BYTES 24 /* TCP header with one MSS option, as a real stack sends */
#define SOCKET_BUFFER_BYTES (8 << 20)

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

typedef struct {
  int in_flight;
  uint16_t port;
  int32_t ticket;
} slot_t;

typedef struct {
  prober_base_t base;
  int family;
  uint8_t target[16];
  uint8_t source[16];
  uint16_t source_port;
  uint64_t key[2];
  int tcp_fd;   /* raw TCP: SYNs out, SYN-ACK / RST in */
  int icmp_fd;  /* raw ICMP / ICMPv6: destination unreachable */
  int port_fd;  /* bound TCP socket that reserves source_port */
  int wake_fd;
  struct sockaddr_storage target_address;
  socklen_t target_length;

  slot_t *slots;
  int32_t slot_of_port[65536];     /* worker thread only: -1 when no probe of the port is in flight */
  uint64_t first_sent_ns[65536]; /* worker thread only: when the first SYN to the port went out (0: none yet) */

  pthread_t thread;
  int thread_started;
  /* Guarded by base.lock. */
  int stop;
  int_buffer_t commands;
  uint64_t drain_requested;
  uint64_t drain_served;
  uint64_t answers;
  uint64_t invalid;
  uint64_t unsolicited;
  uint64_t sent;
} prober_t;

/* ---- SipHash-2-4 (Aumasson and Bernstein), the keyed hash of the 4-tuple ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                   \
  do {                                                             \
    v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);      \
    v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                         \
    v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                         \
    v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);      \
  } while (0)

static uint64_t siphash24(const uint64_t key[2], const uint8_t *data, size_t length) {
  uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
  uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
  size_t whole = length & ~(size_t)7;
  for (size_t at = 0; at < whole; at += 8) {
    uint64_t m;
    memcpy(&m, data + at, 8);
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
  }
  uint64_t last = (uint64_t)length << 56;
  for (size_t at = whole; at < length; at++) last |= (uint64_t)data[at] << (8 * (at - whole));
  v3 ^= last;
  SIPROUND;
  SIPROUND;
  v0 ^= last;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

/* The sequence number of every SYN to `port`, before the send number goes into its low bits. */
static uint32_t cookie(const prober_t *prober, uint16_t port) {
  uint8_t tuple[36];
  size_t address_bytes = prober->family == 4 ? 4 : 16;
  memcpy(tuple, prober->source, address_bytes);
  memcpy(tuple + address_bytes, prober->target, address_bytes);
  tuple[2 * address_bytes] = (uint8_t)(prober->source_port >> 8);
  tuple[2 * address_bytes + 1] = (uint8_t)prober->source_port;
  tuple[2 * address_bytes + 2] = (uint8_t)(port >> 8);
  tuple[2 * address_bytes + 3] = (uint8_t)port;
  return (uint32_t)siphash24(prober->key, tuple, 2 * address_bytes + 4);
}

/* ---- checksums ---- */

static uint32_t sum16(uint32_t sum, const uint8_t *data, size_t length) {
  for (size_t at = 0; at + 1 < length; at += 2) sum += (uint32_t)(data[at] << 8 | data[at + 1]);
  if (length & 1) sum += (uint32_t)data[length - 1] << 8;
  return sum;
}

static uint16_t fold16(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* TCP checksum over the pseudo-header (RFC 793 for IPv4, RFC 8200 8.1 for IPv6) and the segment. */
static uint16_t tcp_checksum(const prober_t *prober, const uint8_t *segment, size_t length) {
  size_t address_bytes = prober->family == 4 ? 4 : 16;
  uint32_t sum = sum16(0, prober->source, address_bytes);
  sum = sum16(sum, prober->target, address_bytes);
  sum += IPPROTO_TCP + (uint32_t)length;
  return fold16(sum16(sum, segment, length));
}

static void build_syn(const prober_t *prober, uint16_t port, uint32_t sequence, uint8_t *segment) {
  memset(segment, 0, SYN_BYTES);
  segment[0] = (uint8_t)(prober->source_port >> 8);
  segment[1] = (uint8_t)prober->source_port;
  segment[2] = (uint8_t)(port >> 8);
  segment[3] = (uint8_t)port;
  segment[4] = (uint8_t)(sequence >> 24);
  segment[5] = (uint8_t)(sequence >> 16);
  segment[6] = (uint8_t)(sequence >> 8);
  segment[7] = (uint8_t)sequence;
  segment[12] = (SYN_BYTES / 4) << 4;
  segment[13] = TCP_SYN;
  segment[14] = 0x04; /* window 1024 */
  segment[15] = 0x00;
  segment[20] = 2; /* MSS option: kind 2, length 4, 1460 */
  segment[21] = 4;
  segment[22] = 0x05;
  segment[23] = 0xb4;
  uint16_t checksum = tcp_checksum(prober, segment, SYN_BYTES);
  segment[16] = (uint8_t)(checksum >> 8);
  segment[17] = (uint8_t)checksum;
}

static uint16_t read16(const uint8_t *at) { return (uint16_t)(at[0] << 8 | at[1]); }
static uint32_t read32(const uint8_t *at) { return (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3]; }

/* ---- the worker: send, receive, validate ---- */

static void record_outcome(prober_t *prober, int_buffer_t *out, uint32_t slot_index, int32_t code, int64_t rtt_us, int32_t icmp_type,
                           int32_t icmp_code) {
  write_record(out, slot_index, code, rtt_us, icmp_type, icmp_code, prober->slots[slot_index].ticket);
}

typedef struct {
  uint64_t answers, invalid, unsolicited, sent;
} counters_t;

/*
 * One answer about `port` quoting `sequence` (ack - 1 of a SYN-ACK or RST, or the sequence number
 * an ICMP error carries back). Delivered only when it validates and the port has a probe in flight.
 */
static void on_answer(prober_t *prober, uint16_t port, uint32_t sequence, int32_t code, int32_t icmp_type, int32_t icmp_code,
                      int_buffer_t *out, counters_t *counters) {
  if (sequence != cookie(prober, port)) {
    counters->invalid++;
    return;
  }
  int32_t slot_index = prober->slot_of_port[port];
  if (slot_index < 0) {
    counters->unsolicited++; /* valid, but the probe was already decided or given up: a duplicate or a late answer */
    return;
  }
  counters->answers++;
  uint64_t sent = prober->first_sent_ns[port];
  record_outcome(prober, out, (uint32_t)slot_index, code, sent ? (int64_t)(now_ns() - sent) / 1000 : 0, icmp_type, icmp_code);
  prober->slots[slot_index].in_flight = 0;
  prober->slot_of_port[port] = -1;
}

/* A TCP segment from the target (source address already checked). */
static void on_tcp(prober_t *prober, const uint8_t *segment, size_t length, int_buffer_t *out, counters_t *counters) {
  if (length < 20 || read16(segment + 2) != prober->source_port) return;
  uint8_t flags = segment[13];
  uint16_t port = read16(segment);
  if (port == 0 || !(flags & TCP_ACK)) return; /* every answer to a SYN acknowledges it */
  uint32_t sequence = read32(segment + 8) - 1;
  if ((flags & (TCP_SYN | TCP_RST | TCP_FIN)) == (TCP_SYN)) on_answer(prober, port, sequence, CODE_SYN_ACK, -1, -1, out, counters);
  else if (flags & TCP_RST) on_answer(prober, port, sequence, CODE_RESET, -1, -1, out, counters);
}

/* The quoted packet of an ICMP error: our SYN's IP header and at least 8 bytes of its TCP header. */
static void on_icmp_quote(prober_t *prober, int32_t type, int32_t code, const uint8_t *quote, size_t length, int_buffer_t *out,
                          counters_t *counters) {
  const uint8_t *tcp;
  if (prober->family == 4) {
    if (length < 20 || (quote[0] >> 4) != 4) return;
    size_t header = (size_t)(quote[0] & 0x0f) * 4;
    if (header < 20 || length < header + 8 || quote[9] != IPPROTO_TCP || memcmp(quote + 16, prober->target, 4) != 0) return;
    tcp = quote + header;
  } else {
    if (length < 48 || (quote[0] >> 4) != 6 || quote[6] != IPPROTO_TCP || memcmp(quote + 24, prober->target, 16) != 0) return;
    tcp = quote + 40;
  }
  if (read16(tcp) != prober->source_port) return;
  on_answer(prober, read16(tcp + 2), read32(tcp + 4), CODE_ICMP, type, code, out, counters);
}

static int is_reported_unreach(int family, int type, int code) {
  if (family == 4) return type == 3 && (code <= 3 || code == 9 || code == 10 || code == 13);
  return type == 1 && code != 2 && code <= 6;
}

static void read_socket(prober_t *prober, int fd, int is_icmp, int_buffer_t *out, counters_t *counters) {
  static __thread uint8_t buffers[RECV_BATCH][PACKET_BYTES];
  struct mmsghdr messages[RECV_BATCH];
  struct iovec vectors[RECV_BATCH];
  struct sockaddr_in6 from[RECV_BATCH];
  for (;;) {
    for (int i = 0; i < RECV_BATCH; i++) {
      vectors[i].iov_base = buffers[i];
      vectors[i].iov_len = PACKET_BYTES;
      memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &from[i];
      messages[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int count = recvmmsg(fd, messages, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (count <= 0) return;
    for (int i = 0; i < count; i++) {
      const uint8_t *packet = buffers[i];
      size_t length = messages[i].msg_len;
      if (prober->family == 4) {
        /* IPv4 raw sockets deliver the IP header. */
        if (length < 20) continue;
        size_t header = (size_t)(packet[0] & 0x0f) * 4;
        if (header < 20 || length < header) continue;
        if (!is_icmp) {
          if (memcmp(packet + 12, prober->target, 4) != 0) continue;
          on_tcp(prober, packet + header, length - header, out, counters);
        } else if (length >= header + 8 && is_reported_unreach(4, packet[header], packet[header + 1])) {
          on_icmp_quote(prober, packet[header], packet[header + 1], packet + header + 8, length - header - 8, out, counters);
        }
      } else {
        /* IPv6 raw sockets deliver the payload; the source is in the address. */
        if (!is_icmp) {
          if (memcmp(&from[i].sin6_addr, prober->target, 16) != 0) continue;
          on_tcp(prober, packet, length, out, counters);
        } else if (length >= 8 && is_reported_unreach(6, packet[0], packet[1])) {
          on_icmp_quote(prober, packet[0], packet[1], packet + 8, length - 8, out, counters);
        }
      }
    }
    if (count < RECV_BATCH) return;
  }
}

static void send_batch(prober_t *prober, const uint32_t *slot_indexes, int count, int_buffer_t *out, counters_t *counters) {
  static __thread uint8_t segments[SEND_BATCH][SYN_BYTES];
  struct mmsghdr messages[SEND_BATCH];
  struct iovec vectors[SEND_BATCH];
  for (int i = 0; i < count; i++) {
    slot_t *slot = &prober->slots[slot_indexes[i]];
    uint64_t now = now_ns();
    build_syn(prober, slot->port, cookie(prober, slot->port), segments[i]);
    if (prober->first_sent_ns[slot->port] == 0) prober->first_sent_ns[slot->port] = now;
    /* The engine's timeout runs from here, not from when JavaScript queued the probe. */
    stamp_sent(&prober->base, slot_indexes[i], slot->ticket, now);
    vectors[i].iov_base = segments[i];
    vectors[i].iov_len = SYN_BYTES;
    memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &prober->target_address;
    messages[i].msg_hdr.msg_namelen = prober->target_length;
  }
  int done = 0;
  while (done < count) {
    int sent = sendmmsg(prober->tcp_fd, messages + done, (unsigned)(count - done), MSG_DONTWAIT);
    if (sent > 0) {
      done += sent;
      counters->sent += (uint64_t)sent;
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    /* A local resource ran out (ENOBUFS, EAGAIN ...): the engine backs off and sends these again. */
    int error = sent < 0 ? errno : EAGAIN;
    for (int i = done; i < count; i++) {
      slot_t *slot = &prober->slots[slot_indexes[i]];
      record_outcome(prober, out, slot_indexes[i], -error, 0, -1, -1);
      slot->in_flight = 0;
      prober->slot_of_port[slot->port] = -1;
    }
    return;
  }
}

static void run_commands(prober_t *prober, const int_buffer_t *commands, int_buffer_t *out, counters_t *counters) {
  uint32_t batch[SEND_BATCH];
  int pending = 0;
  for (size_t at = 0; at + COMMAND_INTS <= commands->count; at += COMMAND_INTS) {
    uint32_t slot_index = (uint32_t)commands->items[at];
    uint32_t port = (uint32_t)commands->items[at + 1];
    int32_t ticket = commands->items[at + 2];
    slot_t *slot = &prober->slots[slot_index];
    if (port == 0) {
      if (slot->in_flight && slot->ticket == ticket) {
        slot->in_flight = 0;
        if (prober->slot_of_port[slot->port] == (int32_t)slot_index) prober->slot_of_port[slot->port] = -1;
      }
      continue;
    }
    if (slot->in_flight) continue;
    slot->port = (uint16_t)port;
    slot->ticket = ticket;
    slot->in_flight = 1;
    prober->slot_of_port[port] = (int32_t)slot_index;
    batch[pending++] = slot_index;
    if (pending == SEND_BATCH) {
      send_batch(prober, batch, pending, out, counters);
      pending = 0;
    }
  }
  if (pending) send_batch(prober, batch, pending, out, counters);
}

static void *run_worker(void *argument) {
  prober_t *prober = (prober_t *)argument;
  int_buffer_t commands = {0}, out = {0};
  struct pollfd fds[3] = {{prober->wake_fd, POLLIN, 0}, {prober->tcp_fd, POLLIN, 0}, {prober->icmp_fd, POLLIN, 0}};
  for (;;) {
    int ready = poll(fds, 3, -1);
    if (ready < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      if (read(prober->wake_fd, &count, sizeof count) < 0) { /* nothing to read: fine */ }
    }
    pthread_mutex_lock(&prober->base.lock);
    int stop = prober->stop;
    uint64_t drain_request = prober->drain_requested;
    buffer_swap(&commands, &prober->commands);
    prober->commands.count = 0;
    pthread_mutex_unlock(&prober->base.lock);
    if (stop) break;
    counters_t counters = {0, 0, 0, 0};
    /* Answers first: a probe in flight that has been answered is free before its port is sent again. */
    read_socket(prober, prober->tcp_fd, 0, &out, &counters);
    read_socket(prober, prober->icmp_fd, 1, &out, &counters);
    run_commands(prober, &commands, &out, &counters);
    commands.count = 0;
    pthread_mutex_lock(&prober->base.lock);
    prober->answers += counters.answers;
    prober->invalid += counters.invalid;
    prober->unsolicited += counters.unsolicited;
    prober->sent += counters.sent;
    pthread_mutex_unlock(&prober->base.lock);
    publish(&prober->base, &out, drain_request, &prober->drain_served);
  }
  free(commands.items);
  free(out.items);
  return NULL;
}

static void wake(prober_t *prober) { signal_eventfd(prober->wake_fd); }

/* ---- sockets ---- */

/* The source address the kernel routes from towards the target: a UDP connect sends nothing. */
static int find_source(prober_t *prober) {
  int fd = socket(prober->family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  struct sockaddr_storage probe = prober->target_address;
  set_port(&probe, prober->family, 9);
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  int error = 0;
  if (connect(fd, (struct sockaddr *)&probe, prober->target_length) != 0 || getsockname(fd, (struct sockaddr *)&local, &length) != 0) error = errno;
  close(fd);
  if (error) return error;
  if (prober->family == 4) memcpy(prober->source, &((struct sockaddr_in *)&local)->sin_addr, 4);
  else memcpy(prober->source, &((struct sockaddr_in6 *)&local)->sin6_addr, 16);
  return 0;
}

/* The source address, port 0. */
static socklen_t source_address(const prober_t *prober, struct sockaddr_storage *local) {
  memset(local, 0, sizeof *local);
  if (prober->family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)local;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, prober->source, 4);
    return sizeof *a;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)local;
  a->sin6_family = AF_INET6;
  memcpy(&a->sin6_addr, prober->source, 16);
  return sizeof *a;
}

/* Reserves a source port: a TCP socket bound to it and never listening or connecting. */
static int reserve_source_port(prober_t *prober) {
  int domain = prober->family == 4 ? AF_INET : AF_INET6;
  prober->port_fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (prober->port_fd < 0) return errno;
  struct sockaddr_storage local;
  socklen_t length = source_address(prober, &local);
  if (bind(prober->port_fd, (struct sockaddr *)&local, length) != 0) return errno;
  length = sizeof local;
  if (getsockname(prober->port_fd, (struct sockaddr *)&local, &length) != 0) return errno;
  prober->source_port = ntohs(prober->family == 4 ? ((struct sockaddr_in *)&local)->sin_port : ((struct sockaddr_in6 *)&local)->sin6_port);
  return 0;
}

static int attach_filter(int fd, struct sock_filter *code, unsigned short length) {
  struct sock_fprog program = {length, code};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0 ? 0 : errno;
}

static void grow_buffers(int fd) {
  int bytes = SOCKET_BUFFER_BYTES;
  /* FORCE goes past rmem_max with CAP_NET_ADMIN; the plain option is the fallback. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

/*
 * The raw sockets, with kernel filters so the worker never sees the host's other TCP traffic:
 * a raw TCP socket receives a copy of every TCP segment the host gets.
 */
static int open_raw_sockets(prober_t *prober) {
  int domain = prober->family == 4 ? AF_INET : AF_INET6;
  prober->tcp_fd = socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (prober->tcp_fd < 0) return errno;
  prober->icmp_fd = socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, prober->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  if (prober->icmp_fd < 0) return errno;
  grow_buffers(prober->tcp_fd);
  grow_buffers(prober->icmp_fd);
  int error;
  if (prober->family == 4) {
    uint32_t target;
    memcpy(&target, prober->target, 4);
    /* IPv4: the segment follows the IP header; keep source == target and destination port == ours. */
    struct sock_filter tcp[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(target), 0, 4),
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, prober->source_port, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    /* ICMP: destination unreachable only. */
    struct sock_filter icmp[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
        BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    if ((error = attach_filter(prober->tcp_fd, tcp, sizeof tcp / sizeof tcp[0]))) return error;
    if ((error = attach_filter(prober->icmp_fd, icmp, sizeof icmp / sizeof icmp[0]))) return error;
  } else {
    /* IPv6: the segment is the whole payload; the source address is checked in the worker. */
    struct sock_filter tcp[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, prober->source_port, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    if ((error = attach_filter(prober->tcp_fd, tcp, sizeof tcp / sizeof tcp[0]))) return error;
    struct icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
    if (setsockopt(prober->icmp_fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) return errno;
  }
  /* Send from the address the checksum was computed for. */
  struct sockaddr_storage local;
  socklen_t length = source_address(prober, &local);
  if (bind(prober->tcp_fd, (struct sockaddr *)&local, length) != 0) return errno;
  return 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Joins the worker and closes every fd: the SYN prober's part of release(), at any stage. */
static void stop_prober(prober_base_t *base) {
  prober_t *prober = (prober_t *)base;
  if (prober->thread_started) {
    pthread_mutex_lock(&base->lock);
    prober->stop = 1;
    pthread_mutex_unlock(&base->lock);
    wake(prober);
    pthread_join(prober->thread, NULL);
    prober->thread_started = 0;
  }
  close_fd(&prober->tcp_fd);
  close_fd(&prober->icmp_fd);
  close_fd(&prober->port_fd);
  close_fd(&prober->wake_fd);
}

static void dispose_prober(prober_base_t *base) {
  prober_t *prober = (prober_t *)base;
  free(prober->commands.items);
  free(prober->slots);
  free(prober);
}

static const prober_kind_t SYN_PROBER = {"SYN prober", {0x706f72746d617472ull, 0x73796e2070726f62ull}, stop_prober, dispose_prober};

/* Everything the worker needs, in order; the step that failed is named in the error. */
static int open_prober(prober_t *prober, const char **step) {
  int error = 0;
  prober->slots = calloc(prober->base.slot_count, sizeof(slot_t));
  if (!prober->slots) return *step = "allocate", ENOMEM;
  for (uint32_t i = 0; i < 65536; i++) prober->slot_of_port[i] = -1;
  if (getrandom(prober->key, sizeof prober->key, 0) != (ssize_t)sizeof prober->key) return *step = "getrandom", errno;
  if ((error = find_source(prober))) return *step = "route to the target", error;
  if ((error = reserve_source_port(prober))) return *step = "reserve a source port", error;
  if ((error = open_raw_sockets(prober))) return *step = "open a raw socket", error;
  if ((prober->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) return *step = "eventfd", errno;
  return 0;
}

/* createProber(address, family, slotCount, results: Int32Array, commands: Int32Array, onResults(count),
   sentAt: Float64Array, sentTickets: Int32Array, nowMs) */
static napi_value create_prober(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "createProber(address, family, slotCount, results, commands, onResults, sentAt, sentTickets, nowMs)");
    return NULL;
  }
  char address[64];
  size_t address_length = 0;
  int32_t family = 0;
  uint32_t slot_count = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length));
  CHECK(napi_get_value_int32(env, argv[1], &family));
  CHECK(napi_get_value_uint32(env, argv[2], &slot_count));
  prober_arrays_t arrays;
  if (!read_arrays(env, argv + 3, slot_count, &arrays)) {
    napi_throw_type_error(env, NULL, "results and commands must be Int32Arrays of at least one record, sentAt and sentTickets one entry per slot; slotCount > 0");
    return NULL;
  }
  prober_t *prober = calloc(1, sizeof *prober);
  if (!prober) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  /* From here on every failure goes through release(), which gives back what exists so far. */
  base_init(&prober->base, &SYN_PROBER, env, &arrays, slot_count);
  prober->tcp_fd = prober->icmp_fd = prober->port_fd = prober->wake_fd = -1;
  prober->family = family;
  if (!parse_address(address, family, &prober->target_address, &prober->target_length)) {
    release(&prober->base);
    napi_throw_type_error(env, NULL, "not an IPv4/IPv6 address literal");
    return NULL;
  }
  if (family == 4) memcpy(prober->target, &((struct sockaddr_in *)&prober->target_address)->sin_addr, 4);
  else memcpy(prober->target, &((struct sockaddr_in6 *)&prober->target_address)->sin6_addr, 16);
  const char *step = "start";
  int error = open_prober(prober, &step);
  if (error) return fail_start(&prober->base, error, step);
  napi_value external;
  if ((error = base_start(&prober->base, &arrays, "portmatrix:syn-prober", &external))) return fail_start(&prober->base, error, "start");
  /* The thread last: nothing can fail after it but its own start. */
  if ((error = pthread_create(&prober->thread, NULL, run_worker, prober))) return fail_start(&prober->base, error, "pthread_create");
  prober->thread_started = 1;
  return external;
}

/* submit(prober, count): hands `count` commands (slot, port, ticket) to the worker; port 0 aborts. */
static napi_value submit(napi_env env, napi_callback_info info) {
  uint32_t count = 0;
  prober_t *prober = (prober_t *)submit_call(env, info, &SYN_PROBER, &count);
  if (!prober) return NULL;
  pthread_mutex_lock(&prober->base.lock);
  int ok = buffer_reserve(&prober->commands, (size_t)count * COMMAND_INTS) == 0;
  if (ok) {
    memcpy(prober->commands.items + prober->commands.count, prober->base.command_input, (size_t)count * COMMAND_INTS * sizeof(int32_t));
    prober->commands.count += (size_t)count * COMMAND_INTS;
  }
  pthread_mutex_unlock(&prober->base.lock);
  if (ok) wake(prober); /* else lost: the probes time out and are sent again */
  return NULL;
}

/* drain(prober): the worker reads its sockets once more, then answers are delivered now. */
static napi_value drain_now(napi_env env, napi_callback_info info) {
  prober_t *prober = (prober_t *)drain_call(env, info, &SYN_PROBER);
  if (!prober) return NULL; /* destroyed (an error is thrown), or called from its own onResults */
  pthread_mutex_lock(&prober->base.lock);
  uint64_t wanted = ++prober->drain_requested;
  pthread_mutex_unlock(&prober->base.lock);
  wake(prober);
  uint64_t *served = &prober->drain_served;
  wait_drained_and_deliver(&prober->base, &served, &wanted, 1);
  return NULL;
}

/* stats(prober): { sent, answers, invalid, unsolicited, sourcePort } */
static napi_value stats(napi_env env, napi_callback_info info) {
  prober_t *prober = (prober_t *)prober_call(env, info, &SYN_PROBER);
  if (!prober) return NULL;
  pthread_mutex_lock(&prober->base.lock);
  double values[5] = {(double)prober->sent, (double)prober->answers, (double)prober->invalid, (double)prober->unsolicited, prober->source_port};
  pthread_mutex_unlock(&prober->base.lock);
  const char *names[5] = {"sent", "answers", "invalid", "unsolicited", "sourcePort"};
  napi_value result, value;
  CHECK(napi_create_object(env, &result));
  for (int i = 0; i < 5; i++) {
    CHECK(napi_create_double(env, values[i], &value));
    CHECK(napi_set_named_property(env, result, names[i], value));
  }
  return result;
}

static napi_value destroy(napi_env env, napi_callback_info info) { return destroy_call(env, info, &SYN_PROBER); }

/* rawSocketError(family): 0 when this process may open a raw TCP socket of that family, else the errno. */
static napi_value raw_socket_error(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t family = 4;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &family));
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
  int error = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  napi_value result;
  CHECK(napi_create_int32(env, error, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"rawSocketError", NULL, raw_socket_error, NULL, NULL, NULL, napi_default, NULL},
      {"createProber", NULL, create_prober, NULL, NULL, NULL, napi_default, NULL},
      {"submit", NULL, submit, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, drain_now, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
