/*
 * The one entry point every fuzz target defines.  Built with libFuzzer
 * (--enable-fuzzing) the fuzzer calls it; otherwise replay_main.c calls it
 * once per file of the committed corpus, so make check runs the corpus.
 */
#ifndef TK_FUZZ_H
#define TK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* data[0..size) is owned by the caller and valid only during the call. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
