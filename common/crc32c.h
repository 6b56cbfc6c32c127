/* crc32c.h: CRC-32C (Castagnoli), the digit store's check of each block. */
#ifndef NTHPI_CRC32C_H
#define NTHPI_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns the CRC-32C of data[0..len) continued from crc, the CRC of what
 * came before (0 to start): crc32c(crc32c(0, a, n), b, m) is the CRC of a
 * and b one after the other. Uses the CPU's crc32 instruction where there
 * is one (x86-64 with SSE4.2), a table otherwise; both give the same
 * values. Safe from any thread.
 */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/* crc32c by the table alone, whatever the CPU: for the tests, which check
 * that both ways agree, and the benchmark. */
uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len);

/* Returns 1 if crc32c uses the CPU's instruction, 0 if the table (for the
 * benchmark's report). */
int crc32c_hardware(void);

#endif
