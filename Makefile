# Solo: one non-recursive Makefile. Every output goes under build/.
#
#   make            build the stub, kernel, demo app, host tools and the image
#   make run        install missing packages, build, boot the demo in QEMU
#   make test       install missing packages, build, run the whole suite
#   make fuzz       the host fuzzers, FUZZ_SECONDS each (see "host fuzzers")
#   make fuzz-guest the in-guest syscall fuzzer and fsx over SEEDS (see "fuzz-guest")
#   make debug      boot with QEMU waiting for gdb (see tools/gdbinit)
#   make bench      mm/ on the host; in the guest: syscalls, vDSO, boot, python vs static
#   make deps | image | clean | format-check
#   make real-programs   fetch + build the real-program tests' Debian programs
#   make bench-net  nginx and the Go httpd on Solo and on Linux 6.1, same QEMU (not a test)
#   make bench-apps sqlite, Lua, malloc, realloc, read, mmap, futex: Solo/Linux 6.1 (not a test)
#   make torture-net  hostile frames at a server (TORTURE_FRAMES, TORTURE_SEED, TORTURE_NIC)
#
#   make kernel-san     build/kernel-san.elf: UBSan, stack protector, failalloc= (issue 15)
#   make test-sanitized the boot suite on it [FILTER='suite/*'];  make sweep-alloc
#
# DEBUG=1 builds the kernel with extra checks (kmalloc canaries, -O1).

MAKEFLAGS += -rR --no-print-directory
.SUFFIXES:
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

B        := build
NPROC    := $(shell nproc 2>/dev/null || echo 2)
CC       := gcc
LD       := ld
OBJCOPY  := objcopy
MUSLCC   := musl-gcc
DEBUG    ?= 0

WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wvla \
        -Wpointer-arith

# ---------------------------------------------------------------- kernel
KERNEL_CFLAGS := -std=gnu11 -g $(WARN) -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
        -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mgeneral-regs-only \
        -fno-omit-frame-pointer -fno-stack-protector -fno-asynchronous-unwind-tables \
        -fno-strict-aliasing -fcf-protection=none -Iinclude -I. -MMD -MP
ifeq ($(DEBUG),1)
KERNEL_CFLAGS += -O1 -DKMALLOC_CHECK=1 -DSOLO_DEBUG=1
else
KERNEL_CFLAGS += -O2
endif
ifeq ($(KMALLOC_CHECK),1)
KERNEL_CFLAGS += -DKMALLOC_CHECK=1
endif
KERNEL_ASFLAGS := -g -Iinclude -I. -MMD -MP -D__ASSEMBLY__
KERNEL_LDSCRIPT := kernel/arch/x86_64/kernel.ld

KERNEL_SRCS := $(wildcard kernel/*.c kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S mm/*.c fs/*.c \
                         drivers/*.c net/*.c net/lwip/*.c)
KERNEL_OBJS := $(patsubst %,$(B)/kernel/%.o,$(KERNEL_SRCS))

# ---------------------------------------------------------------- lwIP (issue 11)
# TCP/IP is lwIP 2.1.3, Debian's source package, fetched at build time by
# tools/fetch-source.sh (pinned: version and the .dsc's sha256) into
# $(B)/src and reached through the link $(LWIP)/tree; never committed.
# Solo's port is net/lwip/ (lwipopts.h, arch/cc.h, port.c). lwIP's own
# sources are built with the kernel's flags but without warnings (not our
# code to fix); net/lwip/freestanding/ gives them <string.h> and <stdlib.h>.
LWIP_PIN := lwip 2.1.3+dfsg1-2 8d8f944db8e6d542fc2d6f01559078fb1b5dda71651c67ee5fa3571ed1342c50
LWIP     := $(B)/lwip
LWIP_INC := -Inet/lwip -I$(LWIP)/tree/src/include
LWIP_CORE := core/def.c core/dns.c core/inet_chksum.c core/init.c core/ip.c core/mem.c \
        core/memp.c core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c \
        core/tcp_in.c core/tcp_out.c core/timeouts.c core/udp.c core/ipv4/dhcp.c \
        core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c core/ipv4/ip4_addr.c \
        core/ipv4/ip4_frag.c core/ipv6/ethip6.c core/ipv6/icmp6.c core/ipv6/inet6.c \
        core/ipv6/ip6.c core/ipv6/ip6_addr.c core/ipv6/ip6_frag.c core/ipv6/mld6.c \
        core/ipv6/nd6.c netif/ethernet.c
LWIP_KERNEL_OBJS := $(patsubst %.c,$(B)/kernel/lwip/%.o,$(LWIP_CORE))
LWIP_PORT_HDRS := net/lwip/lwipopts.h net/lwip/arch/cc.h

$(LWIP)/.fetched: tools/fetch-source.sh
	@mkdir -p $(@D)
	tree=$$(tools/fetch-source.sh $(B)/src $(LWIP_PIN)) && ln -sfn "../src/$${tree##*/}" $(LWIP)/tree
	touch $@
$(B)/kernel/lwip/%.o: $(LWIP)/.fetched $(LWIP_PORT_HDRS) $(B)/flags/kernel
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -w $(LWIP_INC) -Inet/lwip/freestanding -c $(LWIP)/tree/src/$*.c -o $@
# The kernel's own users of lwIP's headers (net/) need the tree first.
LWIP_USER_OBJS := $(patsubst %,$(B)/kernel/%.o,$(filter net/%,$(KERNEL_SRCS)))
$(LWIP_USER_OBJS): $(LWIP)/.fetched
# (KERNEL_INC, not KERNEL_CFLAGS +=: a target's variables reach its
# prerequisites, and the flags stamp would flip between two values.)
$(LWIP_USER_OBJS): KERNEL_INC := $(LWIP_INC)
KERNEL_OBJS += $(LWIP_KERNEL_OBJS)
# ---------------------------------------------------------------- (end of lwIP)

# Changing a flag set rebuilds what it builds: set FLAGS_<name> is written
# to the stamp $(B)/flags/<name>, which changes only when the flags do, and
# the objects depend on it. The stamps are precious: make would otherwise
# delete them as intermediates, and the next run would rebuild everything.
FORCE:
.PHONY: FORCE
.PRECIOUS: $(B)/flags/%
$(B)/flags/%: FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS_$*)' | cmp -s - $@ 2>/dev/null || echo '$(FLAGS_$*)' > $@
FLAGS_kernel = $(CC) $(KERNEL_CFLAGS) $(KERNEL_ASFLAGS)

$(B)/kernel/%.c.o: %.c $(B)/flags/kernel
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_INC) -c $< -o $@
$(B)/kernel/%.S.o: %.S $(B)/flags/kernel
	@mkdir -p $(@D)
	$(CC) $(KERNEL_ASFLAGS) -c $< -o $@

# ---------------------------------------------------------------- console font (drivers/fbcon)
# The framebuffer console draws Terminus from Debian's console-setup-linux
# (tools/deps.sh installs it). tools/psf2c turns the PSF files into C tables,
# $(B)/gen/font.c, linked into the kernel (KERNEL_GEN_OBJS), the host unit
# tests and the boot tests (which read the screen back with it).
FONT_DIR   ?= /usr/share/consolefonts
FONT_NAMES := Uni2-Terminus16 Uni2-Terminus32x16
FONT_PSFS  := $(patsubst %,$(B)/gen/%.psf,$(FONT_NAMES))
$(FONT_DIR)/%.psf.gz:
	@echo "missing $@: install console-setup-linux (make deps)" >&2; exit 1
$(B)/gen/%.psf: $(FONT_DIR)/%.psf.gz
	@mkdir -p $(@D)
	gzip -dc $< > $@
$(B)/tools/psf2c: tools/psf2c.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $< -o $@
$(B)/gen/font.c: $(B)/tools/psf2c $(FONT_PSFS)
	$(B)/tools/psf2c -o $@ $(FONT_PSFS)
$(B)/kernel/gen/font.o: $(B)/gen/font.c
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c $< -o $@
KERNEL_GEN_OBJS := $(B)/kernel/gen/font.o
# ---------------------------------------------------------------- (end of console font)

