/*
 * The one app: start it, end it, kill it. Every way the app can end goes
 * through app_exit(), which prints "solo: exit N", returns the app's pages
 * and applies boot.cfg's on_exit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootcfg.h"
#include "mm/vm.h"

/* Loads the app ELF (a boot module) into its own address space and builds
 * its stack from cfg. After it returns 0 the ELF bytes are no longer needed.
 * Returns a negative error when the app cannot start (the reason was
 * printed). */
int app_load(const void *elf, size_t size, const struct boot_config *cfg);
/* Enters the loaded app in ring 3. */
_Noreturn void app_enter(void);

/* The app's address space, for syscalls copying to and from it. */
const struct vm_ctx *app_context(void);

_Noreturn void app_exit(int status);
/* A fault or a broken promise of the app: prints "solo: app killed: reason
 * at rip=... addr=..." and exits with 128 + signal. */
_Noreturn void app_kill(int signal, const char *reason, uint64_t rip, uint64_t addr);
