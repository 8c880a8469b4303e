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

/* Loads the app ELF (a boot module), builds its stack from cfg and enters
 * ring 3. Returns only if the app could not be started (the reason was
 * printed); the caller then ends the boot. */
void app_start(const void *elf, size_t size, const struct boot_config *cfg);

/* The app's address space, for syscalls copying to and from it. */
const struct vm_ctx *app_context(void);

_Noreturn void app_exit(int status);
/* A fault or a broken promise of the app: prints "solo: app killed: reason
 * at rip=... addr=..." and exits with 128 + signal. */
_Noreturn void app_kill(int signal, const char *reason, uint64_t rip, uint64_t addr);