# ---------------------------------------------------------------- syscall names and docs (issue 5)
# The "unsupported syscall N (name)" log line names calls from the build
# machine's <asm/unistd_64.h> (tools/gen-syscall-names.sh). docs/syscalls.md
# is generated from kernel/syscall.c's dispatch table (`make docs`); the
# stamp below fails `make all` when the committed file is stale.
UNISTD_64 ?= /usr/include/x86_64-linux-gnu/asm/unistd_64.h
$(B)/gen/syscall_names.c: tools/gen-syscall-names.sh $(UNISTD_64)
	@mkdir -p $(@D)
	tools/gen-syscall-names.sh $(UNISTD_64) $@
$(B)/kernel/gen/syscall_names.o: $(B)/gen/syscall_names.c
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c $< -o $@
KERNEL_GEN_OBJS += $(B)/kernel/gen/syscall_names.o
docs:
	tools/gen-syscall-docs.sh kernel/syscall.c $(UNISTD_64) > docs/syscalls.md.tmp
	mv -f docs/syscalls.md.tmp docs/syscalls.md
$(B)/gen/syscalls-doc.ok: tools/gen-syscall-docs.sh kernel/syscall.c docs/syscalls.md $(UNISTD_64)
	@mkdir -p $(@D)
	@tools/gen-syscall-docs.sh kernel/syscall.c $(UNISTD_64) | cmp -s - docs/syscalls.md || \
		{ echo "docs/syscalls.md is stale: run 'make docs'" >&2; exit 1; }
	@touch $@
.PHONY: docs
# ---------------------------------------------------------------- (end of syscall names and docs)

# ---------------------------------------------------------------- vDSO (issue 12)
# vdso/vdso.c as its own position-independent shared object (vdso.lds: one
# R+X segment from address 0, the data page below it; vdso.map: Linux's
# names at LINUX_2.6), stripped, then embedded in the kernel on whole pages
# by vdso/image.S (.incbin). No relocation may be left: nobody would apply
# it (tests/unit/test_vdso.c checks the image).
VDSO_CFLAGS := -std=gnu11 -O2 $(WARN) -ffreestanding -fPIC -fno-stack-protector \
        -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
        -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mgeneral-regs-only -fno-plt \
        -Iinclude -I. -MMD -MP
VDSO_LDFLAGS := -nostdlib -shared -Bsymbolic --no-undefined -soname=linux-vdso.so.1 \
        --hash-style=both --build-id=none -z max-page-size=4096 -z noexecstack -z norelro \
        -T vdso/vdso.lds --version-script=vdso/vdso.map
VDSO_SO := $(B)/vdso/vdso.so
FLAGS_vdso = $(CC) $(VDSO_CFLAGS) $(LD) $(VDSO_LDFLAGS)
$(B)/vdso/vdso.o: vdso/vdso.c $(B)/flags/vdso
	@mkdir -p $(@D)
	$(CC) $(VDSO_CFLAGS) -c $< -o $@
$(B)/vdso/vdso.so.dbg: $(B)/vdso/vdso.o vdso/vdso.lds vdso/vdso.map
	$(LD) $(VDSO_LDFLAGS) $< -o $@
	@if readelf -rW $@ | grep -q 'R_X86_64'; then \
		echo "$@: the vDSO has relocations; nothing would apply them" >&2; rm -f $@; exit 1; fi
$(VDSO_SO): $(B)/vdso/vdso.so.dbg
	$(OBJCOPY) -S $< $@
$(B)/kernel/vdso/image.S.o: vdso/image.S $(VDSO_SO) $(B)/flags/kernel
	@mkdir -p $(@D)
	$(CC) $(KERNEL_ASFLAGS) -DVDSO_SO='"$(VDSO_SO)"' -c $< -o $@
KERNEL_OBJS += $(B)/kernel/vdso/image.S.o
# ---------------------------------------------------------------- (end of vDSO)

# ---------------------------------------------------------------- kernel link, symbol table
# Panic reports name functions from a table linked into the kernel
# (kernel/symbols.h). Two links: the first with an empty table, whose
# `nm -n -S` tools/mksyms turns into build/gen/<image>.ksyms.c; the second
# with that table. The table is .rodata, which the link script places after
# all text, so it moves no function: the last step regenerates the table from
# the final image and fails the build if it differs.
KERNEL_LINK = $(LD) -nostdlib -static -z max-page-size=4096 -z noexecstack -T $(KERNEL_LDSCRIPT)
KSYMS_CFLAGS = $(filter-out -MMD -MP,$(KERNEL_CFLAGS))

$(B)/tools/mksyms: tools/mksyms.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $< -o $@
$(B)/gen/ksyms-empty.c: $(B)/tools/mksyms
	@mkdir -p $(@D)
	$(B)/tools/mksyms < /dev/null > $@
$(B)/kernel/gen/ksyms-empty.o: $(B)/gen/ksyms-empty.c kernel/symbols.h
	@mkdir -p $(@D)
	$(CC) $(KSYMS_CFLAGS) -c $< -o $@

# $(call link_kernel_with_symbols,objects): links $@ in two passes (above).
define link_kernel_with_symbols
	$(KERNEL_LINK) -o $@.pass1 $(1) $(B)/kernel/gen/ksyms-empty.o
	nm -n -S $@.pass1 | $(B)/tools/mksyms > $(B)/gen/$(notdir $(basename $@)).ksyms.c
	$(CC) $(KSYMS_CFLAGS) -c $(B)/gen/$(notdir $(basename $@)).ksyms.c \
		-o $(B)/kernel/gen/$(notdir $(basename $@)).ksyms.o
	$(KERNEL_LINK) -o $@ $(1) $(B)/kernel/gen/$(notdir $(basename $@)).ksyms.o
	nm -n -S $@ | $(B)/tools/mksyms | cmp -s - $(B)/gen/$(notdir $(basename $@)).ksyms.c || \
		{ echo "$@: the symbol table moved kernel text; see kernel.ld" >&2; rm -f $@; exit 1; }
	rm -f $@.pass1
endef
KSYMS_DEPS := $(B)/tools/mksyms $(B)/kernel/gen/ksyms-empty.o $(KERNEL_LDSCRIPT)

$(B)/kernel.elf: $(KERNEL_OBJS) $(KERNEL_GEN_OBJS) $(KSYMS_DEPS)
	$(call link_kernel_with_symbols,$(KERNEL_OBJS) $(KERNEL_GEN_OBJS))
	objdump -d -S $@ > $(B)/kernel.asm
	nm -n $@ > $(B)/kernel.sym

# The same kernel with a deliberate kernel fault after init: for the panic test.
$(B)/test/kernel/main-panic.o: kernel/main.c
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -DSOLO_TEST_PANIC=1 -c $< -o $@
KERNEL_PANIC_OBJS := $(filter-out $(B)/kernel/kernel/main.c.o,$(KERNEL_OBJS)) \
		$(B)/test/kernel/main-panic.o $(KERNEL_GEN_OBJS)
$(B)/test/kernel-panic.elf: $(KERNEL_PANIC_OBJS) $(KSYMS_DEPS)
	$(call link_kernel_with_symbols,$(KERNEL_PANIC_OBJS))

# ---------------------------------------------------------------- sanitized kernel (issue 15)
# $(B)/kernel-san.elf: the kernel's C once more, at -O1, with UBSan (every
# finding panics: "solo: panic: ubsan: <kind> at file:line:col",
# kernel/ubsan.c), the stack protector with one global guard (GCC's
# default reads it from %fs:0x28, which is the app's TLS here; the guard is
# random from kmain's first steps), kmalloc's canaries, and the
# allocation-failure points of mm/failinj.h (boot.cfg failalloc=). Its
# objects live under $(B)/san/, so the release kernel is not rebuilt; the
# assembly, the vDSO image, the generated tables and lwIP's own sources
# are the release kernel's objects (lwIP allocates through
# net/lwip/port.c, which is built here, so its heap is injected too).
# -fsanitize=alignment stays on: packed structures are read through their
# members, which GCC knows to be unaligned, and x86 tolerates the rest,
# but a misaligned pointer is still a bug worth a panic here.
#   make kernel-san        build it
#   make test-sanitized    the whole boot suite against it (slow: not in
#                          make test; FILTER='suite/*' narrows it)
#   make sweep-alloc       the full allocation-failure sweep (tests/boot/test_sweep.c)
SAN_CFLAGS := $(filter-out -O1 -O2 -fno-stack-protector,$(KERNEL_CFLAGS)) -O1 \
        -DKMALLOC_CHECK=1 -DSOLO_DEBUG=1 -DSOLO_SANITIZE=1 -DSOLO_FAILINJ=1 \
        -fsanitize=undefined -fstack-protector-strong -mstack-protector-guard=global
