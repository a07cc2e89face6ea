/*
 * syn-answerer: answers every TCP SYN to a port range (IPv4) from userspace, inside a test host,
 * to test that a SYN scan believes only answers that acknowledge its own SYN from the probed port.
 *
 * Why userspace: the kernel never sends a wrong answer. This reads SYNs from an AF_PACKET socket
 * (it sees them before netfilter, so an nftables drop rule keeps the kernel itself silent on the
 * range) and writes answers through a raw IP socket:
 *   --mode wrong-ack   SYN-ACK and RST from the probed port acknowledging seq + 1 + 2^24
 *   --mode wrong-port  SYN-ACK and RST acknowledging seq + 1, but from the next port up
 *   --mode valid       SYN-ACK acknowledging seq + 1 from the probed port (a host that answers everything)
 *   --mode valid-once  the same, for the first SYN to each port only (a listener that came and went)
 *
 * Usage: syn-answerer --mode M --ports LOW-HIGH
 * Prints "ready" on stdout once the sockets are open; on SIGTERM/SIGINT prints
 * "answered N" on stderr and exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum mode { MODE_VALID, MODE_VALID_ONCE, MODE_WRONG_ACK, MODE_WRONG_PORT };

static volatile sig_atomic_t stopping = 0;
static void on_signal(int signal_number) { (void)signal_number; stopping = 1; }

static uint16_t checksum(const uint8_t *data, size_t length, uint32_t sum) {
  for (size_t at = 0; at + 1 < length; at += 2) sum += (uint32_t)(data[at] << 8 | data[at + 1]);
  if (length & 1) sum += (uint32_t)data[length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void put16(uint8_t *at, uint16_t value) { at[0] = (uint8_t)(value >> 8); at[1] = (uint8_t)value; }
static void put32(uint8_t *at, uint32_t value) { put16(at, (uint16_t)(value >> 16)); put16(at + 2, (uint16_t)value); }
static uint16_t get16(const uint8_t *at) { return (uint16_t)(at[0] << 8 | at[1]); }
static uint32_t get32(const uint8_t *at) { return (uint32_t)get16(at) << 16 | get16(at + 2); }

/* One IPv4 + TCP segment from `from_port` of `source` to `to_port` of `destination`. */
static int send_answer(int fd, const uint8_t source[4], const uint8_t destination[4], uint16_t from_port, uint16_t to_port,
                       uint8_t flags, uint32_t ack) {
  uint8_t packet[40];
  memset(packet, 0, sizeof packet);
  packet[0] = 0x45;
  put16(packet + 2, sizeof packet);
  packet[8] = 64;
  packet[9] = IPPROTO_TCP;
  memcpy(packet + 12, source, 4);
  memcpy(packet + 16, destination, 4);
  put16(packet + 10, checksum(packet, 20, 0));
  uint8_t *tcp = packet + 20;
  put16(tcp, from_port);
  put16(tcp + 2, to_port);
  put32(tcp + 4, (uint32_t)random());
  put32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(tcp + 14, 65535);
  uint32_t pseudo = 0;
  for (int i = 0; i < 4; i += 2) pseudo += (uint32_t)(source[i] << 8 | source[i + 1]) + (uint32_t)(destination[i] << 8 | destination[i + 1]);
  pseudo += IPPROTO_TCP + 20;
  put16(tcp + 16, checksum(tcp, 20, pseudo));
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  memcpy(&to.sin_addr, destination, 4);
  return sendto(fd, packet, sizeof packet, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof packet ? 0 : -1;
}

int main(int argc, char **argv) {
  enum mode mode = MODE_VALID;
  long low = 0, high = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--mode") == 0) {
      if (strcmp(argv[i + 1], "valid") == 0) mode = MODE_VALID;
      else if (strcmp(argv[i + 1], "valid-once") == 0) mode = MODE_VALID_ONCE;
      else if (strcmp(argv[i + 1], "wrong-ack") == 0) mode = MODE_WRONG_ACK;
      else if (strcmp(argv[i + 1], "wrong-port") == 0) mode = MODE_WRONG_PORT;
      else high = -2;
    } else if (strcmp(argv[i], "--ports") == 0) {
      if (sscanf(argv[i + 1], "%ld-%ld", &low, &high) != 2) high = -2;
    }
  }
  if (low < 1 || high > 65535 || high < low) {
    fprintf(stderr, "usage: syn-answerer --mode valid|valid-once|wrong-ack|wrong-port --ports LOW-HIGH\n");
    return 2;
  }
  int capture = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  int sender = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (capture < 0 || sender < 0) {
    fprintf(stderr, "syn-answerer: socket: %s\n", strerror(errno));
    return 1;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("ready\n");
  fflush(stdout);
  unsigned long answered = 0;
  static uint8_t answered_port[65536];
  uint8_t packet[2048];
  while (!stopping) {
    struct pollfd ready = {capture, POLLIN, 0};
    if (poll(&ready, 1, 200) <= 0) continue;
    struct sockaddr_ll from;
    socklen_t from_length = sizeof from;
    ssize_t length = recvfrom(capture, packet, sizeof packet, 0, (struct sockaddr *)&from, &from_length);
    if (length < 40 || from.sll_pkttype == PACKET_OUTGOING || (packet[0] >> 4) != 4 || packet[9] != IPPROTO_TCP) continue;
    size_t header = (size_t)(packet[0] & 0x0f) * 4;
    if ((size_t)length < header + 20) continue;
    const uint8_t *tcp = packet + header;
    uint16_t source_port = get16(tcp), port = get16(tcp + 2);
    if ((tcp[13] & 0x12) != 0x02 || port < low || port > high) continue; /* SYN without ACK, in range */
    if (mode == MODE_VALID_ONCE && answered_port[port]++) continue;
    uint32_t ack = get32(tcp + 4) + 1;
    uint16_t from_port = port;
    if (mode == MODE_WRONG_ACK) ack += 1u << 24;
    if (mode == MODE_WRONG_PORT) from_port = port == 65535 ? 1 : port + 1;
    /* Answer from the probed address (the SYN's destination) to the scanner. */
    int failed = send_answer(sender, packet + 16, packet + 12, from_port, source_port, 0x12, ack);
    if (mode == MODE_WRONG_ACK || mode == MODE_WRONG_PORT) failed |= send_answer(sender, packet + 16, packet + 12, from_port, source_port, 0x14, ack);
    if (!failed) answered++;
  }
  fprintf(stderr, "answered %lu\n", answered);
  return 0;
}
