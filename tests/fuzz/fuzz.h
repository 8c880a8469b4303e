/*
 * What every fuzzer in tests/fuzz/ shares. Each fuzz_<target>.c defines
 * libFuzzer's LLVMFuzzerTestOneInput over one real kernel module, built
 * with -fsanitize=fuzzer,address,undefined (Makefile: make fuzz,
 * make test-fuzz).
 *
 * FUZZ_ASSERT(cond) - a broken contract of the module under test: prints
 * the condition and where, then abort()s, which libFuzzer reports as a
 * crash and saves the input (never compiled out).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__,        \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_acpi: the input is physical memory from here (the RSDP first), at
 * most FUZZ_ACPI_MAX bytes; tests/fuzz/gen_seeds.c lays its tables out so. */
#define FUZZ_ACPI_BASE 0xe0000ull
#define FUZZ_ACPI_MAX  (64u << 10)