SAN_SRCS := $(filter %.c,$(KERNEL_SRCS))
# lwIP's pools (memp.c) once more, their memp_malloc renamed so that
# net/lwip/port.c can put a failure point in front of it.
SAN_LWIP_MEMP := $(B)/san/lwip/core/memp.o
SAN_OBJS := $(patsubst %,$(B)/san/%.o,$(SAN_SRCS)) $(filter %.S.o,$(KERNEL_OBJS)) \
        $(filter-out $(B)/kernel/lwip/core/memp.o,$(LWIP_KERNEL_OBJS)) $(SAN_LWIP_MEMP) \
        $(KERNEL_GEN_OBJS)
$(SAN_LWIP_MEMP): $(LWIP)/.fetched $(LWIP_PORT_HDRS) $(B)/flags/kernel
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -w $(LWIP_INC) -Inet/lwip/freestanding \
		-Dmemp_malloc=lwip_memp_malloc_pooled -c $(LWIP)/tree/src/core/memp.c -o $@
FLAGS_san = $(CC) $(SAN_CFLAGS)
$(B)/san/%.c.o: %.c $(B)/flags/san
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(SAN_INC) -c $< -o $@
SAN_NET_OBJS := $(patsubst %,$(B)/san/%.o,$(filter net/%,$(SAN_SRCS)))
$(SAN_NET_OBJS): $(LWIP)/.fetched
# (SAN_INC, not SAN_CFLAGS +=: the flags stamp, as for the kernel above.)
$(SAN_NET_OBJS): SAN_INC := $(LWIP_INC)
$(B)/kernel-san.elf: $(SAN_OBJS) $(KSYMS_DEPS)
	$(call link_kernel_with_symbols,$(SAN_OBJS))
kernel-san: $(B)/kernel-san.elf
# The same with a deliberate stack smash or undefined shift after init
# (kernel/main.c, SOLO_TEST_SANITIZERS): tests/boot/test_sweep.c checks
# that the sanitizers report them.
$(B)/test/san/main-faults.o: kernel/main.c $(B)/flags/san
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -DSOLO_TEST_SANITIZERS=1 -c $< -o $@
SAN_FAULTS_OBJS := $(filter-out $(B)/san/kernel/main.c.o,$(SAN_OBJS)) $(B)/test/san/main-faults.o
$(B)/test/kernel-san-faults.elf: $(SAN_FAULTS_OBJS) $(KSYMS_DEPS)
	$(call link_kernel_with_symbols,$(SAN_FAULTS_OBJS))

# ---------------------------------------------------------------- UEFI stub
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFI_CFLAGS := -std=gnu11 -O2 $(WARN) -Wno-missing-prototypes -Wno-strict-prototypes \
        -ffreestanding -fpic -fshort-wchar -fno-stack-protector -fno-strict-aliasing \
        -mno-red-zone -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI -DSOLO_EFI_STUB \
        -I$(EFI_INC) -I$(EFI_INC)/x86_64 -Iinclude -I. -MMD -MP
