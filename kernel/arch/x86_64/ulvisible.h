/*
 * UL_VISIBLE (Xelix): kernel code and data that must stay mapped while the
 * app's page tables are active. The app's view of the address space holds
 * the app's pages and these pages only, at the same virtual addresses as in
 * the kernel's view and supervisor-only, so the entry code can run, reach
 * the kernel's page-table root and switch to it.
 *
 * What lives there, and why each is needed before the switch:
 *   - the syscall, interrupt and exception entry/exit trampolines (trap.S,
 *     syscall.S): the CPU jumps to them with the app's CR3 still loaded;
 *   - the GDT, IDT and TSS: the CPU reads them on every interrupt;
 *   - the stacks the CPU switches to on entry (TSS rsp0 / IST, and the
 *     syscall stack): it pushes the frame before any code of ours runs;
 *   - the two page-table roots and the syscall scratch slot.
 * Everything else of the kernel is absent from the app's page tables.
 *
 * The linker script collects these into page-aligned ranges: text (RX) and
 * data (RW, NX), bounded by __ulvisible_{text,data}_{start,end}.
 */
#pragma once

#define UL_VISIBLE	__attribute__((section(".ulvisible.data"), aligned(16)))
#define UL_VISIBLE_TEXT __attribute__((section(".ulvisible.text")))
