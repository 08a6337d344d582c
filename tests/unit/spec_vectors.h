/*
 * The twamp-control.md §12 handshake vector (plaintext messages and the
 * SID), defined once in spec_vectors.c for the unit tests that use it.
 */
#ifndef TK_SPEC_VECTORS_H
#define TK_SPEC_VECTORS_H

#include <stdint.h>

extern const uint8_t vec_greeting[64];
extern const uint8_t vec_setup[164];
extern const uint8_t vec_server_start_plain[48];
extern const uint8_t vec_request_plain[112];
extern const uint8_t vec_accept_plain[48];
extern const uint8_t vec_start_plain[32];
extern const uint8_t vec_start_ack_plain[32];
extern const uint8_t sid_12[16];

#endif