EFI_SRCS := $(wildcard efi/*.c) kernel/elf.c
EFI_OBJS := $(patsubst %,$(B)/efi/%.o,$(EFI_SRCS))

$(B)/efi/%.c.o: %.c
	@mkdir -p $(@D)
	$(CC) $(EFI_CFLAGS) -c $< -o $@
$(B)/efi/stub.so: $(EFI_OBJS)
	$(LD) -nostdlib -znocombreloc -T $(EFI_LIB)/elf_x86_64_efi.lds -shared -Bsymbolic \
		-L$(EFI_LIB) $(EFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) -o $@ -lefi -lgnuefi
$(B)/BOOTX64.EFI: $(B)/efi/stub.so
	$(OBJCOPY) -j .text -j .sdata -j .data -j .rodata -j .dynamic -j .dynsym -j .rel \
		-j .rela -j '.rel.*' -j '.rela.*' -j .reloc -j .sbat --target efi-app-x86_64 \
		--subsystem=10 $< $@

# The key enroller (tools/keys.sh --enroll-image, --ovmf-vars): its own
# EFI application, with the stub's file loading.
ENROLL_OBJS := $(B)/efi/efi/enroll/enroll.c.o $(B)/efi/efi/file.c.o $(B)/efi/efi/alloc.c.o
$(B)/efi/enroll.so: $(ENROLL_OBJS)
	$(LD) -nostdlib -znocombreloc -T $(EFI_LIB)/elf_x86_64_efi.lds -shared -Bsymbolic \
		-L$(EFI_LIB) $(EFI_LIB)/crt0-efi-x86_64.o $(ENROLL_OBJS) -o $@ -lefi -lgnuefi
$(B)/ENROLL.EFI: $(B)/efi/enroll.so
	$(OBJCOPY) -j .text -j .sdata -j .data -j .rodata -j .dynamic -j .dynsym -j .rel \
		-j .rela -j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 \
		--subsystem=10 $< $@

# ---------------------------------------------------------------- apps (musl, static)
# Apps keep -Wno-unused-parameter: signal handlers and thread functions
# have fixed signatures and often ignore their arguments.
APP_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Wno-unused-parameter -Iuser -Iinclude
MUSL_LIB   := /usr/lib/x86_64-linux-musl
$(B)/user/%.elf: user/%.c $(wildcard user/*.h include/solo/uapi/*.h)
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) -static $< -o $@
$(B)/tests/apps/%.elf: tests/apps/%.c $(wildcard tests/apps/*.h user/*.h include/solo/uapi/*.h)
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) -static $< -o $@
# Static-PIE flavour of a test app. Debian's musl-gcc specs always link Scrt1.o
# and name a dynamic linker; a static PIE needs musl's self-relocating rcrt1.o,
# static libc and no PT_INTERP, so the link is spelled out.
$(B)/tests/apps/%-pie.elf: tests/apps/%.c $(wildcard tests/apps/*.h user/*.h include/solo/uapi/*.h)
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) -fPIE -static-pie -nostartfiles $(MUSL_LIB)/rcrt1.o \
		$(MUSL_LIB)/crti.o $$($(CC) -print-file-name=crtbeginS.o) $< -Wl,-Bstatic \
		$$($(CC) -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o -Wl,--no-dynamic-linker -o $@

# The threads test app once more against glibc's pthreads (static), which
# tries clone3 first and uses other futex calls than musl.
$(B)/tests/apps/%-glibc.elf: tests/apps/%.c $(wildcard tests/apps/*.h)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -static -pthread $< -o $@

# Dynamically linked test programs (tests/boot/test_dynamic.c): dynhost,
# the library it links against and the plugin it dlopen()s, side by side in
# one directory per C library (RUNPATH $ORIGIN finds the libraries). glibc's
# loader is /lib64/ld-linux-x86-64.so.2, musl's /lib/ld-musl-x86_64.so.1.
DYN_SRC  := tests/apps/dynamic
DYN_DEPS := $(DYN_SRC)/dynlib.h
DYN_CC_glibc := $(CC)
DYN_CC_musl  := $(MUSLCC)
define dyn_rules
$(B)/tests/apps/dyn-$(1)/libdynlib.so: $(DYN_SRC)/dynlib.c $(DYN_DEPS)
	@mkdir -p $$(@D)
	$(DYN_CC_$(1)) $(APP_CFLAGS) -fPIC -shared -Wl,-soname,libdynlib.so $$< -o $$@
$(B)/tests/apps/dyn-$(1)/libdynplugin.so: $(DYN_SRC)/dynplugin.c $(DYN_DEPS) $(B)/tests/apps/dyn-$(1)/libdynlib.so
	$(DYN_CC_$(1)) $(APP_CFLAGS) -fPIC -shared $$< -L$$(@D) -ldynlib -Wl,-rpath,'$$$$ORIGIN' -o $$@
$(B)/tests/apps/dyn-$(1)/dynhost: $(DYN_SRC)/dynhost.c $(DYN_DEPS) $(B)/tests/apps/dyn-$(1)/libdynlib.so $(B)/tests/apps/dyn-$(1)/libdynplugin.so
	$(DYN_CC_$(1)) $(APP_CFLAGS) -fPIE -pie -pthread $$< -L$$(@D) -ldynlib -ldl -Wl,-rpath,'$$$$ORIGIN' -o $$@
endef
$(foreach libc,glibc musl,$(eval $(call dyn_rules,$(libc))))
DYN_APPS := $(foreach libc,glibc musl,$(B)/tests/apps/dyn-$(libc)/dynhost)

# tests/boot/test_exec.c: the auxv app dynamically linked (PT_INTERP), against
# glibc (gcc's default, a PIE) and against musl (/lib/ld-musl-x86_64.so.1).
$(B)/tests/apps/exec-auxv-gnu.elf: tests/apps/exec-auxv.c
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $< -o $@
$(B)/tests/apps/exec-auxv-musl.elf: tests/apps/exec-auxv.c
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) $< -o $@

# tests/boot/test_clocks.c: the vDSO app dynamically linked against glibc,
# whose ld.so finds the vDSO and takes all five calls from it.
$(B)/tests/apps/vdso-gnu.elf: tests/apps/vdso.c
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $< -o $@

USER_APPS := $(patsubst user/%.c,$(B)/user/%.elf,$(wildcard user/*.c))
TEST_APPS := $(patsubst tests/apps/%.c,$(B)/tests/apps/%.elf,$(wildcard tests/apps/*.c)) \
             $(B)/tests/apps/hello-pie.elf $(B)/tests/apps/where-pie.elf \
             $(B)/tests/apps/threads-glibc.elf $(B)/tests/apps/vdso-gnu.elf \
             $(B)/tests/apps/exec-auxv-gnu.elf $(B)/tests/apps/exec-auxv-musl.elf $(DYN_APPS)

# ---------------------------------------------------------------- host tools
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -I. -MMD -MP
# Arms the signed-image manifest in a copy of the stub (mkimg --sign).
$(B)/tools/solo-manifest: tools/solo-manifest.c efi/sha256.c efi/sha256.h include/solo/manifest.h
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) tools/solo-manifest.c efi/sha256.c -o $@
$(B)/tools/elfcheck: tools/elfcheck.c kernel/elf.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) tools/elfcheck.c kernel/elf.c -o $@

# ---------------------------------------------------------------- image
DEMO_ARGS ?= hello "from Solo"
IMAGE_INPUTS := $(B)/BOOTX64.EFI $(B)/kernel.elf $(B)/user/demo.elf $(B)/tools/elfcheck tools/mkimg.sh
$(B)/solo.img: $(IMAGE_INPUTS)
	tools/mkimg.sh -o $@ --app $(B)/user/demo.elf --args '$(DEMO_ARGS)' --env SOLO_DEMO=1

# ---------------------------------------------------------------- host tests
# Criterion tests over the real kernel modules that are pure C (mm/, the
# parsers, the wait queue, the file kinds, the formatter), built with
# ASan/UBSan, one object per source, against the shims in tests/unit/shim
# (panic aborts, "physical memory" is an arena, user addresses are host
# pointers). A module joins the host tests by being listed here.
UNIT_CFLAGS := $(HOST_CFLAGS) -O1 -DHOST_TEST -fsanitize=address,undefined \
        -fno-sanitize-recover=undefined -Itests/unit/shim
UNIT_MODULES := $(wildcard mm/*.c) kernel/elf.c kernel/exec.c kernel/bootcfg.c kernel/args.c kernel/kprintf.c \
        kernel/wait.c drivers/fbcon.c drivers/rtc.c drivers/acpi.c kernel/arch/x86_64/apic_timer.c \
        fs/tarfs.c fs/tmpfs.c fs/iobuf.c fs/file.c fs/pipe.c fs/ldisc.c fs/epoll.c \
        fs/eventfd.c fs/timerfd.c fs/fdtable.c fs/vfs.c fs/fcntl.c fs/procmaps.c fs/procstatus.c kernel/time.c kernel/defer.c \
        kernel/physpolicy.c efi/sha256.c efi/manifest.c drivers/kbd.c drivers/hidkbd.c drivers/usbdesc.c \
        kernel/spinlock.c
UNIT_SRCS := $(wildcard tests/unit/*.c tests/unit/shim/*.c) $(UNIT_MODULES)
# The network modules and lwIP itself, with the same lwipopts.h and port.
UNIT_NET_MODULES := net/lwip/port.c net/netcfg.c net/socket.c net/inet.c net/unix.c net/netlink.c
UNIT_OBJS := $(patsubst %.c,$(B)/unit/%.o,$(UNIT_SRCS) $(UNIT_NET_MODULES)) $(B)/unit/gen/font.o \
        $(patsubst %.c,$(B)/unit/lwip/%.o,$(LWIP_CORE))
UNIT_OBJS += $(B)/unit/vdso/image.o
UNIT_KCHECK_OBJS := $(patsubst $(B)/unit/%,$(B)/unit-kcheck/%,$(UNIT_OBJS))
# Criterion runs every test in a fresh exec of the binary, so start-up is
# paid once a test: the sanitizer runtimes linked in, not loaded and
# relocated each time, take a fifth off the unit phase.
UNIT_LDFLAGS := -static-libasan -static-libubsan
FLAGS_unit = $(CC) $(UNIT_CFLAGS)

$(B)/unit/%.o: %.c $(B)/flags/unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(UNIT_INC) -c $< -o $@
$(patsubst %.c,$(B)/unit/%.o,$(UNIT_NET_MODULES)): $(LWIP)/.fetched
# (UNIT_INC, not UNIT_CFLAGS +=: a target's variables reach its
# prerequisites, and the flags stamp would flip between two values.)
$(patsubst %.c,$(B)/unit/%.o,$(UNIT_NET_MODULES)): UNIT_INC := $(LWIP_INC)
# Tests that build lwIP's structures themselves (interfaces for netlink).
UNIT_NET_TESTS := tests/unit/test_netlink.c
$(patsubst %.c,$(B)/unit/%.o,$(UNIT_NET_TESTS)): $(LWIP)/.fetched
$(patsubst %.c,$(B)/unit/%.o,$(UNIT_NET_TESTS)): UNIT_INC := $(LWIP_INC)
# mm/ with its allocation-failure points compiled in, as the sanitized
# kernel has them (tests/unit/test_failinj.c); disarmed, they answer false.
$(patsubst %.c,$(B)/unit/%.o,$(wildcard mm/*.c)): UNIT_INC := -DSOLO_FAILINJ=1
$(patsubst %.c,$(B)/unit-kcheck/%.o,$(wildcard mm/*.c)): UNIT_INC := -DSOLO_FAILINJ=1
$(B)/unit/lwip/%.o: $(LWIP)/.fetched $(LWIP_PORT_HDRS) $(B)/flags/unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -w $(LWIP_INC) -c $(LWIP)/tree/src/$*.c -o $@
$(B)/unit/gen/font.o: $(B)/gen/font.c $(B)/flags/unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -c $< -o $@
# The vDSO image as the kernel embeds it (tests/unit/test_vdso.c reads and runs it).
$(B)/unit/vdso/image.o $(B)/unit-kcheck/vdso/image.o: vdso/image.S $(VDSO_SO)
	@mkdir -p $(@D)
	$(CC) -DVDSO_SO='"$(VDSO_SO)"' -c $< -o $@
$(B)/tests/unit_tests: $(UNIT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(UNIT_LDFLAGS) $(UNIT_OBJS) -o $@ -lcriterion

# The same host tests with kmalloc's canaries compiled in (the KMALLOC_CHECK
# tests in tests/unit/test_kmalloc.c exist only in this build).
$(B)/unit-kcheck/%.o: %.c $(B)/flags/unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(UNIT_INC) -DKMALLOC_CHECK=1 -c $< -o $@
$(patsubst %.c,$(B)/unit-kcheck/%.o,$(UNIT_NET_MODULES)): $(LWIP)/.fetched
$(patsubst %.c,$(B)/unit-kcheck/%.o,$(UNIT_NET_MODULES)): UNIT_INC := $(LWIP_INC)
$(patsubst %.c,$(B)/unit-kcheck/%.o,$(UNIT_NET_TESTS)): $(LWIP)/.fetched
$(patsubst %.c,$(B)/unit-kcheck/%.o,$(UNIT_NET_TESTS)): UNIT_INC := $(LWIP_INC)
$(B)/unit-kcheck/lwip/%.o: $(LWIP)/.fetched $(LWIP_PORT_HDRS) $(B)/flags/unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -DKMALLOC_CHECK=1 -w $(LWIP_INC) -c $(LWIP)/tree/src/$*.c -o $@
$(B)/unit-kcheck/gen/font.o: $(B)/gen/font.c $(B)/flags/unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -DKMALLOC_CHECK=1 -c $< -o $@
$(B)/tests/unit_tests_kcheck: $(UNIT_KCHECK_OBJS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(UNIT_LDFLAGS) $(UNIT_KCHECK_OBJS) -o $@ -lcriterion

BOOT_TEST_SRCS := $(wildcard tests/boot/*.c) $(B)/gen/font.c
$(B)/tests/boot_tests: $(BOOT_TEST_SRCS) $(wildcard tests/boot/*.h) drivers/fbcon.h
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(BOOT_TEST_SRCS) -o $@ -lcriterion

# ---------------------------------------------------------------- host fuzzers (issue 15)
# libFuzzer over the real code that takes outside input (tests/fuzz/
# fuzz_<t>.c): the ELF checks, the #! line, args_split, boot.cfg, the tar
# rootfs reader, the ACPI tables, and Ethernet frames into lwIP with the
# socket layer listening; built with Debian's clang, ASan and UBSan,
# against the unit tests' shims. Seed corpora: tests/fuzz/corpus/<t>/
# (hand-written) plus what tests/fuzz/seeds.sh generates from the build
# (apps, kernel, tar; ELF, ACPI tables and frames from
# tests/fuzz/gen_seeds.c) into $(B)/fuzz/seeds/<t>/.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="elf acpi"]
#       each target for FUZZ_SECONDS, growing $(B)/fuzz/corpus/<t>/; prints
#       libFuzzer's "Done N runs" per target. A crash stops it and leaves
#       its input in $(B)/fuzz/crash/<t>-*: fix the module, then keep the
#       input as a seed (tests/fuzz/corpus/<t>/ when readable, else made by
#       gen_seeds.c as regress-*) and add a unit test where one fits.
#   make test-fuzz (part of make test)
#       replays every seed (regress-* are the inputs of bugs found), then
#       runs each target with -seed=1 up to FUZZ_TEST_RUNS inputs (seeds
#       included) from an empty scratch corpus: reproducible (see below),
#       ~15 s in all.
FUZZ_CC      := clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=gnu11 -O1 -g $(WARN) -DHOST_TEST -Iinclude -I. -Itests/unit/shim \
        -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP
FUZZ_ALL     := elf exec args bootcfg tarfs acpi net usbdesc
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_TEST_RUNS ?= 20000
FUZZ_TEST_RUNS_tarfs := 8000 # a tmpfs mounted, filled and checked per run: ~1500 runs/s
FUZZ_BINS    := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_ALL))
FLAGS_fuzz = $(FUZZ_CC) $(FUZZ_CFLAGS)

# The kernel modules each fuzzer runs (besides tests/fuzz/fuzz_<t>.c).
FUZZ_MODS_elf     := kernel/elf.c
FUZZ_MODS_exec    := kernel/exec.c
FUZZ_MODS_args    := kernel/args.c
FUZZ_MODS_bootcfg := kernel/bootcfg.c
FUZZ_MODS_tarfs   := fs/tarfs.c fs/tmpfs.c fs/vfs.c fs/file.c fs/iobuf.c fs/fdtable.c \
        fs/fcntl.c fs/epoll.c fs/pipe.c kernel/time.c kernel/wait.c $(wildcard mm/*.c) \
        kernel/kprintf.c kernel/spinlock.c $(wildcard tests/unit/shim/*.c)
FUZZ_LIBS_tarfs   := -lcriterion
FUZZ_MODS_acpi    := drivers/acpi.c
FUZZ_MODS_usbdesc := drivers/usbdesc.c drivers/hidkbd.c drivers/kbd.c
# The network: lwIP's core as the unit tests build it, the socket layer,
# and what they call (the file layer, mm/, the shims).
FUZZ_MODS_net     := $(UNIT_NET_MODULES) fs/tmpfs.c fs/vfs.c fs/file.c fs/iobuf.c fs/fdtable.c \
        fs/fcntl.c fs/epoll.c fs/pipe.c kernel/time.c kernel/wait.c $(wildcard mm/*.c) \
        kernel/kprintf.c kernel/spinlock.c $(wildcard tests/unit/shim/*.c)
FUZZ_LIBS_net     := -lcriterion
FUZZ_LWIP_OBJS    := $(patsubst %.c,$(B)/fuzz/lwip/%.o,$(LWIP_CORE))
$(B)/fuzz/fuzz_net: $(FUZZ_LWIP_OBJS)
$(B)/fuzz/lwip/%.o: $(LWIP)/.fetched $(LWIP_PORT_HDRS) $(B)/flags/fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -w $(LWIP_INC) -c $(LWIP)/tree/src/$*.c -o $@
FUZZ_NET_OBJS := $(patsubst %.c,$(B)/fuzz/obj/%.o,tests/fuzz/fuzz_net.c $(UNIT_NET_MODULES))
$(FUZZ_NET_OBJS): $(LWIP)/.fetched
# (Not FUZZ_CFLAGS +=: a target's variables reach its prerequisites, and
# the flags stamp would flip between two values, rebuilding everything.)
$(FUZZ_NET_OBJS): FUZZ_INC := $(LWIP_INC)

$(B)/fuzz/obj/%.o: %.c $(B)/flags/fuzz
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_INC) -c $< -o $@
define fuzz_rules
$(B)/fuzz/fuzz_$(1): $(patsubst %.c,$(B)/fuzz/obj/%.o,tests/fuzz/fuzz_$(1).c $(FUZZ_MODS_$(1)))
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $$(filter %.o,$$^) -o $$@ $(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz_rules,$(t))))

# The generated seeds, from the build's own ELF files.
FUZZ_SEED_INPUTS := tests/fuzz/seeds.sh $(B)/tools/fuzz-gen-seeds $(B)/kernel.elf \
        $(B)/tests/apps/hello.elf $(B)/tests/apps/hello-pie.elf $(B)/tests/apps/exec-auxv-musl.elf
$(B)/tools/fuzz-gen-seeds: tests/fuzz/gen_seeds.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $< -o $@
$(B)/fuzz/seeds/.done: $(FUZZ_SEED_INPUTS) $(wildcard tests/fuzz/corpus/*/*)
	tests/fuzz/seeds.sh $(B) $(B)/fuzz/seeds
	touch $@

