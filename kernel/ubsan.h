/*
 * ubsan - the runtime of the sanitized kernel (make kernel-san, built with
 * SOLO_SANITIZE): the handlers GCC's -fsanitize=undefined calls, and the
 * stack protector's guard and failure for -fstack-protector-strong
 * -mstack-protector-guard=global.
 *
 * Every handler reports the kind of undefined behaviour and its source
 * location, then panics: "solo: panic: ubsan: <kind> at file:line:col".
 * A smashed stack canary panics with "solo: panic: stack protector: ...".
 * Nothing here returns to the code that misbehaved: in the sanitized kernel
 * undefined behaviour is a kernel bug, found, not survived. (A handler
 * reached again while the panic is being printed returns, so a fault in
 * the printing cannot loop.)
 *
 * The handlers are called only by compiler-generated code and are not
 * declared here; the release kernel compiles this module to nothing.
 */
#pragma once

/*
 * ubsan_stack_guard_init - give the stack protector's guard a random value
 * (RDRAND when the CPU has it, else the TSC: kernel/arch/x86_64/arch.h).
 * Call once, early in kmain: no function that is running then may return
 * later (kmain itself never returns). Until then the guard is a fixed
 * non-zero value. No-op in the release kernel.
 */
void ubsan_stack_guard_init(void);
