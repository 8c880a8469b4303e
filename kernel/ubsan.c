/*
 * The sanitized kernel's UBSan handlers and stack-protector guard (see
 * ubsan.h). The data layouts are GCC's (libsanitizer's ubsan_handlers.h):
 * every handler's data starts with the source location, except
 * nonnull_return_v1's, which passes it as the second argument.
 */
#include "kernel/ubsan.h"

#ifndef SOLO_SANITIZE

void ubsan_stack_guard_init(void)
{
}

#else

#include <stdint.h>

#include "kernel/arch/x86_64/arch.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"

struct source_location {
	const char *file;
	uint32_t line;
	uint32_t column;
};

struct type_descriptor {
	uint16_t kind;
	uint16_t info;
	char name[];
};

struct type_mismatch_data {
	struct source_location loc;
	const struct type_descriptor *type;
	unsigned char log_alignment;
	unsigned char type_check_kind;
};

struct nonnull_return_data {
	struct source_location attr_loc;
};

/* Changed from this fixed value by ubsan_stack_guard_init; non-zero so a
 * string copy that overruns a buffer (ending in NUL) cannot rebuild it. */
uintptr_t __stack_chk_guard = 0x5e1f0a7d2c61b00dul;

/* Without a canary of its own: it changes the guard its check would use. */
__attribute__((no_stack_protector)) void ubsan_stack_guard_init(void)
{
	uintptr_t g;

	arch_random_bytes(&g, sizeof(g));
	g &= ~(uintptr_t)0xff; /* a zero low byte stops string overruns, as glibc does */
	__stack_chk_guard = g | 0x100;
}

_Noreturn void __stack_chk_fail(void);
_Noreturn void __stack_chk_fail(void)
{
	/* The check is the smashed function's last call: one byte back is
	 * still inside it, for addr2line. */
	panic("stack protector: canary overwritten in the function at %p",
	      (char *)__builtin_return_address(0) - 1);
}

static int reporting;

/* The handlers' value arguments are part of GCC's calling convention, not
 * of the report. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* Panics for the kind at loc; returns only when a report is already being
 * printed (the panic's own printing hit undefined behaviour). */
static void report(const char *kind, const struct source_location *loc)
{
	if (reporting)
		return;
	reporting = 1;
	panic("ubsan: %s at %s:%u:%u", kind, loc->file ? loc->file : "?", loc->line, loc->column);
}

/* Each handler as GCC names it; the arguments beyond the data are values
 * (or pointers to them) the report does not need beyond the kind. */
#define HANDLER(name, kind, ...)                                                                   \
	void __ubsan_handle_##name(const struct source_location *data, ##__VA_ARGS__);             \
	void __ubsan_handle_##name(const struct source_location *data, ##__VA_ARGS__)              \
	{                                                                                          \
		report(kind, data);                                                                \
	}

HANDLER(add_overflow, "signed addition overflow", uintptr_t a, uintptr_t b)
HANDLER(sub_overflow, "signed subtraction overflow", uintptr_t a, uintptr_t b)
HANDLER(mul_overflow, "signed multiplication overflow", uintptr_t a, uintptr_t b)
HANDLER(negate_overflow, "signed negation overflow", uintptr_t a)
HANDLER(divrem_overflow, "division by zero or overflow", uintptr_t a, uintptr_t b)
HANDLER(shift_out_of_bounds, "shift out of bounds", uintptr_t a, uintptr_t b)
HANDLER(out_of_bounds, "array index out of bounds", uintptr_t index)
HANDLER(builtin_unreachable, "unreachable code reached")
HANDLER(missing_return, "end of a value-returning function reached")
HANDLER(vla_bound_not_positive, "variable-length array bound not positive", uintptr_t bound)
HANDLER(load_invalid_value, "load of a value invalid for its type (bool or enum)", uintptr_t v)
HANDLER(nonnull_arg, "null passed as an argument declared nonnull")
HANDLER(pointer_overflow, "pointer arithmetic overflow", uintptr_t base, uintptr_t result)
HANDLER(invalid_builtin, "invalid argument to a builtin (clz or ctz of 0)")

void __ubsan_handle_type_mismatch_v1(const struct type_mismatch_data *data, uintptr_t ptr);
void __ubsan_handle_type_mismatch_v1(const struct type_mismatch_data *data, uintptr_t ptr)
{
	uintptr_t align = (uintptr_t)1 << data->log_alignment;

	if (!ptr)
		report("null pointer use", &data->loc);
	else if (ptr & (align - 1))
		report("misaligned pointer use", &data->loc);
	else
		report("access to an object too small for its type", &data->loc);
}

void __ubsan_handle_nonnull_return_v1(const struct nonnull_return_data *data,
				      const struct source_location *loc);
void __ubsan_handle_nonnull_return_v1(const struct nonnull_return_data *data,
				      const struct source_location *loc)
{
	(void)data;
	report("null returned from a function declared returns_nonnull", loc);
}

#endif /* SOLO_SANITIZE */