FUZZ_RUN = $(B)/fuzz/fuzz_$(t) -artifact_prefix=$(B)/fuzz/crash/$(t)- -print_final_stats=0

fuzz: $(FUZZ_BINS) $(B)/fuzz/seeds/.done
	@mkdir -p $(B)/fuzz/crash
	@for t in $(FUZZ_TARGETS); do mkdir -p $(B)/fuzz/corpus/$$t; done
	@$(foreach t,$(FUZZ_TARGETS),echo "fuzz: $(t) for $(FUZZ_SECONDS) s"; \
		$(FUZZ_RUN) -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus/$(t) \
		$(B)/fuzz/seeds/$(t) > $(B)/fuzz/$(t).log 2>&1 || \
		{ tail -n 40 $(B)/fuzz/$(t).log; exit 1; }; \
		echo "fuzz: $(t): $$(grep '^Done ' $(B)/fuzz/$(t).log)";)

# Reproducible, whatever the environment: -use_cmp=0 keeps compared
# values (pointers among them: the stack moves with the environment's
# size) out of the mutations; setarch -R (util-linux) turns address
# randomization off; -rss_limit_mb=0 stops libFuzzer's memory-watching
# thread, whose allocations moved the heap. (make fuzz runs without them.)
# The replay is exact; of the fixed-seed runs, fuzz_elf's still differs by
# an edge or two between runs (cause not found yet), the others not.
test-fuzz: $(FUZZ_BINS) $(B)/fuzz/seeds/.done
	@mkdir -p $(B)/fuzz/crash
	@$(foreach t,$(FUZZ_ALL),rm -rf $(B)/fuzz/scratch/$(t) && mkdir -p $(B)/fuzz/scratch/$(t) && \
		setarch -R $(FUZZ_RUN) -use_cmp=0 -rss_limit_mb=0 -seed=1 -runs=$(or $(FUZZ_TEST_RUNS_$(t)),$(FUZZ_TEST_RUNS)) \
		$(B)/fuzz/scratch/$(t) \
		$(B)/fuzz/seeds/$(t) > $(B)/fuzz/$(t)-test.log 2>&1 || \
		{ tail -n 40 $(B)/fuzz/$(t)-test.log; exit 1; }; \
		echo "test-fuzz: $(t): $$(grep '^Done ' $(B)/fuzz/$(t)-test.log)";)
# ---------------------------------------------------------------- (end of host fuzzers)

# ---------------------------------------------------------------- host benchmark (make bench)
# The real mm/*.c at -O2 without sanitizers, over the unit tests' console
# and panic shim, next to glibc malloc in the same run (bench/mm_bench.c).
BENCH_CFLAGS := $(HOST_CFLAGS) -O2 -DHOST_TEST
BENCH_SRCS := bench/mm_bench.c tests/unit/shim/shim.c $(wildcard mm/*.c) kernel/kprintf.c
$(B)/bench/mm_bench: $(BENCH_SRCS) $(wildcard bench/*.h mm/*.h kernel/*.h kernel/abi/*.h)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(BENCH_SRCS) -o $@

# The in-guest part: bench/app_bench.c booted as the app. ICOUNT=1 runs QEMU
# with -icount shift=0, where the guest TSC counts guest instructions.
$(B)/bench/app_bench.elf: bench/app_bench.c $(wildcard user/*.h include/solo/uapi/*.h)
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) -static $< -o $@
comma := ,
BENCH_QEMU_ARGS := $(if $(filter 1,$(ICOUNT)),--qemu-arg -icount --qemu-arg shift=0$(comma)align=off$(comma)sleep=off)

# Python against a static program (bench/first_line.py, bench/first_line.c):
# the static program is the one ELF on the image; Python's image holds what
# it loads to run its script (tests/apps/dynamic/stage.sh), nothing more.
$(B)/bench/first_line.elf: bench/first_line.c
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) -static $< -o $@
BENCH_PY := $(B)/bench/py

bench:
	tools/deps.sh --src
	$(MAKE) $(B)/bench/mm_bench all $(B)/bench/app_bench.elf $(B)/bench/first_line.elf
	$(B)/bench/mm_bench
	tools/mkimg.sh -o $(B)/bench/app_bench.img --app $(B)/bench/app_bench.elf >/dev/null
	tools/qemu.sh $(B)/bench/app_bench.img --serial $(B)/bench/app_bench.log --timeout 300 \
		$(BENCH_QEMU_ARGS) >/dev/null
	@tr -d '\r' < $(B)/bench/app_bench.log | awk -v icount=$(if $(filter 1,$(ICOUNT)),1,0) \
		-v linux=$(LINUX_BOOT_INSNS) '$(BENCH_BOOT_AWK)'
	rm -rf $(BENCH_PY) && mkdir -p $(BENCH_PY)/root $(BENCH_PY)/work
	cp bench/first_line.py $(BENCH_PY)/work/script.py
	tests/apps/dynamic/stage.sh python $(BENCH_PY)/root $(BENCH_PY)/work
	cp bench/first_line.py $(BENCH_PY)/root/first_line.py
	tools/mkimg.sh -o $(B)/bench/python.img --file $(BENCH_PY)/root:/ --app /usr/bin/python3.11 \
		--name python3 --args "-B /first_line.py" --env LANG=C.UTF-8 >/dev/null
	tools/qemu.sh $(B)/bench/python.img --serial $(B)/bench/python.log --timeout 300 \
		$(BENCH_QEMU_ARGS) >/dev/null
	tools/mkimg.sh -o $(B)/bench/static.img --app $(B)/bench/first_line.elf >/dev/null
	tools/qemu.sh $(B)/bench/static.img --serial $(B)/bench/static.log --timeout 300 \
		$(BENCH_QEMU_ARGS) >/dev/null
	@tr -d '\r' < $(B)/bench/python.log > $(B)/bench/python.txt
	@tr -d '\r' < $(B)/bench/static.log > $(B)/bench/static.txt
	@awk -v icount=$(if $(filter 1,$(ICOUNT)),1,0) '$(BENCH_PY_AWK)' \
		$(B)/bench/python.txt $(B)/bench/static.txt
	$(MAKE) bench-smp

# Boot cost: the TSC at the app's main (its first line) minus the TSC at the
# stub's entry (the kernel's "solo: boot: stub entry tsc" line, log=info).
# Under ICOUNT=1 the TSC counts guest instructions. Linux 6.1 (Debian) needs
# ~6.2e9 from BOOTX64.EFI to the app in the same setup, ~2.37e9 of them in
# the firmware: 3.83e9 are its own.
LINUX_BOOT_INSNS := 3830000000
BENCH_BOOT_AWK := \
	/^solo: boot: stub entry tsc / { stub = $$6 } \
	/^bench: boot_to_app_tsc / { app = $$3 } \
	/^bench:/ { print } \
	END { \
		if (!stub || !app) { print "bench: boot figure missing from the serial log"; exit 1 } \
		if (icount) { \
			printf "bench: boot_instructions %.0f insns\n", app - stub; \
			printf "bench: boot_vs_linux %.4f x\n", (app - stub) / linux; \
		} else \
			printf "bench: boot_stub_to_app %.0f tsc (ICOUNT=1 counts instructions)\n", app - stub; \
	}
# Stub to first line, for each of python and static: the app writes
# CLOCK_MONOTONIC (ns) in its first line; the kernel's "monotonic zero" line
# gives the TSC at ns 0 and the TSC rate, so the line's TSC is
# zero + ns * hz / 1e9 (the static program also prints the TSC it read, a
# check of the conversion: static_ns_check is the difference, in TSC).
# Resident: VmRSS from /proc/self/status, read by the program just before
# it exits, in 4 KiB pages.
BENCH_PY_AWK := \
	FNR == 1 { app = FILENAME ~ /python/ ? "python" : "static" } \
	/^solo: boot: stub entry tsc / { stub[app] = $$6 } \
	/^solo: boot: monotonic zero tsc / { zero[app] = $$6 + 0; hz[app] = $$8 } \
	/^bench: (python|static)_first_line_ns / { ns[app] = $$3 } \
	/^bench: static_first_line_tsc / { direct = $$3 } \
	/^bench: (python|static)_rss_kb / { rss[app] = $$3 / 4 } \
	END { \
		unit = icount ? "insns" : "tsc (ICOUNT=1 counts instructions)"; \
		for (i = 0; i < 2; i++) { \
			a = i ? "static" : "python"; \
			if (!stub[a] || !hz[a] || ns[a] == "" || !rss[a]) { \
				print "bench: " a " figures missing from the serial log"; exit 1 } \
			line[a] = zero[a] + ns[a] * hz[a] / 1e9 - stub[a]; \
			printf "bench: %s_stub_to_first_line %.0f %s\n", a, line[a], unit; \
			printf "bench: %s_resident_pages %d pages\n", a, rss[a]; \
		} \
		printf "bench: static_ns_check %.0f tsc (first line: from ns minus read)\n", \
			zero["static"] + ns["static"] * hz["static"] / 1e9 - direct; \
		printf "bench: first_line_python_vs_static %.2f x\n", line["python"] / line["static"]; \
		printf "bench: resident_python_vs_static %.2f x\n", rss["python"] / rss["static"]; \
	}
# ---------------------------------------------------------------- (end of host benchmark)

# ---------------------------------------------------------------- real programs (issue 5)
# tests/boot/test_real.c boots unmodified Debian programs and compares their
# output with the same static binary run on the host. tools/real-programs.sh
# fetches them with `apt-get source`, pinned by version and .dsc checksum
# (deb-src sources, tclsh and Go: tools/deps.sh --src), builds them with
# musl-gcc -static, and the Go test program with Debian's Go, into
# $(B)/real/, skipping what is done. Only `make test` needs them: `make all`
# and `make run` never touch the network. The script rebuilds only what is
# stale, so the touch tells make that the whole group is up to date.
REAL_PROGRAMS := $(B)/real/lua $(B)/real/bzip2 $(B)/real/sqlite3 $(B)/real/gotest \
                 $(B)/real/httpd $(B)/real/nginx
$(REAL_PROGRAMS) &: tools/real-programs.sh tests/real/go/gotest.go $(wildcard tests/real/go/httpd/*.go)
	tools/real-programs.sh $(B)/real
	touch $(REAL_PROGRAMS)
real-programs:
	tools/deps.sh --src
	$(MAKE) $(REAL_PROGRAMS)
# ---------------------------------------------------------------- (end of real programs)

# ---------------------------------------------------------------- network benchmark (make bench-net)
# tools/netload: the HTTP load client of the benchmark and of the network
# tests (fixed request counts, bounded in time). make bench-net boots nginx
# and the Go httpd on Solo and on Debian's Linux 6.1 (tools/linux-peer.sh)
# under the same QEMU command and prints the table (tools/bench-net.sh;
# BENCH_NET_ARGS="--server nginx --nic e1000e --runs 3" picks). Not a test.
$(B)/tools/netload: tools/netload.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -pthread $< -o $@
BENCH_NET_ARGS ?=
bench-net:
	tools/deps.sh --src
	$(MAKE) all $(B)/tools/netload $(REAL_PROGRAMS)
	tools/bench-net.sh $(BENCH_NET_ARGS)
# ---------------------------------------------------------------- (end of network benchmark)

# ---------------------------------------------------------------- network torture (issue 15)
# tools/nettorture: the guest's whole Ethernet link through QEMU's stream
# netdev (tools/qemu.sh --net stream:PATH): its DHCP server and gateway, a
# seeded stream of hostile frames, and valid TCP/UDP echo exchanges with
# tests/apps/netserve.c in between. make test runs a short campaign
# (tests/boot/test_net_torture.c); make torture-net a long one:
#   make torture-net TORTURE_FRAMES=200000 TORTURE_SEED=7 TORTURE_NIC=e1000e
$(B)/tools/nettorture: tools/nettorture.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $< -o $@
TORTURE_FRAMES ?= 100000
TORTURE_SEED   ?= 1
TORTURE_NIC    ?= virtio
TORTURE_DIR    := $(B)/torture-net
torture-net:
	tools/deps.sh --src
	$(MAKE) all $(B)/tools/nettorture $(B)/tests/apps/netserve.elf
	@mkdir -p $(TORTURE_DIR)
	tools/mkimg.sh -o $(TORTURE_DIR)/netserve.img --app $(B)/tests/apps/netserve.elf --args 7777
	rm -f $(TORTURE_DIR)/link.sock; \
	tools/qemu.sh $(TORTURE_DIR)/netserve.img --serial $(TORTURE_DIR)/serial.log \
		--timeout $$(( $(TORTURE_FRAMES) / 20 + 600 )) --nic $(TORTURE_NIC) \
		--net stream:$(TORTURE_DIR)/link.sock & q=$$!; \
	$(B)/tools/nettorture --socket $(TORTURE_DIR)/link.sock --frames $(TORTURE_FRAMES) \
		--seed $(TORTURE_SEED) -v; t=$$?; wait $$q; s=$$?; \
	grep -a -E '^(solo: (memory|exit|panic|app killed)|netserve: )' $(TORTURE_DIR)/serial.log; \
	echo "torture-net: nettorture status $$t, qemu.sh status $$s (log: $(TORTURE_DIR)/serial.log)"; \
	test $$t -eq 0 && test $$s -eq 0 && tr -d '\r' <$(TORTURE_DIR)/serial.log | \
		awk '/^solo: memory: .* pages free after the app, / { ok = $$3 == $$9 } END { exit !ok }'
# ---------------------------------------------------------------- (end of network torture)

# ---------------------------------------------------------------- app benchmark (make bench-apps)
# One static driver of real code (bench/apps/appbench.c, with sqlite3 and
# Lua 5.4 from the real programs' pinned Debian sources) on Solo and on
# Debian's Linux 6.1 (tools/linux-peer.sh --apps), same QEMU -icount command:
# each workload's guest instructions, its checksum against the host's, and
# Solo/Linux (tools/bench-apps.sh; logs in build/bench/apps/). Not a test.
# WORKLOADS="malloc mmap" picks (in that order), RUNS=1 boots each once
# [3], JOBS=2 runs two QEMUs at once (same figures, -icount counts
# instructions) [1], SOLO_ONLY=1 boots Solo only and reuses the last Linux
# figures (to iterate on Solo).
WORKLOADS ?=
RUNS ?=
JOBS ?=
SOLO_ONLY ?=
bench-apps:
	tools/deps.sh --src
	$(MAKE) all $(REAL_PROGRAMS)
	tools/bench-apps.sh $(if $(strip $(WORKLOADS)),--workloads "$(strip $(WORKLOADS))") \
		$(if $(RUNS),--runs $(RUNS)) $(if $(JOBS),--jobs $(JOBS)) $(if $(filter 1,$(SOLO_ONLY)),--solo-only)
# ---------------------------------------------------------------- (end of app benchmark)

# ---------------------------------------------------------------- SMP benchmark (make bench-smp)
# bench/smp_bench.c (issue 13): a CPU-bound job and a page-fault-heavy job on
# 1 thread then 2 (the speedups) and a futex ping-pong between two threads
# (ns per round trip), the same static binary on Solo and on Debian's Linux
# 6.1 (tools/linux-peer.sh --apps, its /init runs `/appbench all`), booted by
# the same tools/qemu.sh command with 2 CPUs under TCG (multi-threaded TCG:
# one host thread per vCPU), then Solo/Linux. Wall-clock figures
# (CLOCK_MONOTONIC in the guest): -icount would serialize the vCPUs, so they
# mean something only on an otherwise idle host with 2 free cores. Not a
# test; exit status 1 when a figure is missing or a checksum differs between
# the thread counts or the kernels. Logs: build/bench/smp/{solo,linux}.log.
# BENCH_SMP_QEMU_ARGS adds to both QEMU commands.
SMP_DIR := $(B)/bench/smp
BENCH_SMP_QEMU := --smp 2 --mem 1G --accel tcg --timeout 900 $(BENCH_SMP_QEMU_ARGS)
$(B)/bench/smp_bench.elf: bench/smp_bench.c
	@mkdir -p $(@D)
	$(MUSLCC) $(APP_CFLAGS) -static $< -o $@
# Both logs' bench: lines side by side; the checksums must agree across
# kernels, the ratio is Solo/Linux for each timed figure.
BENCH_SMP_AWK := \
	{ sub(/\r$$/, "") } \
	{ k = FILENAME ~ /solo[^\/]*$$/ ? "solo" : "linux" } \
	/^bench: [a-z0-9_]+ [^ ]+ [a-z]+$$/ { \
		if (!($$2 in seen)) { seen[$$2] = 1; order[n++] = $$2 } \
		v[k, $$2] = $$3; unit[$$2] = $$4 } \
	/^bench: .* (failed|differ|changed)/ { print k ": " $$0; bad = 1 } \
	END { \
		printf "bench: %-24s %14s %14s %10s\n", "figure (smp 2)", "solo", "linux", "solo/linux"; \
		for (i = 0; i < n; i++) { f = order[i]; s = v["solo", f]; l = v["linux", f]; \
			if (s == "" || l == "") { bad = 1; s = s == "" ? "missing" : s; l = l == "" ? "missing" : l } \
			r = ""; \
			if (unit[f] == "hex") { if (s != l) { r = "DIFFER"; bad = 1 } else r = "same" } \
			else if (l + 0 > 0 && s != "missing") r = sprintf("%.3f", s / l); \
			printf "bench: %-24s %14s %14s %10s %s\n", f, s, l, r, unit[f] } \
		if (v["solo", "smp_errors"] != "0" || v["linux", "smp_errors"] != "0") bad = 1; \
		exit bad }
bench-smp:
	tools/deps.sh --src
	$(MAKE) all $(B)/bench/smp_bench.elf
	@mkdir -p $(SMP_DIR)/tree/bench $(SMP_DIR)/linux/debs
	@# The peer's /init reads /bench/* first (bench-apps's inputs): one empty file.
	@[ -e $(SMP_DIR)/tree/bench/none ] || touch $(SMP_DIR)/tree/bench/none
	@# -p: the peer's image is rebuilt only when the binary changed.
	cp -p $(B)/bench/smp_bench.elf $(SMP_DIR)/tree/appbench
	@# The same Debian packages as make bench-apps's peer, when it has fetched them.
	@for d in $(B)/bench/linux/debs/*.deb; do [ -f "$$d" ] && ln -f "$$d" $(SMP_DIR)/linux/debs/ || true; done
	tools/linux-peer.sh --apps $(SMP_DIR)/tree --workloads all $(SMP_DIR)/linux
	tools/mkimg.sh -o $(SMP_DIR)/solo.img --app $(B)/bench/smp_bench.elf --args all >/dev/null
	@echo "bench-smp: host load before the runs: $$(cut -d' ' -f1-3 /proc/loadavg)"
	@t=$$(date +%s); tools/qemu.sh $(SMP_DIR)/solo.img --serial $(SMP_DIR)/solo.log $(BENCH_SMP_QEMU) \
		>/dev/null; st=$$?; echo "bench-smp: solo: $$(( $$(date +%s) - t )) s, qemu.sh status $$st"
	@# Linux ends with poweroff: qemu.sh's status is 125 (no "solo: exit").
	@t=$$(date +%s); tools/qemu.sh $(SMP_DIR)/linux/linux-apps.img --serial $(SMP_DIR)/linux.log \
		$(BENCH_SMP_QEMU) >/dev/null; st=$$?; \
		echo "bench-smp: linux: $$(( $$(date +%s) - t )) s, qemu.sh status $$st"
	@echo "bench-smp: host load after the runs: $$(cut -d' ' -f1-3 /proc/loadavg)"
	@awk '$(BENCH_SMP_AWK)' $(SMP_DIR)/solo.log $(SMP_DIR)/linux.log
# ---------------------------------------------------------------- (end of SMP benchmark)

# ---------------------------------------------------------------- top-level targets
.PHONY: all image deps run debug test test-unit test-boot soak-smp clean format-check check-layers bench \
        real-programs bench-net bench-apps bench-smp fuzz test-fuzz torture-net fuzz-guest kernel-san \
        test-sanitized test-boot-smp sweep-alloc

all: $(B)/BOOTX64.EFI $(B)/ENROLL.EFI $(B)/kernel.elf $(USER_APPS) $(B)/tools/elfcheck $(B)/tools/solo-manifest $(B)/solo.img \
     $(B)/gen/syscalls-doc.ok
image: $(B)/solo.img

deps:
	tools/deps.sh --src

QEMU_ARGS ?=
run:
	tools/deps.sh --src
	$(MAKE) image
	tools/qemu.sh $(B)/solo.img $(QEMU_ARGS)

debug:
	tools/deps.sh --src --debug
	$(MAKE) image
	@echo "QEMU waits for gdb on :1234. In another terminal: gdb -x tools/gdbinit"
	tools/qemu.sh $(B)/solo.img --gdb $(QEMU_ARGS)

TEST_ARTIFACTS := all $(B)/tests/unit_tests $(B)/tests/unit_tests_kcheck $(B)/tests/boot_tests $(TEST_APPS) \
                  $(B)/test/kernel-panic.elf $(REAL_PROGRAMS) $(B)/tools/netload \
                  $(B)/tools/nettorture $(B)/kernel-san.elf $(B)/test/kernel-san-faults.elf

test:
	tools/deps.sh --src
	$(MAKE) format-check check-layers
	$(MAKE) -j$(NPROC) $(TEST_ARTIFACTS) $(FUZZ_BINS) $(B)/fuzz/seeds/.done
	$(MAKE) test-unit
	$(MAKE) test-fuzz
	$(MAKE) test-boot

# The in-guest campaigns (issue 15): per seed, one boot of each of
# tests/apps/fuzz.c's modes (raw syscalls, memory calls, io from threads
# under signals; mmt and iot: memory calls and io on four CPUs) and one of
# tests/apps/fsx.c (FSX_OPS operations, its line compared with the same
# binary's on this host), FUZZ_GUEST_JOBS at a time; fails on a panic, a
# leaked page, a timeout or a missing survived line.
#   make fuzz-guest [SEEDS="1 2 3"] [MODES="raw mm mmt io iot fsx"] [FSX_OPS=100000]
SEEDS ?= $(shell seq 1 16)
MODES ?= raw mm mmt io iot fsx
FSX_OPS ?= 100000
FUZZ_GUEST_JOBS ?= $(NPROC)
fuzz-guest: all $(B)/tests/apps/fuzz.elf $(B)/tests/apps/fsx.elf
	tests/boot/fuzz-guest.sh $(B) "$(SEEDS)" "$(MODES)" $(FUZZ_GUEST_JOBS) $(FSX_OPS)

# The SMP app's futex ping-pong across two CPUs for a million rounds (make
# test runs 5000), with the rest of that boot test's checks.
soak-smp: $(TEST_ARTIFACTS)
	SOLO_ROOT=$(CURDIR) SOLO_SMP_ROUNDS=1000000 $(B)/tests/boot_tests \
		--filter 'smp/app_threads_run_on_two_cpus'

# The canary build runs the same tests over the same code: the first run's
# leak check holds for it, and the second's would only double its cost.
test-unit: $(B)/tests/unit_tests $(B)/tests/unit_tests_kcheck
	$(B)/tests/unit_tests --jobs=$(NPROC)
	ASAN_OPTIONS=detect_leaks=0 $(B)/tests/unit_tests_kcheck --jobs=$(NPROC)

# The boot tests boot what they test: everything they build images from.
test-boot: $(TEST_ARTIFACTS)
	SOLO_ROOT=$(CURDIR) $(B)/tests/boot_tests --jobs=$(NPROC)

# The boot suite once more on the sanitized kernel (harness_mkimg takes
# $SOLO_KERNEL); FILTER='suite/*' runs part of it. Not part of make test.
FILTER ?=
test-sanitized: $(TEST_ARTIFACTS)
	SOLO_ROOT=$(CURDIR) SOLO_KERNEL=$(CURDIR)/$(B)/kernel-san.elf $(B)/tests/boot_tests \
		--jobs=$(NPROC) $(if $(FILTER),--filter '$(FILTER)')

# The boot suite with CPUS CPUs in every boot that names no count
# (tools/qemu.sh's $$SOLO_QEMU_SMP); the two tests of one CPU's view name
# theirs. FILTER='suite/*' runs part of it. Not part of make test.
CPUS ?= 4
test-boot-smp: $(TEST_ARTIFACTS)
	SOLO_ROOT=$(CURDIR) SOLO_QEMU_SMP=$(CPUS) $(B)/tests/boot_tests \
		--jobs=$(NPROC) $(if $(FILTER),--filter '$(FILTER)')

# The full allocation-failure sweep (tests/boot/test_sweep.c); STEPS and
# SEEDS set how many Nth and random boots each workload gets.
STEPS ?= 40
SEEDS ?= 10
sweep-alloc: $(TEST_ARTIFACTS)
	SOLO_ROOT=$(CURDIR) SOLO_SWEEP=full SOLO_SWEEP_STEPS=$(STEPS) SOLO_SWEEP_SEEDS=$(SEEDS) \
		$(B)/tests/boot_tests --jobs=$(NPROC) --filter 'sweep/full_*' --verbose

clean:
	rm -rf $(B)

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# The include arrows of docs/architecture.md.
check-layers:
	tools/check-layers.sh

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
